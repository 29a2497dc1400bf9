// Right before a campaign recipient is handed to a transport, the checklist
// (STYLE 3, Postal's processor): still subscribed to the list? not
// suppressed? then compose, sign, deliver. An unsubscribe or a hard bounce
// therefore stops the rest of a running campaign at once (MJ-7, MC-9): it is
// checked here, not only when the campaign was enqueued.
import type { Kysely } from 'kysely';
import type { Database, List, Recipient } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Domains } from '../accounts/domains.ts';
import type { Profiles } from '../accounts/profile.ts';
import type { Streams } from '../accounts/streams.ts';
import type { Templates } from './templates.ts';
import { DkimSigner } from '../compose/dkim.ts';
import { appendEvents } from '../events/log.ts';
import { hotQuery } from '../store/hot.ts';
import { campaignShape, composeForRecipient, type CampaignShape } from './compose-campaign.ts';

export interface DispatchDeps {
  db: Kysely<Database>;
  clock: Clock;
  secrets: Secrets;
  domains: Domains;
  profiles: Profiles;
  streams: Streams;
  templates: Templates;
  publicUrl(): string;
  /** tenant allowed? (reputation/controls.ts: suspended, throttled, capped, domain paused at a provider): null, or hold the row until a time */
  gate?(r: Recipient, fromDomain: string): Promise<{ hold: number; reason: string } | null>;
}

/** hold: not now, the row waits in the queue until then (the tenant's state may change); drop: never */
export type Decision = { deliver: Buffer } | { drop: string } | { hold: number; reason: string };

export function createDispatch(d: DispatchDeps) {
  const { db, clock } = d;
  // one shape per campaign: the template, signer and headers do not change while it sends
  const shapes = new Map<string, CampaignShape>();
  // The checklist's facts in one statement, run for every recipient right
  // before it is composed: the subscription and its contact, a suppression
  // of the address, the consent record the message's header cites.
  const checklistRow = hotQuery(db, (tenantId: string, listId: string, contactId: string) => db.selectFrom('subscriptions as s')
    .innerJoin('contacts as c', 'c.id', 's.contact_id')
    .leftJoin('suppressions as x', (j) => j.on('x.tenant_id', '=', tenantId).onRef('x.address_hash', '=', 'c.address_hash'))
    .leftJoin('consent_records as k', 'k.id', 's.consent_id')
    .select(['s.status', 'c.status as contact_status', 'c.email', 'c.fields', 'x.reason as suppressed',
      'k.source as consent_source', 'k.opt_in', 'k.collected_at', 'k.ip as consent_ip', 'k.confirmed_at', 'k.confirm_ip'])
    .where('s.list_id', '=', listId).where('s.contact_id', '=', contactId));

  async function shapeOf(campaignId: string): Promise<CampaignShape | string> {
    const hit = shapes.get(campaignId);
    if (hit) return hit;
    const c = await db.selectFrom('campaigns').selectAll().where('id', '=', campaignId).executeTakeFirst();
    if (!c) return 'campaign gone';
    const tenant = await db.selectFrom('tenants').selectAll().where('id', '=', c.tenant_id).executeTakeFirstOrThrow();
    const profile = await d.profiles.get(c.tenant_id);
    if (!profile) return 'sender identity missing (MC-12)';
    const v = await d.templates.versionById(c.template_version_id);
    const t = v && (await d.templates.compiled(v));
    if (!t || !t.ok) return 'template version unusable';
    const fromDomain = c.from_address.slice(c.from_address.lastIndexOf('@') + 1);
    const domain = await d.domains.find(c.tenant_id, fromDomain);
    if (!domain) return 'sending domain gone';
    const stream = await d.streams.get(c.tenant_id, c.stream);
    const lists = new Map<string, List>();
    for (const id of JSON.parse(c.list_ids) as string[]) {
      const l = await db.selectFrom('lists').selectAll().where('id', '=', id).executeTakeFirst();
      if (l) lists.set(id, l);
    }
    const shape = campaignShape({
      campaign: c, tenant, profile, template: t.value, lists, fromDomain, bounceDomain: `${stream?.bounce_label ?? 'bounce-mk'}.${fromDomain}`,
      signer: new DkimSigner(await d.domains.signingKeys(domain), { clock }), publicUrl: d.publicUrl(), secrets: d.secrets,
    });
    shapes.set(campaignId, shape);
    return shape;
  }

  return {
    /** The checklist for one campaign recipient. */
    async decide(r: Recipient): Promise<Decision> {
      const [sub] = await checklistRow(r.tenant_id, r.list_id!, r.contact_id!);
      if (!sub || sub.contact_status !== 'active') return { drop: 'contact erased or removed' };
      if (sub.status !== 'subscribed') return { drop: `no longer subscribed (${sub.status})` };
      if (sub.suppressed !== null) return { drop: `suppressed (${sub.suppressed})` };
      const shape = await shapeOf(r.campaign_id!);
      if (typeof shape === 'string') return { drop: shape };
      const held = await d.gate?.(r, shape.fromDomain);
      if (held) return held;
      const consent = sub.consent_source !== null
        ? { source: sub.consent_source, opt_in: sub.opt_in!, collected_at: sub.collected_at!, ip: sub.consent_ip, confirmed_at: sub.confirmed_at, confirm_ip: sub.confirm_ip }
        : null;
      const raw = composeForRecipient(shape, {
        recipientId: r.id, email: sub.email!, fields: JSON.parse(sub.fields), listId: r.list_id!, consent,
      }, clock.now());
      return raw.ok ? { deliver: raw.value } : { drop: `could not compose: ${raw.error.detail}` };
    },

    async drop(r: Recipient, workerId: string, reason: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const res = await trx.updateTable('recipients').set({ status: 'dropped', locked_by: null, locked_until: null, updated_at: now })
          .where('id', '=', r.id).where('status', '=', 'queued').where('locked_by', '=', workerId).executeTakeFirst();
        if (Number(res.numUpdatedRows) === 1) {
          await appendEvents(trx, [{ tenantId: r.tenant_id, messageId: r.message_id, recipientId: r.id, type: 'dropped', at: now, data: { to: r.address, reason, campaign: r.campaign_id } }]);
        }
      });
    },

    /** the composition shape of a campaign (test sends use it before the campaign runs) */
    shapeOf,

    forget(campaignId: string): void {
      shapes.delete(campaignId);
    },
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;

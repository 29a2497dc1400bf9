// The campaigns stage: templates, the lifecycle, the runner that enqueues
// audiences, the dispatch checklist, progress and test sends.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Audience } from '../audience/index.ts';
import type { Domains } from '../accounts/domains.ts';
import type { Profiles } from '../accounts/profile.ts';
import type { Streams } from '../accounts/streams.ts';
import type { Resolver } from '../net/resolver.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { parseAddress } from '../compose/address.ts';
import { verpAddress } from '../compose/verp.ts';
import { appendEvents } from '../events/log.ts';
import { createTemplates } from './templates.ts';
import { createLifecycle } from './lifecycle.ts';
import { createRunner } from './runner.ts';
import { createDispatch, type DispatchDeps } from './dispatch.ts';
import { composeForRecipient } from './compose-campaign.ts';
import { createDraftLint } from './draft-lint.ts';
import { sharedCounts } from './shared-counts.ts';
import type { RefreshQueueStats } from '../store/stats.ts';

export interface CampaignDeps {
  db: Kysely<Database>;
  clock: Clock;
  secrets: Secrets;
  audience: Audience;
  domains: Domains;
  profiles: Profiles;
  streams: Streams;
  resolver?: Resolver;
  sandbox: boolean;
  publicUrl(): string;
  /** wakes the delivery workers */
  notify(): void;
  /** the dispatch checklist's "tenant allowed?" (reputation/controls.ts) */
  gate?: DispatchDeps['gate'];
  /** fresh planner statistics for the queue as campaigns grow it (store/stats.ts) */
  refreshQueueStats?: RefreshQueueStats;
}

export function createCampaigns(d: CampaignDeps) {
  const templates = createTemplates(d.db, d.clock);
  const lifecycle = createLifecycle({ ...d, templates });
  const runner = createRunner({ ...d, batchSize: 1000, batchesPerPass: 5 });
  const dispatch = createDispatch({ ...d, templates });
  let poke = () => {};
  const progressCounts = sharedCounts((campaignId: string) => d.db.selectFrom('recipients').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', campaignId).groupBy('status').execute()
    .then((rows) => Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))));

  return {
    templates,
    lifecycle,
    runner,
    dispatch,
    /** the compose editor's check of a template not saved yet */
    lintDraft: createDraftLint(d),
    /** set by the app once the runner loop runs */
    setPoke(fn: () => void) {
      poke = fn;
    },
    poke: () => poke(),

    /** recipients by status, for the sending view */
    progress: (campaignId: string) => progressCounts.read(campaignId),

    /** The campaign as a chosen contact would get it, to a few test addresses, marked [TEST]. */
    async testSend(tenantId: string, id: string, to: string[], contact?: Record<string, unknown>): Promise<Result<{ recipients: { email: string; id: string }[] }>> {
      const c = await lifecycle.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      const checked = await lifecycle.check(c, contact);
      if (!checked.ok) return checked;
      const shape = await dispatch.shapeOf(c.id);
      if (typeof shape === 'string') return fail('conflict', shape);
      dispatch.forget(c.id); // a later edit must not reuse this shape
      const stream = await d.streams.get(tenantId, c.stream);
      const domain = await d.domains.find(tenantId, shape.fromDomain);
      const listId = (JSON.parse(c.list_ids) as string[])[0];
      const out: { email: string; id: string }[] = [];
      for (const [i, addr] of to.entries()) {
        const a = parseAddress(addr, `to[${i}]`);
        if (!a.ok) return a;
        const now = d.clock.now();
        const rid = newId('rcp', now);
        const raw = composeForRecipient(shape, { recipientId: rid, email: a.value.email, fields: { first_name: 'Alex', ...(contact ?? {}) }, listId, consent: null }, now, { test: true });
        if (!raw.ok) return raw;
        const mid = newId('msg', now);
        await d.db.transaction().execute(async (trx) => {
          await trx.insertInto('messages').values({
            id: mid, tenant_id: tenantId, stream_id: stream!.id, domain_id: domain!.id, message_id: `${rid.slice(4)}@${shape.fromDomain}`, from_address: c.from_address,
            subject: checked.value.subject, custom_id: `test:${c.id}`, campaign_id: null, raw: raw.value, size: raw.value.length, created_at: now,
          }).execute();
          await trx.insertInto('recipients').values({
            id: rid, message_id: mid, tenant_id: tenantId, address: a.value.email, kind: 'to', envelope_from: verpAddress(d.secrets, rid, shape.bounceDomain),
            status: 'queued', attempts: 0, next_attempt_at: now, locked_until: null, locked_by: null, updated_at: now, campaign_id: null, contact_id: null, list_id: null,
          }).execute();
          await appendEvents(trx, [{ tenantId, messageId: mid, recipientId: rid, type: 'accepted', at: now, data: { to: a.value.email, test: c.id } }]);
        });
        out.push({ email: a.value.email, id: rid });
      }
      d.notify();
      return ok({ recipients: out });
    },
  };
}

export type Campaigns = ReturnType<typeof createCampaigns>;

// For the reputation tests on each dialect: the stages on a fresh store with
// an injected clock, senders (a tenant, its sending domains, a message of its
// marketing stream per domain) and outcome events written straight to the
// log, as the delivery and feedback stages write them.
import { openTestCore, manualClock } from '../helpers/app.ts';
import type { Dialect } from '../helpers/store.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { Recipient } from '../../src/store/schema.ts';
import { appendEvents, type EventInput, type EventType } from '../../src/events/log.ts';
import { newId } from '../../src/ids.ts';

export type Core = Awaited<ReturnType<typeof openTestCore>>;

export async function openReputationCore(dialect: Dialect, start = Date.parse('2026-11-25T09:00:00Z'), overrides: ConfigInput = {} as ConfigInput) {
  const clock = manualClock(start);
  const core = await openTestCore(dialect, overrides, { clock });
  return { core, clock };
}

export interface Sender {
  tenantId: string;
  name: string;
  /** per sending domain: its id and a message of the marketing stream sent from it */
  domains: { id: string; name: string; messageId: string }[];
}

export async function sender(core: Core, name: string, domainNames: string[] = [`${name}.example`]): Promise<Sender> {
  const t = await core.services.tenants.create(name);
  if (!t.ok) throw new Error(t.error.detail);
  const tenantId = t.value.tenant.id;
  const stream = (await core.services.streams.get(tenantId, 'marketing'))!;
  const domains = [];
  for (const dn of domainNames) {
    const d = await core.services.domains.add(tenantId, dn);
    if (!d.ok) throw new Error(d.error.detail);
    const messageId = newId('msg', core.clock.now());
    await core.store.db.insertInto('messages').values({
      id: messageId, tenant_id: tenantId, stream_id: stream.id, domain_id: d.value.id, message_id: `${messageId}@${dn}`, from_address: `news@${dn}`,
      subject: 'news', custom_id: null, campaign_id: null, raw: Buffer.alloc(0), size: 0, created_at: core.clock.now(),
    }).execute();
    domains.push({ id: d.value.id, name: dn, messageId });
  }
  return { tenantId, name, domains };
}

/** n events of one type for a sender's domain (the first by default), recipients at `to(i)` (default: a non-Gmail address). */
export async function emit(core: Core, s: Sender, type: EventType, n: number, o: { at?: number; data?: Record<string, unknown>; to?: (i: number) => string; domain?: number } = {}): Promise<void> {
  const at = o.at ?? core.clock.now();
  const d = s.domains[o.domain ?? 0];
  const events: EventInput[] = Array.from({ length: n }, (_, i) => ({
    tenantId: s.tenantId, messageId: type === 'unsubscribed' || type === 'suppressed' ? null : d.messageId, recipientId: newId('rcp', at), type, at,
    data: { to: o.to ? o.to(i) : `person${i}@customer.example`, ...(o.data ?? {}) },
  }));
  for (let i = 0; i < events.length; i += 1000) await appendEvents(core.store.db, events.slice(i, i + 1000));
}

export const gmail = (i: number) => `reader${i}@gmail.com`;

/** What the rules did to a tenant: [rule, step], oldest first, system actions only. */
export async function actionsOf(core: Core, tenantId: string): Promise<[string, string][]> {
  return (await core.services.reputation.actions(tenantId, 500)).filter((a) => a.actor === 'system').reverse().map((a) => [a.rule, a.step]);
}

/** A campaign recipient as the dispatch checklist sees it (only what the controls read). */
export const recipientTo = (tenantId: string, address: string): Recipient => ({
  id: newId('rcp'), message_id: 'msg_x', tenant_id: tenantId, address, kind: 'to', envelope_from: 'b@x', status: 'queued', attempts: 0, next_attempt_at: 0,
  locked_until: null, locked_by: null, updated_at: 0, campaign_id: 'cmp_x', contact_id: null, list_id: null,
});

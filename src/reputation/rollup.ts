// The rollup: reads the event log after its cursor and adds each event to
// the counters of every dimension it belongs to — the tenant, the sending
// domain, the stream, the campaign, the destination provider, the IP pool,
// and the domain's Gmail-bound traffic — per UTC day; and counts
// Gmail-bound deliveries per organizational domain and minute (GM-1). A pass
// is one transaction: the counters and the cursor move together, so an event
// is counted once whatever crashes; on PostgreSQL the cursor row is locked,
// and a second process skips the pass instead of counting twice.
//
// Attribution: delivery events carry their provider; a complaint, an
// asynchronous bounce, a click or an open is counted under the provider of
// the recipient's delivery (looked up by recipient); an unsubscribe names a
// contact and a list, and is counted under the latest campaign that mailed
// that contact through that list. Readers never scan the log: they read the
// counters (report.ts).
import { getDomain } from 'tldts';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { ReputationStore, CounterRow, EventRow } from './store.ts';
import { COUNTERS, countsOfEvent, emptyCounts, type Counts } from './indicators.ts';
import { isGmailAddress, MINUTE_MS, utcDay } from './rules.ts';

/** What a pass changed, for the rules to look at. */
export interface Touched {
  /** tenant|day */
  tenantDays: Set<string>;
  /** tenant|day|domain id */
  gmailDays: Set<string>;
  /** tenant|campaign id */
  campaigns: Set<string>;
  /** organizational domain → the tenant and the latest Gmail-bound delivery seen */
  orgs: Map<string, { tenantId: string; at: number }>;
  events: number;
}

export const SEP = '\u0000';
export const emptyTouched = (): Touched => ({ tenantDays: new Set(), gmailDays: new Set(), campaigns: new Set(), orgs: new Map(), events: 0 });

export interface RollupOptions {
  store: ReputationStore;
  clock: Clock;
  gmailDomains: readonly string[];
  /** events per pass (one transaction) */
  batchSize: number;
  /**
   * On PostgreSQL an event id is taken at insert but seen at commit: a later
   * id can be visible before an earlier one. The rollup reads only up to the
   * highest id seen at least this long ago (as the webhook fan-out does).
   */
  settleMs: number;
}

interface MessageMeta {
  domainId: string;
  streamId: string;
  campaignId: string | null;
}

const MESSAGE_CACHE = 20_000;
const STREAM_TTL_MS = 60_000;
const LATE = new Set(['complained', 'bounced', 'clicked', 'opened']);

export function createRollup(o: RollupOptions) {
  const { store } = o;
  const messages = new Map<string, MessageMeta>();
  const streams = new Map<string, { pool: string; at: number }>();
  const domains = new Map<string, { name: string; org: string }>();
  const marks: { id: number; seenAt: number }[] = [];

  async function highWater(): Promise<number> {
    const top = await store.maxEventId();
    if (o.settleMs === 0) return top;
    const t = performance.now();
    if (!marks.length || marks[marks.length - 1].id !== top) marks.push({ id: top, seenAt: t });
    let hwm = 0;
    while (marks.length && marks[0].seenAt <= t - o.settleMs) hwm = marks.shift()!.id;
    if (hwm) marks.unshift({ id: hwm, seenAt: -Infinity });
    return hwm;
  }

  async function loadMeta(trx: Transaction<Database>, ids: Set<string>): Promise<void> {
    const missing = [...ids].filter((id) => !messages.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      for (const m of await store.messages(trx, missing.slice(i, i + 500))) {
        if (messages.size >= MESSAGE_CACHE) messages.delete(messages.keys().next().value!);
        messages.set(m.id, { domainId: m.domain_id, streamId: m.stream_id, campaignId: m.campaign_id });
      }
    }
    const now = performance.now();
    const metas = [...ids].map((id) => messages.get(id)).filter((m): m is MessageMeta => m !== undefined);
    const staleStreams = [...new Set(metas.map((m) => m.streamId))].filter((id) => !streams.has(id) || now - streams.get(id)!.at > STREAM_TTL_MS);
    for (const s of await store.streams(trx, staleStreams)) streams.set(s.id, { pool: s.ip_pool, at: now });
    const newDomains = [...new Set(metas.map((m) => m.domainId))].filter((id) => !domains.has(id));
    for (const d of await store.domains(trx, newDomains)) domains.set(d.id, { name: d.name, org: getDomain(d.name) ?? d.name });
  }

  /** provider of each recipient's delivery: its data.provider, or "sandbox" for a capture */
  async function deliveryProviders(trx: Transaction<Database>, recipientIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < recipientIds.length; i += 500) {
      for (const d of await store.deliveries(trx, recipientIds.slice(i, i + 500))) {
        const p = providerOf(JSON.parse(d.data));
        if (p && d.recipient_id) out.set(d.recipient_id, p);
      }
    }
    return out;
  }

  /** The campaign recipient an unsubscribe came from: the latest campaign to that contact through that list. */
  async function unsubscribeSource(trx: Transaction<Database>, e: EventRow, data: Record<string, unknown>, started: Map<string, { id: string; lists: string[]; at: number }[]>) {
    const list = typeof data.list === 'string' ? data.list : null;
    if (!list || !e.message_id) return null;
    let cs = started.get(e.tenant_id);
    if (!cs) {
      cs = (await store.startedCampaigns(trx, e.tenant_id)).map((c) => ({ id: c.id, lists: JSON.parse(c.list_ids) as string[], at: Number(c.started_at) }));
      started.set(e.tenant_id, cs);
    }
    for (const c of cs.filter((x) => x.at <= e.at && x.lists.includes(list)).slice(0, 5)) {
      const r = await store.campaignRecipient(trx, c.id, e.message_id);
      if (r) return { recipientId: r.id, messageId: r.message_id, address: r.address, campaignId: c.id };
    }
    return null;
  }

  async function roll(trx: Transaction<Database>, events: EventRow[]) {
    const touched = emptyTouched();
    touched.events = events.length;
    const rows = new Map<string, CounterRow>();
    const minutes = new Map<string, { org_domain: string; minute: number; count: number }>();
    const parsed = events.map((e) => ({ e, data: JSON.parse(e.data) as Record<string, unknown> }));

    // unsubscribes first: they name a contact, not a message
    const started = new Map<string, { id: string; lists: string[]; at: number }[]>();
    const via = new Map<number, { recipientId: string; messageId: string; address: string; campaignId: string }>();
    for (const { e, data } of parsed) {
      if (e.type !== 'unsubscribed') continue;
      const src = await unsubscribeSource(trx, e, data, started);
      if (src) via.set(e.id, src);
    }
    const messageOf = (e: EventRow) => (e.type === 'unsubscribed' ? via.get(e.id)?.messageId ?? null : e.message_id);
    const recipientOf = (e: EventRow) => (e.type === 'unsubscribed' ? via.get(e.id)?.recipientId ?? null : e.recipient_id);
    await loadMeta(trx, new Set(parsed.map(({ e }) => messageOf(e)).filter((m): m is string => m !== null)));
    const late = parsed.filter(({ e, data }) => (LATE.has(e.type) || e.type === 'unsubscribed') && !providerOf(data) && recipientOf(e));
    const providers = await deliveryProviders(trx, [...new Set(late.map(({ e }) => recipientOf(e)!))]);

    const add = (tenantId: string, day: string, dim: string, key: string, c: Partial<Counts>) => {
      const k = [tenantId, dim, key, day].join(SEP);
      let row = rows.get(k);
      if (!row) rows.set(k, (row = { tenant_id: tenantId, day, dim, key, ...emptyCounts() }));
      for (const name of COUNTERS) row[name] += c[name] ?? 0;
    };

    for (const { e, data } of parsed) {
      const c = countsOfEvent(e.type, data);
      if (!c) continue;
      const day = utcDay(e.at);
      add(e.tenant_id, day, 'tenant', '', c);
      touched.tenantDays.add([e.tenant_id, day].join(SEP));
      const mid = messageOf(e);
      const meta = mid ? messages.get(mid) : undefined;
      const campaign = (typeof data.campaign === 'string' ? data.campaign : null) ?? via.get(e.id)?.campaignId ?? meta?.campaignId ?? null;
      if (campaign) {
        add(e.tenant_id, day, 'campaign', campaign, c);
        touched.campaigns.add([e.tenant_id, campaign].join(SEP));
      }
      const rid = recipientOf(e);
      const provider = providerOf(data) ?? (rid ? providers.get(rid) : undefined);
      if (provider) add(e.tenant_id, day, 'provider', provider, c);
      if (!meta) continue;
      add(e.tenant_id, day, 'domain', meta.domainId, c);
      add(e.tenant_id, day, 'stream', meta.streamId, c);
      const pool = streams.get(meta.streamId)?.pool;
      if (pool) add(e.tenant_id, day, 'pool', pool, c);
      const to = typeof data.to === 'string' ? data.to : via.get(e.id)?.address;
      if (to && isGmailAddress(to, o.gmailDomains)) {
        add(e.tenant_id, day, 'gmail', meta.domainId, c);
        touched.gmailDays.add([e.tenant_id, day, meta.domainId].join(SEP));
        const org = domains.get(meta.domainId)?.org;
        if (org && e.type === 'delivered') {
          const minute = e.at - (e.at % MINUTE_MS);
          const mk = `${org}${SEP}${minute}`;
          const m = minutes.get(mk) ?? { org_domain: org, minute, count: 0 };
          m.count++;
          minutes.set(mk, m);
          const seen = touched.orgs.get(org);
          if (!seen || seen.at < e.at) touched.orgs.set(org, { tenantId: e.tenant_id, at: e.at });
        }
      }
    }
    await store.addCounters(trx, [...rows.values()]);
    await store.addGmailMinutes(trx, [...minutes.values()]);
    return touched;
  }

  return {
    /**
     * One pass: up to batchSize events after the cursor, counted in one
     * transaction. `upTo` reads up to that event id without waiting for it
     * to settle (a single writer: tests, the benchmark). Null when another
     * process holds the cursor.
     */
    async pass(upTo?: number): Promise<{ touched: Touched; more: boolean } | null> {
      const hwm = upTo ?? (await highWater());
      // nothing new: no transaction (an idle loop costs two reads a poll)
      if (!hwm || (await store.cursor()) >= hwm) return { touched: emptyTouched(), more: false };
      return store.withCursor(o.clock.now(), async (trx, cursor) => {
        if (cursor >= hwm) return { cursor, value: { touched: emptyTouched(), more: false } };
        const page = await store.readEvents(trx, cursor, hwm, o.batchSize);
        const full = page.read === o.batchSize;
        const touched = await roll(trx, page.rows);
        // a short page read everything up to the mark
        return { cursor: full ? page.last : hwm, value: { touched, more: full } };
      });
    },
  };
}

export type Rollup = ReturnType<typeof createRollup>;

/** The provider a delivery-time event names: the engine's profile, "simulator", or "sandbox" for a capture. */
export function providerOf(data: Record<string, unknown>): string | null {
  if (typeof data.provider === 'string' && data.provider) return data.provider;
  if (data.target === 'sandbox') return 'sandbox';
  return null;
}

// What the worker does with one claimed row: the message goes to the sandbox
// or, in smtp mode, to the recipient's MX. A campaign recipient goes through
// the campaign's dispatch checklist and is composed right before it is sent
// (for SMTP: once a session is ready for it), so an unsubscribe, a
// suppression or a pause stops it up to the last moment and no composed body
// waits in memory.
import type { Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Sandbox } from './sandbox.ts';
import type { SmtpDelivery } from './smtp-deliver.ts';
import type { Outcomes } from './outcomes.ts';
import type { Simulator } from './simulator/index.ts';
import type { Dispatch } from '../campaigns/dispatch.ts';

export interface DeliverDeps {
  db: Kysely<Database>;
  clock: Clock;
  sandbox: Sandbox;
  dispatch: Dispatch;
  outcomes: Outcomes;
  /** absent in sandbox mode */
  smtp?: SmtpDelivery;
  /** sandbox captures at once (SMTP delivery has its own lanes) */
  concurrency?: number;
  /** the mailbox simulator: its addresses never leave the machine, whatever the mode */
  simulator?: Simulator;
}

interface Meta {
  created_at: number;
  ip_pool: string;
  kind: string;
  domain_id: string;
}

const STATUS_TTL_MS = 1_000;
const META_CACHE = 1_000;

export function createDeliver(d: DeliverDeps) {
  // a campaign's recipients share one message row: its metadata never changes
  const metaCache = new Map<string, Meta>();
  const campaignStatus = new Map<string, { status: string; at: number }>();
  const slots = semaphore(d.concurrency ?? 64);

  async function metaOf(r: Recipient): Promise<Meta> {
    const hit = metaCache.get(r.message_id);
    if (hit) return hit;
    const m = await d.db.selectFrom('messages as m').innerJoin('streams as s', 's.id', 'm.stream_id')
      .select(['m.created_at', 's.ip_pool', 's.kind', 'm.domain_id']).where('m.id', '=', r.message_id).executeTakeFirstOrThrow();
    if (r.campaign_id) {
      if (metaCache.size >= META_CACHE) metaCache.delete(metaCache.keys().next().value!);
      metaCache.set(r.message_id, m);
    }
    return m;
  }

  /** Is the campaign still sending? Looked up at most once a second per campaign. */
  async function sending(campaignId: string): Promise<boolean> {
    const now = d.clock.now();
    let s = campaignStatus.get(campaignId);
    if (!s || now - s.at > STATUS_TTL_MS || now < s.at) {
      const c = await d.db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
      campaignStatus.set(campaignId, (s = { status: c?.status ?? 'gone', at: now }));
    }
    return s.status === 'sending';
  }

  /** The bytes to send, or null when the row is settled (dropped) or released (its campaign paused). */
  async function body(r: Recipient, workerId: string): Promise<Buffer | null> {
    if (!r.campaign_id) {
      const m = await d.db.selectFrom('messages').select('raw').where('id', '=', r.message_id).executeTakeFirstOrThrow();
      return m.raw;
    }
    if (!(await sending(r.campaign_id))) {
      // paused (or cancelled: then the row is no longer queued and this changes nothing)
      await d.outcomes.postpone(r, workerId, d.clock.now(), d.clock.now());
      return null;
    }
    const decision = await d.dispatch.decide(r);
    if ('drop' in decision) {
      await d.dispatch.drop(r, workerId, decision.drop);
      return null;
    }
    if ('hold' in decision) {
      // the tenant may not send this now (suspended, throttled, capped, paused at a provider): the row waits, no attempt counted
      await d.outcomes.postpone(r, workerId, d.clock.now(), decision.hold);
      return null;
    }
    return decision.deliver;
  }

  return async function deliver(r: Recipient, workerId: string): Promise<void> {
    const sim = d.simulator;
    if (sim?.handles(r.address)) {
      return slots(async () => {
        const raw = await body(r, workerId);
        if (raw !== null) await sim.deliver(r, workerId, raw);
      });
    }
    if (!d.smtp) {
      return slots(async () => {
        // a transactional capture points at its stored message
        if (!r.campaign_id) return d.sandbox.deliver(r, workerId);
        const raw = await body(r, workerId);
        if (raw !== null) await d.sandbox.deliver(r, workerId, raw);
      });
    }
    const m = await metaOf(r);
    return d.smtp.deliver({
      r, workerId, marketing: r.campaign_id !== null || m.kind === 'marketing', ipPool: m.ip_pool, domainId: m.domain_id, acceptedAt: m.created_at,
      body: () => body(r, workerId),
    });
  };
}

/** At most n at once. */
function semaphore(n: number) {
  let free = n;
  const waiting: Array<() => void> = [];
  return async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

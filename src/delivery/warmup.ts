// Warm-up in the engine (GM-13): one ramp per (IP pool, sending domain,
// provider), kept in the database. A ramp is created at its first message
// (day index 0, the schedule's start) and moves once per UTC day, at the
// first message of the day, from the previous day's health: hard bounces
// and complaints against deliveries of that ramp, read from the event log.
// The pure rules are policy/warmup.ts; this file only keeps their state and
// counts the day's messages against the budget through the Limiter (shared
// by every worker when Redis is configured). Marketing only: a password
// reset never waits for tomorrow.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, WarmupRamp } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import type { Clock } from '../clock.ts';
import type { Limiter } from './limits/index.ts';
import { dailyBudget, nextRampDay, warmupVerdict, type WarmupHealth, type WarmupSchedule } from '../policy/warmup.ts';

export interface WarmupOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  limiter: Limiter;
  schedule: WarmupSchedule;
  /** off: take() always allows (senders whose IPs and domains are already warm) */
  enabled: boolean;
}

/** Whether a marketing message may start now; when not, when the next budget opens. */
export type WarmupDecision = { ok: true } | { ok: false; until: number; budget: number; day: string };

/** A day's outcomes of one ramp. */
export interface DayCounts {
  delivered: number;
  bounced: number;
  complained: number;
}

const DAY_MS = 24 * 3600_000;
export const utcDay = (t: number): string => new Date(t).toISOString().slice(0, 10);
const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);
const rampKey = (pool: string, domainId: string, provider: string) => `${pool}|${domainId}|${provider}`;

/** Hard bounces over what was sent, complaints over what was delivered; unknown (NaN) on a day with nothing sent. */
export function healthOf(c: DayCounts): WarmupHealth {
  const sent = c.delivered + c.bounced;
  return { bounceRate: sent ? c.bounced / sent : Number.NaN, complaintRate: c.delivered ? c.complained / c.delivered : Number.NaN };
}

const countsOf = (r: WarmupRamp): DayCounts => ({ delivered: r.prev_delivered, bounced: r.prev_bounced, complained: r.prev_complained });

export function createWarmup(o: WarmupOptions) {
  const { db } = o;
  // a max of 0 (configuration's "no ceiling") is none at all for the policy
  const schedule: WarmupSchedule = { start: o.schedule.start, growth: o.schedule.growth, ...(o.schedule.max ? { max: o.schedule.max } : {}) };
  // today's ramp per key: a take costs one limiter call, the database only once a day
  const today = new Map<string, WarmupRamp>();
  // a day's counts for every ramp, computed once per process
  const days = new Map<string, Promise<Map<string, DayCounts>>>();

  function countsOfDay(day: string): Promise<Map<string, DayCounts>> {
    let p = days.get(day);
    if (!p) {
      p = readDay(db, o.dialect, day).catch((err) => {
        days.delete(day);
        throw err;
      });
      days.set(day, p);
      while (days.size > 2) days.delete([...days.keys()].sort()[0]);
    }
    return p;
  }

  const select = (pool: string, domainId: string, provider: string) =>
    db.selectFrom('warmup_ramps').selectAll().where('pool', '=', pool).where('domain_id', '=', domainId).where('provider', '=', provider).executeTakeFirst();

  /** The ramp as it stands on the day of `now`: created, or moved on to that day, as needed. */
  async function ramp(pool: string, domainId: string, provider: string, now: number): Promise<WarmupRamp> {
    const day = utcDay(now);
    const key = rampKey(pool, domainId, provider);
    const known = today.get(key);
    if (known && known.day === day) return known;
    let row = await select(pool, domainId, provider);
    if (!row) {
      await db.insertInto('warmup_ramps').values({
        pool, domain_id: domainId, provider, day, day_index: 0, budget: dailyBudget(schedule, 0, { bounceRate: 0, complaintRate: 0 }), verdict: 'start',
        prev_sent: 0, prev_bounced: 0, prev_delivered: 0, prev_complained: 0, started_at: now, updated_at: now,
      }).onConflict((oc) => oc.columns(['pool', 'domain_id', 'provider']).doNothing()).execute();
      row = (await select(pool, domainId, provider))!;
    }
    if (row.day < day) row = await advance(row, day, now);
    if (today.size > 10_000) today.clear();
    today.set(key, row);
    return row;
  }

  /** Moves a ramp to `day`: the index it earned, the budget yesterday's health allows. One worker wins; the others read its result. */
  async function advance(row: WarmupRamp, day: string, now: number): Promise<WarmupRamp> {
    // the index for today comes from the health the ramp's last day was judged on (a new ramp's first day counts as healthy)
    const index = row.verdict === 'start' ? row.day_index + 1 : nextRampDay(row.day_index, healthOf(countsOf(row)));
    const counts = (await countsOfDay(utcDay(dayStart(day) - DAY_MS))).get(rampKey(row.pool, row.domain_id, row.provider)) ?? { delivered: 0, bounced: 0, complained: 0 };
    const health = healthOf(counts);
    const budget = dailyBudget(schedule, index, health);
    const set = {
      day, day_index: index, budget, verdict: warmupVerdict(health) as WarmupRamp['verdict'], prev_sent: counts.delivered + counts.bounced,
      prev_bounced: counts.bounced, prev_delivered: counts.delivered, prev_complained: counts.complained, updated_at: now,
    };
    const moved = await db.updateTable('warmup_ramps').set(set)
      .where('pool', '=', row.pool).where('domain_id', '=', row.domain_id).where('provider', '=', row.provider).where('day', '=', row.day).executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 1) return { ...row, ...set };
    return (await select(row.pool, row.domain_id, row.provider))!;
  }

  return {
    ramp,

    /** Counts one marketing message against today's budget of the ramp. */
    async take(pool: string, domainId: string, provider: string, now: number = o.clock.now()): Promise<WarmupDecision> {
      if (!o.enabled) return { ok: true };
      const r = await ramp(pool, domainId, provider, now);
      if (await o.limiter.takeDaily(`warmup:${rampKey(pool, domainId, provider)}`, r.day, r.budget)) return { ok: true };
      return { ok: false, until: dayStart(r.day) + DAY_MS, budget: r.budget, day: r.day };
    },

    /** The ramps of a tenant (null: every tenant) as they stand, with today's count so far. */
    async status(tenantId: string | null, now: number = o.clock.now()) {
      let q = db.selectFrom('warmup_ramps as w').innerJoin('domains as d', 'd.id', 'w.domain_id')
        .select(['w.pool', 'w.domain_id', 'w.provider', 'w.day', 'w.day_index', 'w.budget', 'w.verdict', 'w.prev_sent', 'w.prev_bounced', 'w.prev_delivered',
          'w.prev_complained', 'w.started_at', 'w.updated_at', 'd.name as domain', 'd.tenant_id'])
        .orderBy('d.name').orderBy('w.provider').orderBy('w.pool');
      if (tenantId !== null) q = q.where('d.tenant_id', '=', tenantId);
      const rows = await q.execute();
      const day = utcDay(now);
      const sentToday = rows.length ? await readDay(db, o.dialect, day) : new Map<string, DayCounts>();
      return rows.map((r) => {
        const current = r.day === day;
        const c = sentToday.get(rampKey(r.pool, r.domain_id, r.provider));
        return {
          pool: r.pool, domain: r.domain, domainId: r.domain_id, tenantId: r.tenant_id, provider: r.provider,
          enabled: o.enabled, day: r.day, dayIndex: r.day_index, verdict: r.verdict,
          /** the budget of the ramp's current day; a ramp not used yet today moves on at its next message */
          budget: r.budget, current,
          /** delivered and hard-bounced today, from the event log (every worker's) */
          sentToday: c ? c.delivered + c.bounced : 0,
          previousDay: { sent: r.prev_sent, delivered: r.prev_delivered, hardBounces: r.prev_bounced, complaints: r.prev_complained },
          startedAt: new Date(r.started_at).toISOString(),
        };
      });
    },
  };
}

export type Warmup = ReturnType<typeof createWarmup>;

/** Reads a value of the event's JSON data, on either dialect. */
function json(dialect: DialectName, path: string[]): RawBuilder<string | null> {
  return dialect === 'postgres'
    ? sql<string | null>`(e.data::json #>> ${sql.lit(`{${path.join(',')}}`)})`
    : sql<string | null>`json_extract(e.data, ${sql.lit(`$.${path.join('.')}`)})`;
}

/** JSON true, on either dialect (SQLite's json_extract gives 1, PostgreSQL's #>> 'true'). */
function jsonTrue(dialect: DialectName, path: string[]): RawBuilder<boolean> {
  return dialect === 'postgres' ? sql<boolean>`${json(dialect, path)} = 'true'` : sql<boolean>`${json(dialect, path)} = 1`;
}

/**
 * A UTC day's outcomes per ramp. Deliveries and bounces at delivery carry
 * their provider; an asynchronous bounce or a complaint does not, and is
 * counted against the ramp of the recipient's delivery (found through the
 * message's events, which are indexed by message).
 */
export async function readDay(db: Kysely<Database>, dialect: DialectName, day: string): Promise<Map<string, DayCounts>> {
  const from = dayStart(day);
  const to = from + DAY_MS;
  const out = new Map<string, DayCounts>();
  const add = (key: string, field: keyof DayCounts) => {
    const c = out.get(key) ?? { delivered: 0, bounced: 0, complained: 0 };
    c[field]++;
    out.set(key, c);
  };
  const provider = json(dialect, ['provider']);
  const hard = sql<boolean>`(${jsonTrue(dialect, ['hard'])} or ${jsonTrue(dialect, ['classification', 'hard'])})`;
  const base = () => db.selectFrom('events as e').innerJoin('messages as m', 'm.id', 'e.message_id').innerJoin('streams as s', 's.id', 'm.stream_id')
    .where('e.at', '>=', from).where('e.at', '<', to);

  const grouped = await base()
    .select(['m.domain_id', 's.ip_pool', provider.as('provider'),
      sql<number>`sum(case when e.type = 'delivered' then 1 else 0 end)`.as('delivered'),
      sql<number>`sum(case when e.type = 'bounced' and ${hard} then 1 else 0 end)`.as('bounced'),
      sql<number>`sum(case when e.type = 'complained' then 1 else 0 end)`.as('complained')])
    .where('e.type', 'in', ['delivered', 'bounced', 'complained'])
    .where(sql<boolean>`${provider} is not null`)
    .groupBy(['m.domain_id', 's.ip_pool', provider])
    .execute();
  for (const g of grouped) {
    out.set(rampKey(g.ip_pool, g.domain_id, g.provider!), { delivered: Number(g.delivered), bounced: Number(g.bounced), complained: Number(g.complained) });
  }

  // after the fact: attributed to the ramp that delivered the message
  const late = await base()
    .select(['e.type', 'e.message_id', 'e.recipient_id', 'm.domain_id', 's.ip_pool'])
    .where((eb) => eb.or([eb('e.type', '=', 'complained'), eb.and([eb('e.type', '=', 'bounced'), hard])]))
    .where(sql<boolean>`${provider} is null`).where('e.recipient_id', 'is not', null)
    .execute();
  for (let i = 0; i < late.length; i += 500) {
    const chunk = late.slice(i, i + 500);
    const delivered = await db.selectFrom('events as e').select(['e.recipient_id', provider.as('provider')])
      .where('e.type', '=', 'delivered')
      .where('e.message_id', 'in', [...new Set(chunk.map((l) => l.message_id!))])
      .where('e.recipient_id', 'in', chunk.map((l) => l.recipient_id!))
      .execute();
    const providerOf = new Map(delivered.map((d) => [d.recipient_id, d.provider]));
    for (const l of chunk) {
      const p = providerOf.get(l.recipient_id);
      if (p) add(rampKey(l.ip_pool, l.domain_id, p), l.type === 'complained' ? 'complained' : 'bounced');
    }
  }
  return out;
}

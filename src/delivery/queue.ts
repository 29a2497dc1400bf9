// The queue is the recipients table: a row is due when it is queued and its
// next attempt time has come. Workers claim due rows with a lease; on
// PostgreSQL the claim skips rows another worker holds (FOR UPDATE SKIP
// LOCKED), and a dead worker's lease simply expires.
//
// A claimed row's next attempt moves to the end of its lease: that is when it
// is due again if its worker dies, and it takes the held rows (a few hundred
// per worker) out of the front of the (status, next_attempt_at) index. Left
// there, every claim walked past them to find rows nobody holds: on
// PostgreSQL the claim was the busiest statement of a campaign (sampled
// pg_stat_activity, bench/campaign.ts). Renewing a lease moves it again, and
// a worker that stops gives its rows back due at once (leases.ts).
import { sql, type Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';

export interface ClaimOptions {
  workerId: string;
  now: number;
  limit: number;
  leaseMs: number;
  /** transactional mail has its own lane: it is claimed first and never waits behind a campaign (STYLE 7) */
  lane: 'transactional' | 'campaign';
}

export async function claimDue(db: Kysely<Database>, dialect: DialectName, o: ClaimOptions): Promise<Recipient[]> {
  if (o.lane === 'transactional' && dialect === 'sqlite') {
    // SQLite's planner, without statistics, prefers (status, next_attempt_at) — two constrained
    // columns — and walks every queued campaign row; the partial index is named (PostgreSQL's
    // planner takes it by itself)
    const r = await sql<Recipient>`update recipients set locked_by = ${o.workerId}, locked_until = ${o.now + o.leaseMs}, next_attempt_at = ${o.now + o.leaseMs}
      where id in (select id from recipients indexed by recipients_due_transactional
        where status = 'queued' and campaign_id is null and next_attempt_at <= ${o.now} and (locked_until is null or locked_until < ${o.now})
        order by next_attempt_at limit ${o.limit})
      returning *`.execute(db);
    return r.rows;
  }
  return claimQuery(db, dialect, o).execute();
}

/** The claim as a query, for claimDue and for the test that reads its plan (test/store/stats.test.ts). */
export function claimQuery(db: Kysely<Database>, dialect: DialectName, o: ClaimOptions) {
  let due = db.selectFrom('recipients').select('id')
    // a literal, not a parameter: the transactional lane's partial index (migration 014) says status = 'queued'
    .where('status', '=', sql.lit('queued'))
    .where('next_attempt_at', '<=', o.now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', o.now)]))
    .where((eb) => (o.lane === 'transactional'
      ? eb('campaign_id', 'is', null) // served by recipients_due_transactional
      // a paused or cancelled campaign's rows wait where they are
      : eb.and([eb('campaign_id', 'is not', null), eb.exists(eb.selectFrom('campaigns as cp').select('cp.id')
        .whereRef('cp.id', '=', 'recipients.campaign_id').where('cp.status', '=', 'sending'))])))
    .orderBy('next_attempt_at')
    .limit(o.limit);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  return db.updateTable('recipients')
    .set({ locked_by: o.workerId, locked_until: o.now + o.leaseMs, next_attempt_at: o.now + o.leaseMs })
    .where('id', 'in', due)
    .returningAll();
}

/**
 * The status of a row, as a filter no index serves: beside `id IN (…)`,
 * SQLite's planner would otherwise walk the (status, next_attempt_at) index —
 * every queued row of every campaign — instead of the primary key. Use as
 * `.where(statusUnindexed, '=', 'queued')`.
 */
export const statusUnindexed = sql<string>`coalesce(${sql.ref('status')}, '')`;

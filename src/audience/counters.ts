// Fixed-window counters in the database, for limits that must hold across
// restarts and processes (confirmation mails per address per day). Short
// per-IP bursts use the in-memory limiter of the HTTP edge instead.
// Each step is one atomic statement, so concurrent hits never overshoot.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** Counts one hit; returns whether it is within `limit` for the current window. */
export async function hit(db: Kysely<Database>, key: string, windowMs: number, limit: number, now: number): Promise<boolean> {
  const windowStart = now - (now % windowMs);
  const bumped = await db.updateTable('counters').set((eb) => ({ count: eb('count', '+', 1) }))
    .where('key', '=', key).where('window_start', '=', windowStart).where('count', '<', limit)
    .executeTakeFirst();
  if (Number(bumped.numUpdatedRows) === 1) return true;
  // no row, or a row of an older window: start this window at 1
  const started = await db.insertInto('counters').values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) => oc.column('key').doUpdateSet({ window_start: windowStart, count: 1 }).where('counters.window_start', '<>', windowStart))
    .executeTakeFirst();
  return Number(started.numInsertedOrUpdatedRows ?? 0) === 1 && limit >= 1;
}

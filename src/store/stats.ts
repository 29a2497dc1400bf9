// Planner statistics for the queue after a big enqueue.
//
// PostgreSQL plans the claim (delivery/queue.ts) from the statistics it last
// gathered on `recipients`. A campaign that enqueues 100,000 rows into a
// table whose statistics say "almost nothing is queued" — an empty table, or
// ten million delivered rows — got a plan that gathered every queued row of
// the campaign through two bitmap indexes and sorted them: 49 ms a claim
// instead of 3 ms, the busiest statement of the run (bench/campaign.ts).
// Autovacuum analyzes only after 10 % of the table changed, and at most once
// a minute. The campaign runner asks for this as its enqueued count grows,
// so a campaign costs a handful of ANALYZEs (each reads a sample of 30,000
// rows, whatever the table's size). SQLite's claim names its index and
// needs none.
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './schema.ts';
import type { DialectName } from './connect.ts';

/** Never fails: without fresh statistics claims are slower until autovacuum analyzes the table, nothing worse. */
export type RefreshQueueStats = () => Promise<void>;

export function queueStatsRefresher(db: Kysely<Database>, dialect: DialectName, logger: Pick<Logger, 'warn'>): RefreshQueueStats {
  if (dialect !== 'postgres') return async () => {};
  let running: Promise<void> | undefined;
  return () => {
    // one at a time per process: a second request meanwhile is served by the one running
    running ??= sql`analyze recipients`.execute(db).then(
      () => {},
      (err) => logger.warn({ err }, 'could not refresh the planner statistics of the queue (claims stay slower until autovacuum does)'),
    ).finally(() => (running = undefined));
    return running;
  };
}

/** Whether an enqueue that took a campaign from `before` to `after` rows crossed one of 1,000 × 4ⁿ. */
export function crossedStatsStep(before: number, after: number): boolean {
  for (let step = 1_000; step <= after; step *= 4) if (before < step) return true;
  return false;
}

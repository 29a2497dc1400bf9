// A delivery worker: claims due recipients, transactional lane first, and
// hands each to `deliver`. It polls, and wakes early when the send path says
// there is new work.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Recipient } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import type { Clock } from '../clock.ts';
import { claimDue } from './queue.ts';
import { startLoop } from '../loop.ts';

export interface WorkerOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  logger: Logger;
  workerId: string;
  pollMs: number;
  batchSize: number;
  deliver(r: Recipient, workerId: string): Promise<void>;
}

export function startWorker(o: WorkerOptions) {
  let stopping = false;
  /** one batch; true when it was full (there is probably more) */
  async function pass(): Promise<boolean> {
    const claim = { workerId: o.workerId, now: o.clock.now(), limit: o.batchSize, leaseMs: 60_000 };
    const batch = await claimDue(o.db, o.dialect, { ...claim, lane: 'transactional' });
    if (batch.length < o.batchSize) batch.push(...(await claimDue(o.db, o.dialect, { ...claim, limit: o.batchSize - batch.length, lane: 'campaign' })));
    for (const r of batch) {
      // rows not reached keep their lease and are picked up again when it ends
      if (stopping) return false;
      await o.deliver(r, o.workerId);
    }
    return batch.length === o.batchSize;
  }
  const loop = startLoop('delivery worker', o.pollMs, o.logger, pass);
  return {
    notify: loop.poke,
    async stop(): Promise<void> {
      stopping = true;
      await loop.stop();
    },
  };
}

// A delivery worker: claims due recipients and hands each to the transport.
// Here the only transport is the sandbox; the delivery issue adds SMTP.
// It polls, and wakes early when the send path says there is new work.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Recipient } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import type { Clock } from '../clock.ts';
import { claimDue } from './queue.ts';

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
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;

  async function drain(): Promise<void> {
    for (;;) {
      const claim = { workerId: o.workerId, now: o.clock.now(), limit: o.batchSize, leaseMs: 60_000 };
      const batch = await claimDue(o.db, o.dialect, { ...claim, lane: 'transactional' });
      if (batch.length < o.batchSize) batch.push(...(await claimDue(o.db, o.dialect, { ...claim, limit: o.batchSize - batch.length, lane: 'campaign' })));
      for (const r of batch) {
        if (stopped) return;
        await o.deliver(r, o.workerId);
      }
      if (batch.length < o.batchSize || stopped) return;
    }
  }

  function tick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = drain()
      .catch((err) => o.logger.error({ err }, 'delivery worker: pass failed; retrying at the next poll'))
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          setImmediate(tick);
        } else timer = setTimeout(tick, o.pollMs);
      });
  }

  tick();
  return {
    notify: tick,
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

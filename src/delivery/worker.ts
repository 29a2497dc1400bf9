// A delivery worker: claims due recipients with a lease, transactional lane
// first, and hands each to `deliver` without waiting for it: many are
// delivered at once (the SMTP lanes, or the sandbox's slots, bound how many
// run). It holds at most `maxHeld` claimed rows, some of them kept for
// transactional mail; it claims again as rows settle, when the send path
// says there is new work, or every pollMs. Leases of the rows it holds are
// renewed while they wait, so a row queued behind a slow provider is not
// taken by another worker meanwhile; on stop, rows not started go back.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Recipient } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import type { Clock } from '../clock.ts';
import { claimDue, statusUnindexed } from './queue.ts';
import { startLoop } from '../loop.ts';

export interface WorkerOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  logger: Logger;
  workerId: string;
  pollMs: number;
  /** rows claimed by one query */
  batchSize: number;
  /** claimed rows held at once, settled or not (default 4 × batchSize) */
  maxHeld?: number;
  leaseMs?: number;
  /** resolves once the row's outcome is written (or the row released) */
  deliver(r: Recipient, workerId: string): Promise<void>;
  /** on stop, after claiming ended: give back what waits, finish what runs */
  drain?(): Promise<void>;
}

const RENEW_CHUNK = 500;

export function startWorker(o: WorkerOptions) {
  const leaseMs = o.leaseMs ?? 60_000;
  const maxHeld = Math.max(1, o.maxHeld ?? o.batchSize * 4);
  // room kept for transactional mail: campaign rows never fill the worker
  const reserve = Math.max(1, Math.floor(maxHeld / 10));
  // not worth a claim query below this many free places
  const minClaim = Math.max(1, Math.min(o.batchSize, Math.floor(maxHeld / 4)));
  const held = new Map<string, Promise<void>>();
  let heldCampaign = 0;
  let hungry = false;
  let stopping = false;

  function start(r: Recipient): void {
    if (held.has(r.id)) return; // our own row again, its lease renewed by the claim
    if (r.campaign_id) heldCampaign++;
    const run = o.deliver(r, o.workerId)
      .catch((err) => o.logger.error({ err, recipient: r.id }, 'delivery failed; the row is retried when its lease ends'))
      .finally(() => {
        held.delete(r.id);
        if (r.campaign_id) heldCampaign--;
        if (hungry && !stopping && maxHeld - held.size >= minClaim) {
          hungry = false;
          loop.poke();
        }
      });
    held.set(r.id, run);
  }

  // The transactional claim walked the due rows in time order looking for
  // those without a campaign: behind a big campaign that was a long walk
  // (0.4 s with 950,000 campaign rows queued on SQLite). It now reads a
  // partial index of queued transactional rows (migration 014), and the
  // pacing below stays as a guard should a plan ever walk again: it runs when told
  // there is new mail, when the last one came back full, and otherwise at
  // most every pollMs and never more than 2 % of the time: retries and the
  // mail of workers that cannot notify this one wait a little longer behind
  // a big campaign, and the campaign is not slowed down by the walk.
  let txDue = true;
  let txClaimedAt = 0;
  let txClaimMs = 0;

  /** one round of claims; true when it was full (there is probably more) */
  async function pass(): Promise<boolean> {
    if (stopping) return false;
    const claim = { workerId: o.workerId, now: o.clock.now(), leaseMs };
    const room = maxHeld - held.size;
    const txLimit = Math.min(room, o.batchSize);
    let tx: Recipient[] = [];
    if (txLimit > 0 && (txDue || performance.now() - txClaimedAt >= Math.max(o.pollMs, txClaimMs * 50))) {
      txDue = false;
      txClaimedAt = performance.now();
      tx = await claimDue(o.db, o.dialect, { ...claim, limit: txLimit, lane: 'transactional' });
      txClaimMs = performance.now() - txClaimedAt;
      if (tx.length === txLimit) txDue = true;
    }
    for (const r of tx) start(r);
    const campaignLimit = Math.min(o.batchSize, maxHeld - reserve - held.size);
    if (campaignLimit < minClaim) {
      hungry = true;
      return tx.length === txLimit && txLimit > 0;
    }
    const bulk = await claimDue(o.db, o.dialect, { ...claim, limit: campaignLimit, lane: 'campaign' });
    for (const r of bulk) start(r);
    return (txLimit > 0 && tx.length === txLimit) || bulk.length === campaignLimit;
  }

  async function renew(): Promise<void> {
    const ids = [...held.keys()];
    const until = o.clock.now() + leaseMs;
    for (let i = 0; i < ids.length; i += RENEW_CHUNK) {
      await o.db.updateTable('recipients').set({ locked_until: until, next_attempt_at: until })
        .where('id', 'in', ids.slice(i, i + RENEW_CHUNK)).where('locked_by', '=', o.workerId).where(statusUnindexed, '=', 'queued').execute();
    }
  }
  const renewer = setInterval(() => {
    renew().catch((err) => o.logger.warn({ err }, 'delivery worker: lease renewal failed'));
  }, Math.max(1_000, Math.floor(leaseMs / 3)));
  renewer.unref();

  const loop = startLoop('delivery worker', o.pollMs, o.logger, pass);
  return {
    /** transactional mail was accepted: claim now, that lane first */
    notify(): void {
      txDue = true;
      loop.poke();
    },
    /** campaign rows were enqueued: claim now */
    poke(): void {
      loop.poke();
    },
    /** rows claimed and not settled yet */
    get held(): number {
      return held.size;
    },
    get heldCampaign(): number {
      return heldCampaign;
    },
    async stop(): Promise<void> {
      stopping = true;
      await loop.stop();
      clearInterval(renewer);
      await o.drain?.();
      await Promise.allSettled([...held.values()]);
    },
  };
}

// The ready queue of one egress path — a (provider, IP pool), or for the
// "default" provider an (MX host, IP pool) — as in KumoMTA: recipients routed
// there wait in memory for one of the path's lanes (an SMTP session each, at
// most the provider's connection cap). Transactional mail is taken first
// (STYLE 7). The queue is bounded: what a slow provider cannot take soon goes
// back to the database's scheduled queue for about the time the path needs to
// drain, so it never fills the worker and stalls the other destinations.
import type { MxHost } from '../route/mx.ts';

export interface PathJob {
  transactional: boolean;
  /** the destination's MX hosts, by preference */
  hosts: MxHost[];
}

/** How far ahead a lane looks for a job to the host its session is connected to. */
const LOOKAHEAD = 32;
const MAX_OVERFLOW_MS = 15 * 60_000;

export class EgressPath<J extends PathJob> {
  private readonly tx: J[] = [];
  private readonly bulk: J[] = [];
  /** lanes running (or starting) on this path */
  lanes = 0;
  /** lanes with a session open and nothing to do, waiting: resolve(true) gives them work, resolve(false) ends them */
  private readonly idle: Array<(work: boolean) => void> = [];
  /** milliseconds one message takes on one lane, smoothed: how fast the path drains */
  private msPerMessage = 1_000;
  /** where the last overflowing recipient was scheduled: the next ones go after it */
  private horizon = 0;

  constructor(
    readonly key: string,
    /** the provider's connection cap for this path */
    readonly maxConnections: number,
    /** campaign recipients held in memory at most */
    readonly bound: number,
  ) {}

  get size(): number {
    return this.tx.length + this.bulk.length;
  }

  get hasTransactional(): boolean {
    return this.tx.length > 0;
  }

  /** Queues a job; false when a campaign job finds the queue full (transactional ones always enter). */
  push(job: J): boolean {
    if (job.transactional) this.tx.push(job);
    else if (this.bulk.length >= this.bound) return false;
    else this.bulk.push(job);
    return true;
  }

  /** The next job: transactional first; among the first few, one for `host` if there is one (the lane's session goes there). */
  take(host?: string): J | undefined {
    const q = this.tx.length ? this.tx : this.bulk;
    if (!q.length) return undefined;
    if (host && q[0].hosts[0]?.host !== host) {
      const n = Math.min(q.length, LOOKAHEAD);
      for (let i = 1; i < n; i++) if (q[i].hosts[0]?.host === host) return q.splice(i, 1)[0];
    }
    return q.shift();
  }

  /** Empties the queue (a hold on the provider, a stopping worker). */
  drain(): J[] {
    return [...this.tx.splice(0), ...this.bulk.splice(0)];
  }

  /** When an overflowing campaign recipient should come back: once the queue ahead of it has drained, one after another. */
  overflowUntil(now: number): number {
    const step = this.msPerMessage / this.maxConnections;
    const drained = now + Math.max(1_000, this.size * step);
    this.horizon = Math.min(now + MAX_OVERFLOW_MS, Math.max(drained, this.horizon + step));
    return Math.round(this.horizon);
  }

  /** A message took this long on a lane. */
  took(ms: number): void {
    this.msPerMessage = this.msPerMessage * 0.9 + ms * 0.1;
  }

  /** Waits for work with the session open, at most `ms`; false: none came, or the lane is dismissed. */
  waitForWork(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), ms);
      const settle = (work: boolean) => {
        clearTimeout(timer);
        const i = this.idle.indexOf(settle);
        if (i >= 0) this.idle.splice(i, 1);
        resolve(work);
      };
      this.idle.push(settle);
    });
  }

  /** Gives the new work to an idle lane; false when none is idle. */
  wakeOne(): boolean {
    const w = this.idle.shift();
    w?.(true);
    return w !== undefined;
  }

  get idleLanes(): number {
    return this.idle.length;
  }

  /** Ends one idle lane (its slot is wanted elsewhere); false when none is idle. */
  dismissIdle(): boolean {
    const w = this.idle.shift();
    w?.(false);
    return w !== undefined;
  }
}

// How many lanes (SMTP sessions, each delivering one message at a time) a
// worker process runs at once, across all egress paths: delivery.concurrency.
// When every lane is taken, a path with work waits its turn; a lane that
// finishes a session (or an idle one) hands its place over, transactional
// paths first, so neither a big campaign nor a slow provider keeps the others
// waiting for long.

export class LaneBudget<P> {
  private running = 0;
  private readonly waiting: P[] = [];
  private drained: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.running;
  }

  /** Takes a place for a lane of `path`; false (and the path waits its turn) when none is free. */
  take(path: P): boolean {
    if (this.running < this.capacity) {
      this.running++;
      return true;
    }
    this.wait(path);
    return false;
  }

  get hasRoom(): boolean {
    return this.running < this.capacity;
  }

  /** A lane ended: its place goes back. */
  give(): void {
    this.running--;
    if (this.running === 0) for (const d of this.drained.splice(0)) d();
  }

  /** Puts a path in line for a lane (behind those already waiting). */
  wait(path: P): void {
    if (!this.waiting.includes(path)) this.waiting.push(path);
  }

  /** The next path in line, the first `prefer` says yes to if any; undefined when none waits. */
  next(prefer?: (p: P) => boolean): P | undefined {
    if (!this.waiting.length) return undefined;
    const i = prefer ? Math.max(0, this.waiting.findIndex(prefer)) : 0;
    return this.waiting.splice(i, 1)[0];
  }

  /** Does a path other than this one wait for a lane? */
  othersWaiting(path: P, only?: (p: P) => boolean): boolean {
    return this.waiting.some((p) => p !== path && (!only || only(p)));
  }

  /** Resolves when no lane runs. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }
}

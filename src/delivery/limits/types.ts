// The limiter's interface, apart from its two implementations (both import it).

/** A connection slot held against a key's cap. */
export interface Slot {
  /** gives the slot back at once */
  release(): Promise<void>;
  /** pushes the expiry ttlMs (default: the acquire's) past now; false when the slot had already expired and is lost */
  renew(ttlMs?: number): Promise<boolean>;
}

export interface Limiter {
  /** a connection slot for key if fewer than max are held cluster-wide; it
   * expires after ttlMs unless renewed or released, so a dead worker's slots come back */
  acquire(key: string, max: number, ttlMs: number): Promise<Slot | null>;
  /** one more message may start for key now under perMinute: a token bucket
   * refilled continuously, holding at most one second's worth (at least 1) */
  takeRate(key: string, perMinute: number): Promise<boolean>;
  /** slows down or pauses a key until a time, for every worker; never shortens a longer hold already in place */
  hold(key: string, until: number, why: string): Promise<void>;
  /** the hold in force on key now, if any */
  heldUntil(key: string): Promise<{ until: number; why: string } | null>;
  /** counts one for key on day if fewer than limit were counted; false when the day's budget is spent */
  takeDaily(key: string, day: string, limit: number): Promise<boolean>;
  /** what takeDaily counted for key on day */
  dailyUsed(key: string, day: string): Promise<number>;
  /** gives back at once the slots held by dead processes of this host (owner "<host>:<pid>:…" with no such pid); the owners released */
  releaseDeadLocal(hostname: string, alive: (pid: number) => boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** How many messages a token bucket of perMinute holds: one second's worth, at least one. */
export const bucketSize = (perMinute: number): number => Math.max(1, perMinute / 60);

// What the egress paths (provider × IP pool) share beyond one lane:
// connection slots and holds (a provider slowed down or suspended by a
// reaction, GM-11). A seam: the engine sees only this; `egressStateOf` puts
// the Limiter (src/delivery/limits: in process, or Redis for several
// workers) behind it, and `createLocalEgressState` is the plain in-process
// version for a lone engine (tests).
import type { Limiter } from '../limits/index.ts';
import { bucketSize } from '../limits/types.ts';

export interface Hold {
  until: number;
  why: string;
}

export interface EgressSlot {
  release(): Promise<void>;
  /** keeps a long-lived slot (a session open for minutes) from expiring; false once it was lost */
  renew(): Promise<boolean>;
}

export interface EgressState {
  /** A connection slot of the path unless `max` are taken (cluster-wide with a shared limiter); null when none is free. */
  acquire(key: string, max: number): Promise<EgressSlot | null>;
  /** the hold in force on the path at `now`, if any */
  holdOf(key: string, now: number): Promise<Hold | undefined>;
  hold(key: string, hold: Hold): Promise<void>;
  /** one more message may start on the path now under its provider's rate (cluster-wide with a shared limiter) */
  takeRate(key: string, perMinute: number): Promise<boolean>;
}

/** A slot not renewed for this long is given back by the limiter (its worker died). */
export const SLOT_TTL_MS = 5 * 60_000;
const key = (k: string) => `egress:${k}`;

export function egressStateOf(limiter: Limiter): EgressState {
  return {
    async acquire(k, max) {
      const slot = await limiter.acquire(key(k), max, SLOT_TTL_MS);
      return slot && { release: () => slot.release(), renew: () => slot.renew() };
    },
    async holdOf(k, now) {
      const h = await limiter.heldUntil(key(k));
      return h && h.until > now ? h : undefined;
    },
    hold: (k, h) => limiter.hold(key(k), h.until, h.why),
    takeRate: (k, perMinute) => limiter.takeRate(key(k), perMinute),
  };
}

export function createLocalEgressState(): EgressState {
  const busy = new Map<string, number>();
  const holds = new Map<string, Hold>();
  // the same token bucket as the limiters' (one second's worth at most), on this process's clock
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async takeRate(k, perMinute) {
      const now = performance.now();
      const size = bucketSize(perMinute);
      const b = buckets.get(k) ?? { tokens: size, at: now };
      b.tokens = Math.min(size, b.tokens + ((now - b.at) * perMinute) / 60_000);
      b.at = now;
      buckets.set(k, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    async acquire(k, max) {
      const n = busy.get(k) ?? 0;
      if (n >= max) return null;
      busy.set(k, n + 1);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          const left = (busy.get(k) ?? 1) - 1;
          if (left > 0) busy.set(k, left);
          else busy.delete(k);
        },
        renew: async () => !released,
      };
    },
    async holdOf(k, now) {
      const h = holds.get(k);
      if (h && h.until <= now) holds.delete(k);
      return h && h.until > now ? h : undefined;
    },
    async hold(k, h) {
      const cur = holds.get(k);
      if (!cur || cur.until < h.until) holds.set(k, h);
    },
  };
}

// The limits of one process. Node runs one thing at a time and nothing here
// awaits between a check and its update, so every operation is atomic; the
// promises are only there to keep the Redis limiter's shape.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { bucketSize, type Limiter, type Slot } from './types.ts';

/** days of daily counters kept: today, yesterday, and a day of clock skew */
const DAYS_KEPT = 3;

export function createMemoryLimiter(clock: Clock): Limiter {
  const slots = new Map<string, Map<string, number>>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const holds = new Map<string, { until: number; why: string }>();
  const daily = new Map<string, Map<string, number>>();

  function liveSlots(key: string, now: number): Map<string, number> {
    let held = slots.get(key);
    if (!held) slots.set(key, (held = new Map()));
    for (const [id, expires] of held) if (expires <= now) held.delete(id);
    return held;
  }

  function dayCounts(day: string): Map<string, number> {
    let counts = daily.get(day);
    if (!counts) {
      daily.set(day, (counts = new Map()));
      while (daily.size > DAYS_KEPT) daily.delete([...daily.keys()].sort()[0]);
    }
    return counts;
  }

  return {
    async acquire(key, max, ttlMs) {
      const now = clock.now();
      const held = liveSlots(key, now);
      if (held.size >= max) return null;
      const id = randomUUID();
      held.set(id, now + ttlMs);
      const slot: Slot = {
        async release() {
          slots.get(key)?.delete(id);
        },
        async renew(ms = ttlMs) {
          const t = clock.now();
          const mine = slots.get(key);
          const expires = mine?.get(id);
          if (!mine || expires === undefined || expires <= t) {
            mine?.delete(id);
            return false;
          }
          mine.set(id, t + ms);
          return true;
        },
      };
      return slot;
    },

    async takeRate(key, perMinute) {
      const now = clock.now();
      const cap = bucketSize(perMinute);
      const b = buckets.get(key) ?? { tokens: cap, at: now };
      const tokens = Math.min(cap, b.tokens + (Math.max(0, now - b.at) * perMinute) / 60_000);
      const ok = tokens >= 1;
      buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: Math.max(b.at, now) });
      return ok;
    },

    async hold(key, until, why) {
      const cur = holds.get(key);
      if (!cur || cur.until < until) holds.set(key, { until, why });
    },

    async heldUntil(key) {
      const h = holds.get(key);
      if (!h) return null;
      if (h.until > clock.now()) return { ...h };
      holds.delete(key);
      return null;
    },

    async takeDaily(key, day, limit) {
      const counts = dayCounts(day);
      const n = counts.get(key) ?? 0;
      if (n >= limit) return false;
      counts.set(key, n + 1);
      return true;
    },

    async dailyUsed(key, day) {
      return daily.get(day)?.get(key) ?? 0;
    },

    // a process's own slots die with it
    async releaseDeadLocal() {
      return [];
    },

    async close() {},
  };
}

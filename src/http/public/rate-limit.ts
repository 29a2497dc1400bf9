// An in-memory sliding-window limiter for the public pages (subscription form
// posts per IP). In memory because a short burst limit needs no durability and
// must cost nothing per request; the limits that must survive restarts (mails
// per address per day) use the persistent counters of the audience stage.
// A sliding log rather than fixed windows: a client cannot double its rate by
// straddling a window boundary, and Retry-After can say exactly when it may
// come back. Limits here are small (tens a minute), so the log stays short.
import type { Clock } from '../../clock.ts';

export type Decision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  limit: number;
  windowMs: number;
  clock: Clock;
  /** most keys tracked at once; beyond it the longest-known key is forgotten */
  maxKeys?: number;
}

export function createRateLimiter(o: RateLimiterOptions) {
  const maxKeys = o.maxKeys ?? 50_000;
  const hits = new Map<string, number[]>();

  const live = (times: number[], now: number) => {
    let i = 0;
    while (i < times.length && times[i] <= now - o.windowMs) i++;
    return i ? times.slice(i) : times;
  };

  function sweep(now: number) {
    for (const [k, times] of hits) {
      const kept = live(times, now);
      if (kept.length) hits.set(k, kept);
      else hits.delete(k);
    }
  }

  return {
    /** Counts one request of `key` when allowed; a refused request is not counted, so Retry-After holds. */
    hit(key: string): Decision {
      const now = o.clock.now();
      const times = live(hits.get(key) ?? [], now);
      if (times.length >= o.limit) {
        hits.set(key, times);
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((times[0] + o.windowMs - now) / 1000)) };
      }
      if (!hits.has(key) && hits.size >= maxKeys) {
        sweep(now);
        // Still full (a spray of addresses): forgetting the oldest key bounds memory;
        // refusing newcomers instead would let a spray lock everyone out.
        if (hits.size >= maxKeys) hits.delete(hits.keys().next().value!);
      }
      times.push(now);
      hits.set(key, times);
      return { allowed: true };
    },
    /** keys tracked now (for tests and metrics) */
    size: () => hits.size,
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * The key of a client address. One IPv6 host usually holds a whole /64, so
 * counting single IPv6 addresses would let it rotate past any limit; an
 * IPv4-mapped address counts as the IPv4 address it is.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => (g || '0').replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

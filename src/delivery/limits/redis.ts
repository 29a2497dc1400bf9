// The limits shared by every envoi process through Redis. Each operation is
// one Lua script, so a check and its update are atomic however many workers
// ask at once. Slots are a sorted set per key scored by their expiry time: a
// worker that dies holding slots loses them when the time passes, or at
// once when a worker of the same host starts (releaseDeadLocal: a slot is
// named "<host>:<pid>:<uuid>", as the queue's leases are). Times come from the workers' clock (passed in), not
// Redis's, so tests can move them; Redis's own key expiry only collects
// garbage, with a margin.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Redis } from 'ioredis';
import type { Clock } from '../../clock.ts';
import { bucketSize, type Limiter, type Slot } from './types.ts';

/** added to every Redis key's expiry: garbage collection only, never the rule */
const MARGIN_MS = 60_000;
const DAILY_TTL_MS = 3 * 24 * 3600_000;

const SCRIPTS = {
  // KEYS[1] slots; ARGV now, max, ttl, id
  envoiAcquire: `
    local now = tonumber(ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
    local expires = now + tonumber(ARGV[3])
    redis.call('ZADD', KEYS[1], expires, ARGV[4])
    local keep = tonumber(ARGV[3]) + ${MARGIN_MS}
    if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
    return 1`,
  // KEYS[1] slots; ARGV now, ttl, id
  envoiRenew: `
    local now = tonumber(ARGV[1])
    local score = redis.call('ZSCORE', KEYS[1], ARGV[3])
    if not score or tonumber(score) <= now then
      redis.call('ZREM', KEYS[1], ARGV[3])
      return 0
    end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
    local keep = tonumber(ARGV[2]) + ${MARGIN_MS}
    if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
    return 1`,
  // KEYS[1] bucket; ARGV now, perMinute, capacity
  envoiRate: `
    local now = tonumber(ARGV[1])
    local perMs = tonumber(ARGV[2]) / 60000
    local cap = tonumber(ARGV[3])
    local v = redis.call('HMGET', KEYS[1], 't', 'a')
    local tokens = tonumber(v[1]) or cap
    local at = tonumber(v[2]) or now
    tokens = math.min(cap, tokens + math.max(0, now - at) * perMs)
    local ok = 0
    if tokens >= 1 then
      tokens = tokens - 1
      ok = 1
    end
    redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', tostring(math.max(at, now)))
    redis.call('PEXPIRE', KEYS[1], math.ceil(cap / perMs) + ${MARGIN_MS})
    return ok`,
  // KEYS[1] hold; ARGV until, why, now
  envoiHold: `
    local cur = tonumber(redis.call('HGET', KEYS[1], 'until'))
    if cur and cur >= tonumber(ARGV[1]) then return 0 end
    redis.call('HSET', KEYS[1], 'until', ARGV[1], 'why', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(ARGV[1]) - tonumber(ARGV[3])) + ${MARGIN_MS})
    return 1`,
  // KEYS[1] counter; ARGV limit
  envoiDaily: `
    local n = tonumber(redis.call('GET', KEYS[1]) or '0')
    if n >= tonumber(ARGV[1]) then return 0 end
    redis.call('INCR', KEYS[1])
    if n == 0 then redis.call('PEXPIRE', KEYS[1], ${DAILY_TTL_MS}) end
    return 1`,
} as const;

type Scripted = { [K in keyof typeof SCRIPTS]: (key: string, ...args: (string | number)[]) => Promise<number> };

/** prefix: every key starts with it (default "envoi:"); tests use a random one. */
export function createRedisLimiter(url: string, clock: Clock, prefix = 'envoi:'): Limiter {
  // lazy: a CLI command that never counts anything never connects
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // a lost connection rejects the commands in flight (the caller's failure);
  // the event itself would otherwise be printed as unhandled
  redis.on('error', () => {});
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  const run = redis as unknown as Scripted;
  function releaseLater(slotKey: string, id: string, expires: number, wait = 500): void {
    if (clock.now() + wait >= expires) return; // it expires by itself first
    setTimeout(() => {
      redis.zrem(slotKey, id).catch(() => releaseLater(slotKey, id, expires, Math.min(wait * 2, 10_000)));
    }, wait).unref();
  }
  const k = (kind: string, key: string) => `${prefix}${kind}:${key}`;
  const owner = `${os.hostname()}:${process.pid}`;

  return {
    async acquire(key, max, ttlMs) {
      const id = `${owner}:${randomUUID()}`;
      const slotKey = k('slots', key);
      if ((await run.envoiAcquire(slotKey, clock.now(), max, ttlMs, id)) !== 1) return null;
      const slot: Slot = {
        async release() {
          // Redis away at this moment: the slot would stay taken until its TTL
          // (minutes of a path's cap gone), so it is given back in the
          // background as soon as Redis answers again; the lane goes on now.
          await redis.zrem(slotKey, id).catch(() => releaseLater(slotKey, id, clock.now() + ttlMs));
        },
        async renew(ms = ttlMs) {
          return (await run.envoiRenew(slotKey, clock.now(), ms, id)) === 1;
        },
      };
      return slot;
    },

    async takeRate(key, perMinute) {
      return (await run.envoiRate(k('rate', key), clock.now(), perMinute, bucketSize(perMinute))) === 1;
    },

    async hold(key, until, why) {
      await run.envoiHold(k('hold', key), until, why, clock.now());
    },

    async heldUntil(key) {
      const [until, why] = await redis.hmget(k('hold', key), 'until', 'why');
      if (until === null || Number(until) <= clock.now()) return null;
      return { until: Number(until), why: why ?? '' };
    },

    async takeDaily(key, day, limit) {
      return (await run.envoiDaily(k(`daily:${day}`, key), limit)) === 1;
    },

    async dailyUsed(key, day) {
      return Number((await redis.get(k(`daily:${day}`, key))) ?? 0);
    },

    // Found by the kill test with two workers (test/hardening/kill-loop-two-workers.test.ts):
    // a worker killed with SIGKILL kept its connection slots for their whole
    // TTL (5 minutes) while its rows were taken back at once, so after a few
    // kills the paths' caps were held by the dead and delivery stalled.
    async releaseDeadLocal(hostname, alive) {
      const released = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}slots:*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          const dead = (await redis.zrange(key, '0', '-1')).filter((id) => {
            const [host, pid] = id.split(':');
            return host === hostname && /^\d+$/.test(pid ?? '') && Number(pid) !== process.pid && !alive(Number(pid));
          });
          if (dead.length) await redis.zrem(key, ...dead);
          for (const id of dead) released.add(id.split(':').slice(0, 2).join(':'));
        }
      } while (cursor !== '0');
      return [...released];
    },

    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

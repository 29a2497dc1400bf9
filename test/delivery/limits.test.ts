// The delivery limits, one table for both implementations: in process, and
// in a real Redis with two limiter instances standing for two worker
// processes (each test isolated under a random key prefix). The in-process
// limiter is shared by the workers of one process only, so its "two
// instances" are the same object.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryLimiter, createRedisLimiter, type Limiter } from '../../src/delivery/limits/index.ts';

const REDIS_URL = process.env.ENVOI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function clock(start = Date.parse('2026-11-25T09:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}
type TestClock = ReturnType<typeof clock>;

const kinds: { name: string; pair(c: TestClock): { a: Limiter; b: Limiter; close(): Promise<void> } }[] = [
  {
    name: 'in process',
    pair(c) {
      const a = createMemoryLimiter(c);
      return { a, b: a, close: () => a.close() };
    },
  },
  {
    name: 'Redis, two instances',
    pair(c) {
      const prefix = `envoi-test:${crypto.randomBytes(6).toString('hex')}:`;
      const a = createRedisLimiter(REDIS_URL, c, prefix);
      const b = createRedisLimiter(REDIS_URL, c, prefix);
      return {
        a, b,
        async close() {
          await a.close();
          await b.close();
          const r = new Redis(REDIS_URL);
          const keys = await r.keys(`${prefix}*`);
          if (keys.length) await r.del(...keys);
          await r.quit();
        },
      };
    },
  },
];

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

for (const kind of kinds) {
  describe(`limits (${kind.name})`, () => {
    const open: { close(): Promise<void> }[] = [];
    const setup = (c = clock()) => {
      const p = kind.pair(c);
      open.push(p);
      return { ...p, c };
    };
    after(async () => {
      for (const p of open) await p.close();
    });

    test('a cap holds under many concurrent acquirers on both instances', async () => {
      const { a, b } = setup();
      const max = 3;
      let held = 0;
      let most = 0;
      let granted = 0;
      const worker = async (l: Limiter, i: number) => {
        for (let round = 0; round < 15; round++) {
          const slot = await l.acquire('google|pool', max, 60_000);
          if (!slot) {
            await tick(i % 3);
            continue;
          }
          granted++;
          held++;
          most = Math.max(most, held);
          await tick(1);
          held--;
          await slot.release();
        }
      };
      await Promise.all(Array.from({ length: 40 }, (_, i) => worker(i % 2 ? a : b, i)));
      assert.ok(most <= max, `at most ${max} at once, saw ${most}`);
      assert.equal(most, max, 'the cap is reachable');
      assert.ok(granted > max, `slots come back when released (${granted} granted)`);
      // all at once: exactly max of them get a slot
      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).acquire('orange|pool', 2, 60_000)));
      assert.equal(burst.filter(Boolean).length, 2);
    });

    test("slots expire (a dead worker's come back); renewal keeps a live one", async () => {
      const { a, b, c } = setup();
      const s1 = await a.acquire('free|p', 2, 1000);
      const s2 = await b.acquire('free|p', 2, 5000);
      assert.ok(s1 && s2);
      assert.equal(await a.acquire('free|p', 2, 1000), null);
      c.advance(900);
      assert.equal(await s1.renew(), true, 'renewed before it expired');
      c.advance(900);
      assert.equal(await b.acquire('free|p', 2, 1000), null, 'the renewed slot still counts');
      c.advance(200);
      const s3 = await b.acquire('free|p', 2, 1000);
      assert.ok(s3, 'the expired slot came back');
      assert.equal(await s1.renew(), false, 'an expired slot cannot be renewed');
      await s2.release();
      assert.ok(await a.acquire('free|p', 2, 1000), 'a released slot comes back at once');
    });

    test('rates: a token bucket of one second, refilled continuously, shared', async () => {
      const { a, b, c } = setup();
      // 120 a minute: 2 a second, a burst of 2
      const takes = async (n: number) => {
        const out: boolean[] = [];
        for (let i = 0; i < n; i++) out.push(await (i % 2 ? a : b).takeRate('yahoo|p', 120));
        return out;
      };
      assert.deepEqual(await takes(3), [true, true, false]);
      c.advance(499);
      assert.deepEqual(await takes(1), [false]);
      c.advance(1);
      assert.deepEqual(await takes(2), [true, false]);
      c.advance(60_000);
      assert.deepEqual(await takes(3), [true, true, false], 'an idle minute does not bank more than the bucket');
      // 30 a minute: one every two seconds
      assert.equal(await a.takeRate('slow|p', 30), true);
      c.advance(1999);
      assert.equal(await b.takeRate('slow|p', 30), false);
      c.advance(1);
      assert.equal(await b.takeRate('slow|p', 30), true);
      // many at once: exactly the bucket
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).takeRate('ms|p', 300)));
      assert.equal(burst.filter(Boolean).length, 5);
    });

    test('a hold is seen by the other instance, is never shortened, and ends', async () => {
      const { a, b, c } = setup();
      assert.equal(await b.heldUntil('google|p'), null);
      const until = c.now() + 120 * 60_000;
      await a.hold('google|p', until, '421-4.7.28 unusual rate');
      assert.deepEqual(await b.heldUntil('google|p'), { until, why: '421-4.7.28 unusual rate' });
      await b.hold('google|p', c.now() + 15 * 60_000, '421 4.7.0 try again later');
      assert.deepEqual(await a.heldUntil('google|p'), { until, why: '421-4.7.28 unusual rate' }, 'the longer hold stays');
      c.advance(120 * 60_000);
      assert.equal(await a.heldUntil('google|p'), null);
    });

    test('daily budgets: exactly the limit under concurrency, per day', async () => {
      const { a, b } = setup();
      const got = await Promise.all(Array.from({ length: 25 }, (_, i) => (i % 2 ? a : b).takeDaily('p|dom|google', '2026-11-25', 7)));
      assert.equal(got.filter(Boolean).length, 7);
      assert.equal(await a.dailyUsed('p|dom|google', '2026-11-25'), 7);
      assert.equal(await b.takeDaily('p|dom|google', '2026-11-25', 8), true, 'a larger budget the same day allows the difference');
      assert.equal(await b.takeDaily('p|dom|google', '2026-11-25', 8), false);
      assert.equal(await a.takeDaily('p|dom|google', '2026-11-26', 8), true, 'a new day, a new budget');
      assert.equal(await b.dailyUsed('p|dom|google', '2026-11-26'), 1);
      assert.equal(await b.dailyUsed('p|dom|yahoo', '2026-11-25'), 0);
    });
  });
}

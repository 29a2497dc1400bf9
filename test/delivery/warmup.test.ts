// Warm-up in the engine (GM-13) on each dialect, with an injected clock: a
// ramp per (IP pool, sending domain, provider) starts at the schedule's
// start, moves once a UTC day from the previous day's hard bounces and
// complaints in the event log (late ones attributed to the ramp that
// delivered), overflow waits for the next day, two workers share one budget.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { createWarmup } from '../../src/delivery/warmup.ts';
import { createMemoryLimiter } from '../../src/delivery/limits/index.ts';
import { openStateFixture, type StateFixture } from './state-fixture.ts';

const DAY = 24 * 3600_000;
const schedule = { start: 3, growth: 2, max: 20 };

for (const dialect of DIALECTS) {
  describe(`warm-up ramps (${dialect})`, () => {
    let fx: StateFixture;
    let t = Date.parse('2026-11-25T09:00:00Z');
    const clock = { now: () => t };
    before(async () => {
      fx = await openStateFixture(dialect);
    });
    after(() => fx.dispose());

    const takes = async (w: ReturnType<typeof createWarmup>, domainId: string, n: number, provider = 'google', pool = 'shared') => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await w.take(pool, domainId, provider));
      return out.map((d) => d.ok);
    };

    test('a day of budget, then tomorrow; the ramp grows, steps back and holds on the health of the day before', async () => {
      const limiter = createMemoryLimiter(clock);
      const w = createWarmup({ db: fx.store.db, dialect: fx.store.dialect, clock, limiter, schedule, enabled: true });
      const s = await fx.sender('acme');
      const elsewhere = await fx.sender('other');
      const ramp = () => w.ramp('shared', s.domainId, 'google', t);

      // day 0: the schedule's start
      assert.deepEqual(await takes(w, s.domainId, 4), [true, true, true, false]);
      const refused = await w.take('shared', s.domainId, 'google');
      assert.deepEqual(refused, { ok: false, until: Date.parse('2026-11-26T00:00:00Z'), budget: 3, day: '2026-11-25' });
      assert.deepEqual(await takes(w, s.domainId, 1, 'yahoo'), [true], 'another provider is another ramp');
      assert.deepEqual(await takes(w, s.domainId, 1, 'google', 'dedicated'), [true], 'another pool too');
      await fx.events(s, 'delivered', 3, t, { provider: 'google' });
      await fx.events(s, 'bounced', 2, t, { provider: 'yahoo', classification: { kind: 'bounced', hard: true } });
      await fx.events(elsewhere, 'bounced', 5, t, { provider: 'google', classification: { kind: 'bounced', hard: true } });

      // day 1: day 0 was clean → index 1, budget 6
      t += DAY;
      assert.deepEqual(await takes(w, s.domainId, 7), [true, true, true, true, true, true, false]);
      assert.deepEqual(await ramp().then((r) => [r.day, r.day_index, r.budget, r.verdict, r.prev_delivered, r.prev_bounced]), ['2026-11-26', 1, 6, 'grow', 3, 0]);
      // 100 delivered, one complaint later (no provider on it: found through the delivery), one soft async bounce (not counted)
      const rcpts = await fx.events(s, 'delivered', 100, t, { provider: 'google' });
      await fx.events(s, 'complained', 1, t + 3600_000, { feedbackType: 'abuse' }, [rcpts[0]]);
      await fx.events(s, 'bounced', 1, t + 3600_000, { async: true, hard: false }, [rcpts[1]]);

      // day 2: 1 % complaints → step back: index 2 (earned on day 1), budget two levels below
      t += DAY;
      const r2 = await ramp();
      assert.deepEqual([r2.day_index, r2.budget, r2.verdict, r2.prev_delivered, r2.prev_complained, r2.prev_bounced], [2, 3, 'step-back', 100, 1, 0]);
      // nothing sent on day 2

      // day 3: the index falls back one; an unknown day holds, a level below
      t += DAY;
      const r3 = await ramp();
      assert.deepEqual([r3.day_index, r3.budget, r3.verdict, r3.prev_sent], [1, 3, 'hold', 0]);
      await fx.events(s, 'delivered', 50, t, { provider: 'google' });
      await fx.events(s, 'bounced', 1, t, { provider: 'google', classification: { kind: 'bounced', hard: true } });

      // day 4: 2 % hard bounces is healthy; index 1 (held), budget of index 1
      t += DAY;
      const r4 = await ramp();
      assert.deepEqual([r4.day_index, r4.budget, r4.verdict, r4.prev_sent, r4.prev_bounced], [1, 6, 'grow', 51, 1]);
    });

    test('two workers share the budget and agree on the ramp', async () => {
      const limiter = createMemoryLimiter(clock);
      const a = createWarmup({ db: fx.store.db, dialect: fx.store.dialect, clock, limiter, schedule, enabled: true });
      const b = createWarmup({ db: fx.store.db, dialect: fx.store.dialect, clock, limiter, schedule, enabled: true });
      const s = await fx.sender('twins');
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take('shared', s.domainId, 'google')));
      assert.equal(got.filter((d) => d.ok).length, 3);
      await fx.events(s, 'delivered', 3, t, { provider: 'google' });
      t += DAY;
      const next = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take('shared', s.domainId, 'google')));
      assert.equal(next.filter((d) => d.ok).length, 6);
      const [ra, rb] = await Promise.all([a.ramp('shared', s.domainId, 'google', t), b.ramp('shared', s.domainId, 'google', t)]);
      assert.deepEqual(ra, rb);
      assert.equal(ra.day_index, 1);
    });

    test('disabled: no budget; the status shows each tenant its own ramps', async () => {
      const limiter = createMemoryLimiter(clock);
      const off = createWarmup({ db: fx.store.db, dialect: fx.store.dialect, clock, limiter, schedule, enabled: false });
      const s = await fx.sender('warm');
      assert.deepEqual(await takes(off, s.domainId, 10), Array(10).fill(true));

      const on = createWarmup({ db: fx.store.db, dialect: fx.store.dialect, clock, limiter, schedule, enabled: true });
      await on.take('shared', s.domainId, 'microsoft');
      await fx.events(s, 'delivered', 2, t, { provider: 'microsoft' });
      const mine = await on.status(s.tenantId);
      assert.deepEqual(mine.map((r) => [r.domain, r.provider, r.pool, r.day, r.dayIndex, r.budget, r.sentToday, r.current]),
        [['warm.example', 'microsoft', 'shared', new Date(t).toISOString().slice(0, 10), 0, 3, 2, true]]);
      const all = await on.status(null);
      assert.ok(all.length > mine.length && all.some((r) => r.domain === 'acme.example'), 'an operator sees every tenant');
    });
  });
}

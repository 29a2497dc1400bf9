// Warm-up ramp (GM-13), table-tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_WARMUP, dailyBudget, nextRampDay, warmupVerdict } from '../../src/policy/warmup.ts';

const healthy = { bounceRate: 0.01, complaintRate: 0.0002 };
const doubtful = { bounceRate: 0.06, complaintRate: 0 }; // over 5 % bounces
const noisy = { bounceRate: 0, complaintRate: 0.002 }; // over 0.1 % complaints
const bad = { bounceRate: 0.12, complaintRate: 0 };
const spammy = { bounceRate: 0, complaintRate: 0.003 }; // Gmail's 0.3 %

test('the default schedule starts at a few hundred and grows by half', () => {
  assert.deepEqual(DEFAULT_WARMUP, { start: 300, growth: 1.5, max: 100_000 });
  const table: [number, number][] = [
    [0, 300],
    [1, 450],
    [2, 675],
    [3, 1012],
    [7, 5125],
    [14, 87_578],
    [15, 100_000], // capped
    [60, 100_000],
  ];
  for (const [day, budget] of table) assert.equal(dailyBudget(DEFAULT_WARMUP, day, healthy), budget, `day ${day}`);
});

test('doubling schedule and no cap', () => {
  const s = { start: 200, growth: 2 };
  assert.deepEqual([0, 1, 2, 3, 10].map((d) => dailyBudget(s, d, healthy)), [200, 400, 800, 1600, 204_800]);
});

test('unhealthy days hold or step back', () => {
  const table: [number, typeof healthy, number][] = [
    [3, doubtful, 675], // hold at the day before
    [3, noisy, 675],
    [3, bad, 450], // two levels back
    [3, spammy, 450],
    [1, bad, 300], // never below day 0
    [0, doubtful, 300],
    [3, { bounceRate: 0.05, complaintRate: 0.001 }, 1012], // at the thresholds: still healthy
    [3, { bounceRate: Number.NaN, complaintRate: 0 }, 675], // unknown: hold
  ];
  for (const [day, health, budget] of table) assert.equal(dailyBudget(DEFAULT_WARMUP, day, health), budget, JSON.stringify([day, health]));
});

test('verdicts and the index to keep for tomorrow', () => {
  assert.deepEqual([healthy, doubtful, noisy, bad, spammy].map(warmupVerdict), ['grow', 'hold', 'hold', 'step-back', 'step-back']);
  const table: [number, typeof healthy, number][] = [
    [3, healthy, 4],
    [3, doubtful, 3],
    [3, bad, 2],
    [0, bad, 0],
    [Number.NaN, healthy, 1],
  ];
  for (const [day, health, next] of table) assert.equal(nextRampDay(day, health), next, JSON.stringify([day, health]));
});

test('a week of mixed days, as the dispatcher would run it', () => {
  const days = [healthy, healthy, doubtful, healthy, bad, healthy, healthy];
  let index = 0;
  const budgets: number[] = [];
  for (const h of days) {
    budgets.push(dailyBudget(DEFAULT_WARMUP, index, h));
    index = nextRampDay(index, h);
  }
  assert.deepEqual(budgets, [300, 450, 450, 675, 450, 675, 1012]);
  assert.equal(index, 4);
});

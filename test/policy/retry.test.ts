// Backoff and expiry (issue 5), table-tested; jitter is injected so the
// numbers are exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, expired, nextAttemptDelay } from '../../src/policy/retry.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

test('defaults: 5 minutes doubling to a 4 hour ceiling', () => {
  assert.deepEqual(DEFAULT_BACKOFF, { baseMinutes: 5, maxMinutes: 240 });
  const table: [number, number][] = [
    [1, 5 * MIN],
    [2, 10 * MIN],
    [3, 20 * MIN],
    [4, 40 * MIN],
    [5, 80 * MIN], // 1h20
    [6, 160 * MIN], // 2h40
    [7, 4 * HOUR],
    [8, 4 * HOUR],
    [30, 4 * HOUR],
    [5000, 4 * HOUR], // 2 ** 4999 is Infinity: still the ceiling
  ];
  for (const [attempt, ms] of table) assert.equal(nextAttemptDelay(attempt), ms, `attempt ${attempt}`);
});

test('odd attempt numbers count as the first', () => {
  for (const a of [0, -3, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(nextAttemptDelay(a), 5 * MIN, String(a));
  assert.equal(nextAttemptDelay(2.7), 10 * MIN);
});

test('base and ceiling are configurable', () => {
  assert.equal(nextAttemptDelay(1, { baseMinutes: 1 }), MIN);
  assert.equal(nextAttemptDelay(4, { baseMinutes: 1 }), 8 * MIN);
  assert.equal(nextAttemptDelay(10, { baseMinutes: 1, maxMinutes: 30 }), 30 * MIN);
});

test('jitter spreads ±10 % and is deterministic when injected', () => {
  const table: [number, number, number][] = [
    [1, 0, 4.5 * MIN],
    [1, 0.5, 5 * MIN],
    [1, 0.999999, Math.round(5 * MIN * (0.9 + 0.2 * 0.999999))],
    [8, 0, 216 * MIN], // applied after the ceiling, so retries at the plateau do not bunch
    [3, 5, 22 * MIN], // out of range values are clamped to [0, 1]
    [3, Number.NaN, 18 * MIN],
  ];
  for (const [attempt, j, ms] of table) assert.equal(nextAttemptDelay(attempt, { jitter: () => j }), ms, `${attempt} / ${j}`);
});

test('a retry-after from the reply or a provider slowdown wins when longer', () => {
  assert.equal(nextAttemptDelay(1, { retryAfterMinutes: 240 }), 240 * MIN); // Yahoo TSS04: about four hours
  assert.equal(nextAttemptDelay(1, { retryAfterMinutes: 1 }), 5 * MIN); // shorter: ignored
  assert.equal(nextAttemptDelay(7, { retryAfterMinutes: 600 }), 600 * MIN); // beyond the ceiling: the receiver knows best
  assert.equal(nextAttemptDelay(2, { retryAfterMinutes: Number.NaN }), 10 * MIN);
});

test('expiry: 3 days for marketing, 5 for transactional, configurable', () => {
  const t0 = Date.UTC(2025, 0, 1);
  const table: [number, 'marketing' | 'transactional', boolean, object?][] = [
    [3 * DAY - 1, 'marketing', false],
    [3 * DAY, 'marketing', true],
    [3 * DAY, 'transactional', false],
    [5 * DAY - 1, 'transactional', false],
    [5 * DAY, 'transactional', true],
    [DAY, 'marketing', true, { marketingDays: 1 }],
    [6 * DAY, 'transactional', false, { transactionalDays: 7 }],
    [0, 'marketing', false],
  ];
  for (const [age, kind, expected, opts] of table) assert.equal(expired(t0, t0 + age, kind, opts), expected, `${age / DAY} days ${kind}`);
});

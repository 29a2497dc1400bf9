// Progress polls (the sending view, API clients) share a costly count instead
// of each running it; a cheap one is always current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedCounts } from '../../src/campaigns/shared-counts.ts';

function counter(ms: number) {
  let runs = 0;
  return { get runs() { return runs; }, count: async (_key: string) => { runs++; await sleep(ms); return runs; } };
}

test('a count that took long serves the readers that come within ten times its duration, and those that came while it ran', async () => {
  const c = counter(40);
  const counts = sharedCounts(c.count);
  const first = await Promise.all(Array.from({ length: 50 }, () => counts.read('c1')));
  assert.equal(c.runs, 1, '50 readers at once: one count');
  assert.ok(first.every((v) => v === 1));
  assert.equal(await counts.read('c1'), 1, 'read again at once: the kept count');
  await counts.read('c2');
  assert.equal(c.runs, 2, 'another campaign has its own count');
  await sleep(600); // past 10 x 40 ms
  assert.equal(await counts.read('c1'), 3, 'counted again once the time is past');
});

test('a cheap count is never reused: every read after it finished counts anew', async () => {
  const c = counter(0);
  const counts = sharedCounts(c.count);
  for (let i = 1; i <= 5; i++) assert.equal(await counts.read('c1'), i);
});

test('a failed count is not kept: the next read tries again', async () => {
  let fail = true;
  const counts = sharedCounts(async () => {
    await sleep(30);
    if (fail) throw new Error('database away');
    return 7;
  });
  await assert.rejects(counts.read('c1'), /database away/);
  fail = false;
  assert.equal(await counts.read('c1'), 7);
});

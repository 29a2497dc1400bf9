// Quiet hours (AF-9), table-tested in Europe/Paris across both DST changes
// of 2025 (30 March, 02:00 -> 03:00; 26 October, 03:00 -> 02:00), with
// windows that cross midnight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inPreferredHours, inQuietHours, nextAllowed, type QuietHours } from '../../src/policy/quiet-hours.ts';

const paris: QuietHours = { timeZone: 'Europe/Paris', from: '15:00', to: '22:00', preferred: { from: '00:00', to: '07:00' } };
const night: QuietHours = { timeZone: 'Europe/Paris', from: '22:00', to: '07:00' };
const at = (iso: string) => Date.parse(iso);

test('inQuietHours: 15:00 inclusive to 22:00 exclusive, local time, winter and summer', () => {
  const table: [string, boolean][] = [
    ['2025-01-15T13:59:59Z', false], // 14:59:59 CET
    ['2025-01-15T14:00:00Z', true], // 15:00 CET
    ['2025-01-15T20:59:59Z', true], // 21:59:59
    ['2025-01-15T21:00:00Z', false], // 22:00
    ['2025-07-01T12:59:00Z', false], // 14:59 CEST
    ['2025-07-01T13:00:00Z', true], // 15:00 CEST
    ['2025-07-01T19:59:00Z', true],
    ['2025-07-01T20:00:00Z', false], // 22:00 CEST
    ['2025-03-30T13:30:00Z', true], // 15:30 CEST, the day clocks went forward
    ['2025-10-26T14:30:00Z', true], // 15:30 CET, the day clocks went back
    ['2025-10-26T13:30:00Z', false], // 14:30 CET
  ];
  for (const [iso, expected] of table) assert.equal(inQuietHours(at(iso), paris), expected, iso);
});

test('nextAllowed: now when allowed, else the local end of the window', () => {
  const table: [string, string][] = [
    ['2025-01-15T10:00:00Z', '2025-01-15T10:00:00.000Z'],
    ['2025-01-15T15:00:00Z', '2025-01-15T21:00:00.000Z'], // 16:00 CET -> 22:00 CET
    ['2025-01-15T20:59:30Z', '2025-01-15T21:00:00.000Z'],
    ['2025-07-01T13:00:00Z', '2025-07-01T20:00:00.000Z'], // 22:00 CEST
    ['2025-03-30T14:00:00Z', '2025-03-30T20:00:00.000Z'],
    ['2025-10-26T15:00:00Z', '2025-10-26T21:00:00.000Z'],
  ];
  for (const [now, expected] of table) assert.equal(new Date(nextAllowed(at(now), paris)).toISOString(), expected, now);
});

test('a window across midnight, and across a DST change', () => {
  const table: [string, boolean, string][] = [
    ['2025-01-15T22:30:00Z', true, '2025-01-16T06:00:00.000Z'], // 23:30 CET -> 07:00 CET
    ['2025-01-16T05:59:00Z', true, '2025-01-16T06:00:00.000Z'], // 06:59 -> 07:00
    ['2025-01-16T06:00:00Z', false, '2025-01-16T06:00:00.000Z'],
    ['2025-01-15T20:59:00Z', false, '2025-01-15T20:59:00.000Z'], // 21:59
    ['2025-03-29T22:30:00Z', true, '2025-03-30T05:00:00.000Z'], // 23:30 CET -> 07:00 CEST: a night one hour shorter
    ['2025-10-25T22:30:00Z', true, '2025-10-26T06:00:00.000Z'], // 00:30 CEST -> 07:00 CET: one hour longer
  ];
  for (const [now, quiet, expected] of table) {
    assert.equal(inQuietHours(at(now), night), quiet, now);
    assert.equal(new Date(nextAllowed(at(now), night)).toISOString(), expected, now);
  }
});

test('a window ending in the hour that does not exist, or that happens twice', () => {
  const q: QuietHours = { timeZone: 'Europe/Paris', from: '01:00', to: '02:30' };
  // 30 March: 02:30 never shows on the clock; the window ends when it jumps to 03:00 (01:00Z).
  assert.equal(new Date(nextAllowed(at('2025-03-30T00:15:00Z'), q)).toISOString(), '2025-03-30T01:00:00.000Z');
  // 26 October: 02:30 happens twice; the first time ends the window...
  assert.equal(new Date(nextAllowed(at('2025-10-25T23:15:00Z'), q)).toISOString(), '2025-10-26T00:30:00.000Z');
  assert.equal(inQuietHours(at('2025-10-26T00:45:00Z'), q), false); // 02:45 CEST
  // ...and once the clock shows 01:xx again, the window is back, ending at the second 02:30.
  assert.equal(inQuietHours(at('2025-10-26T01:15:00Z'), q), true); // 02:15 CET
  assert.equal(new Date(nextAllowed(at('2025-10-26T01:15:00Z'), q)).toISOString(), '2025-10-26T01:30:00.000Z');
});

test('another zone, and an empty window', () => {
  const ny: QuietHours = { timeZone: 'America/New_York', from: '15:00', to: '22:00' };
  assert.equal(inQuietHours(at('2025-07-01T19:00:00Z'), ny), true); // 15:00 EDT
  assert.equal(new Date(nextAllowed(at('2025-07-01T19:00:00Z'), ny)).toISOString(), '2025-07-02T02:00:00.000Z');
  const none: QuietHours = { timeZone: 'Europe/Paris', from: '10:00', to: '10:00' };
  assert.equal(inQuietHours(at('2025-01-15T09:00:00Z'), none), false);
});

test('preferred hours (00:00-07:00 Paris)', () => {
  const table: [string, boolean][] = [
    ['2025-01-15T23:30:00Z', true], // 00:30 CET
    ['2025-01-16T05:59:00Z', true], // 06:59
    ['2025-01-16T06:00:00Z', false], // 07:00
    ['2025-07-01T22:30:00Z', true], // 00:30 CEST
    ['2025-07-01T10:00:00Z', false],
  ];
  for (const [iso, expected] of table) assert.equal(inPreferredHours(at(iso), paris), expected, iso);
  assert.equal(inPreferredHours(at('2025-01-15T23:30:00Z'), night), false); // no preference given
});

test('a malformed time is a programmer error', () => {
  assert.throws(() => inQuietHours(0, { timeZone: 'Europe/Paris', from: '3pm', to: '22:00' }));
});

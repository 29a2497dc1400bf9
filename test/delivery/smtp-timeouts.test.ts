// The delivery client's per-step timeouts default to RFC 5321 4.5.3.2's
// values (greeting 5 min, MAIL 5 min, RCPT 5 min, DATA initiation 2 min, each
// data block 3 min, end of data 10 min), in the configuration and on the wire:
// the watchdog, driven by mocked timers, gives each step its own value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RFC5321_TIMEOUTS, Wire, type Step } from '../../src/delivery/smtp/wire.ts';
import { loadConfig } from '../../src/config/load.ts';

const MIN = 60_000;

test('the defaults are the RFC 5321 4.5.3.2 values', () => {
  assert.deepEqual(RFC5321_TIMEOUTS, {
    connect: 30_000, greeting: 5 * MIN, command: 5 * MIN, mail: 5 * MIN, rcpt: 5 * MIN, dataInit: 2 * MIN, dataBlock: 3 * MIN, dataEnd: 10 * MIN,
  });
  const cfg = loadConfig({ env: {}, overrides: {} });
  assert.ok(cfg.ok);
  if (cfg.ok) assert.deepEqual(cfg.config.delivery.timeoutsMs, RFC5321_TIMEOUTS);
  const env = loadConfig({ env: { ENVOI_DELIVERY_TIMEOUTS_MS_MAIL: '800' }, overrides: {} });
  assert.ok(env.ok);
  if (env.ok) assert.equal(env.config.delivery.timeoutsMs.mail, 800, 'configurable');
});

// the step each wait is armed for, and when it must fire with the defaults
const CASES: Array<[Step, number]> = [
  ['greeting', 5 * MIN], ['ehlo', 5 * MIN], ['starttls', 5 * MIN], ['mail', 5 * MIN], ['rcpt', 5 * MIN],
  ['data', 2 * MIN], ['body', 3 * MIN], ['dataEnd', 10 * MIN], ['connect', 30_000],
];

for (const [step, ms] of CASES) {
  test(`the wire waits ${ms / 1000} s for ${step}, not a millisecond less`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fired: Array<[Step, number]> = [];
    const wire = new Wire(RFC5321_TIMEOUTS, {
      onTimeout: (s, after) => fired.push([s, after]), onGarbage: () => {}, progress: () => 0, tlsInfo: () => undefined,
    });
    wire.expect(step);
    t.mock.timers.tick(ms - 1);
    assert.deepEqual(fired, []);
    t.mock.timers.tick(1);
    assert.deepEqual(fired, [[step, ms]]);
    assert.match(wire.transcript.at(-1) ?? '', new RegExp(`timeout: no progress in ${ms} ms`));
  });
}

test('the message data: the block timer restarts as long as the receiver takes bytes', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let taken = 0;
  const fired: Step[] = [];
  const wire = new Wire(RFC5321_TIMEOUTS, { onTimeout: (s) => fired.push(s), onGarbage: () => {}, progress: () => taken, tlsInfo: () => undefined });
  wire.expect('body');
  for (let i = 0; i < 5; i++) {
    taken += 65_536;
    t.mock.timers.tick(3 * MIN);
  }
  assert.deepEqual(fired, [], '15 minutes of a slow but moving upload');
  t.mock.timers.tick(3 * MIN);
  assert.deepEqual(fired, ['body']);
});

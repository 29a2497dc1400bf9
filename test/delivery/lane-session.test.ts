// Which failures of an MX host send the lane on to the next MX (RFC 5321 5.1):
// only a host that never answered — refused, cut before its greeting, or
// silent until the connect or greeting timeout. One that answered (a reply
// code, a failure after the greeting) has spoken for the domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LaneSession } from '../../src/delivery/egress/session.ts';
import type { SendFailure } from '../../src/delivery/smtp/transport.ts';

const f = (o: Partial<SendFailure>): SendFailure => ({ kind: 'failed', stage: 'connect', text: 'x', transcript: [], ...o });
const HOSTS = [{ host: 'mx1.test', priority: 10, ips: ['127.0.0.1'] }, { host: 'mx2.test', priority: 20, ips: ['127.0.0.2'] }];

const CASES: Array<[string, SendFailure, boolean]> = [
  ['connection refused', f({ stage: 'connect', text: 'connect ECONNREFUSED' }), true],
  ['connect timeout', f({ stage: 'timeout', timedOutAt: 'connect' }), true],
  ['closed before the greeting', f({ stage: 'greeting', text: 'Connection closed unexpectedly' }), true],
  ['greeting timeout', f({ stage: 'timeout', timedOutAt: 'greeting' }), true],
  ['garbage for a greeting', f({ stage: 'greeting', text: 'not an SMTP reply' }), true],
  ['421 at the greeting', f({ stage: 'greeting', code: 421, text: '421 4.3.2 busy' }), false],
  ['554 at the greeting', f({ stage: 'greeting', code: 554, text: '554 5.7.1 go away' }), false],
  ['EHLO timeout', f({ stage: 'timeout', timedOutAt: 'ehlo' }), false],
  // TLS required and not to be had there: skipped like a host that does not answer (RFC 8461 5, RFC 7672 2.2)
  ['TLS handshake failed', f({ stage: 'starttls', tlsRefused: true }), true],
  ['closed at EHLO', f({ stage: 'ehlo' }), false],
];

for (const [name, failure, next] of CASES) {
  test(`${name}: ${next ? 'the next MX is tried' : 'no other MX is tried'}`, async () => {
    const tried: string[] = [];
    const lane = new LaneSession(async (t) => {
      tried.push(t.host);
      return failure;
    }, 10);
    const got = await lane.forHosts(HOSTS);
    assert.ok('failure' in got);
    assert.deepEqual(tried, next ? ['mx1.test', 'mx2.test'] : ['mx1.test']);
  });
}

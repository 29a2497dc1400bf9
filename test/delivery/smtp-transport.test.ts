// The SMTP transport against real scripted peers on 127.0.0.x: STARTTLS from a
// test CA and the GM-7 rule (never in clear when TLS is required), then the
// remote replies and failures at each stage, all as values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestCa } from '../peers/ca.ts';
import { ENVELOPE, failed, fx, isSession, MX, open, peer, RAW, sendOne, useSmtpFixture } from './smtp-fixture.ts';

useSmtpFixture();

describe('TLS', () => {
  test('delivers over STARTTLS: the peer sees TLS and the exact bytes', async () => {
    const p = await peer();
    const out = await sendOne(p);
    assert.equal(out.kind, 'sent');
    if (out.kind !== 'sent') return;
    assert.match(out.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.ok(out.tls?.cipher);
    assert.equal(out.response.code, 250);
    assert.deepEqual(out.recipients.map((r) => [r.address, r.accepted, r.code]), [['b@rcpt.test', true, 250]]);
    assert.equal(p.received.length, 1);
    assert.equal(p.received[0].tls, true);
    assert.equal(p.received[0].from, 'bounce@sender.test');
    assert.deepEqual(p.received[0].to, ['b@rcpt.test']);
    assert.ok(p.received[0].raw.equals(RAW), 'the message arrives byte for byte');
  });

  test('no STARTTLS offered and TLS required: failed, tlsRefused, nothing received', async () => {
    const p = await peer({ tls: false });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'starttls');
    assert.equal(out.tlsRefused, true);
    assert.match(out.text, /does not offer STARTTLS/);
    assert.equal(p.received.length, 0);
    assert.ok(!out.transcript.some((l) => l.startsWith('C: MAIL')), 'no transaction was started in clear');
  });

  test('opportunistic: sent in clear when STARTTLS is not offered', async () => {
    const p = await peer({ tls: false });
    const out = await sendOne(p, { tls: 'opportunistic', verifyCertificates: false });
    assert.equal(out.kind, 'sent');
    if (out.kind === 'sent') assert.equal(out.tls, null);
    assert.equal(p.received.length, 1);
    assert.equal(p.received[0].tls, false);
  });

  test('STARTTLS offered but the handshake fails: not sent', async () => {
    const p = await peer({ script: { failHandshake: true } });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'starttls');
    assert.equal(out.tlsRefused, true);
    assert.match(out.text, /TLS handshake failed/);
    assert.equal(p.received.length, 0);
  });

  test('opportunistic: a failed handshake falls back to clear text on a new connection', async () => {
    const p = await peer({ script: { failHandshake: true } });
    const out = await sendOne(p, { tls: 'opportunistic', verifyCertificates: false });
    assert.equal(out.kind, 'sent');
    assert.equal(p.received.length, 1);
    assert.equal(p.received[0].tls, false);
    assert.equal(p.sessions.total, 2);
    assert.ok(out.transcript.some((l) => /reconnecting without STARTTLS/.test(l)));
  });

  test('certificate from an untrusted CA with verification on: not sent', async () => {
    const other = await createTestCa();
    const p = await peer({ tls: await other.issue([MX]) });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'starttls');
    assert.equal(out.tlsRefused, true);
    assert.match(out.text, /certificate/i);
    assert.equal(p.received.length, 0);
  });

  test('certificate for another name with verification on: not sent; verification off: sent', async () => {
    const p = await peer({ tls: await fx.ca.issue(['mx.elsewhere.test']) });
    const out = failed(await sendOne(p));
    assert.equal(out.tlsRefused, true);
    assert.equal(p.received.length, 0);
    assert.equal((await sendOne(p, { verifyCertificates: false })).kind, 'sent');
    assert.equal(p.received[0].tls, true);
  });
});

describe('replies', () => {
  test('partial RCPT acceptance: sent to the accepted, the others carry their own reply', async () => {
    const p = await peer({ script: { onRcptTo: (a) => (a.startsWith('gone') ? { code: 550, text: `5.1.1 <${a}>: Recipient address rejected: User unknown` } : undefined) } });
    const out = await sendOne(p, {}, { from: 'bounce@sender.test', to: ['a@rcpt.test', 'gone@rcpt.test', 'c@rcpt.test'] });
    assert.equal(out.kind, 'sent');
    if (out.kind !== 'sent') return;
    assert.deepEqual(out.recipients.map((r) => [r.address, r.accepted, r.code, r.enhanced]), [
      ['a@rcpt.test', true, 250, undefined],
      ['gone@rcpt.test', false, 550, '5.1.1'],
      ['c@rcpt.test', true, 250, undefined],
    ]);
    assert.match(out.recipients[1].text, /User unknown/);
    assert.deepEqual(p.received[0].to, ['a@rcpt.test', 'c@rcpt.test']);
  });

  test('550 5.1.1 at RCPT for the only recipient: failed at rcpt, nothing received', async () => {
    const p = await peer({ script: { onRcptTo: () => ({ code: 550, text: '5.1.1 The email account that you tried to reach does not exist.' }) } });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'rcpt');
    assert.equal(out.code, 550);
    assert.equal(out.enhanced, '5.1.1');
    assert.match(out.text, /^550 5\.1\.1 The email account/);
    assert.deepEqual(out.recipients?.map((r) => [r.address, r.accepted, r.code]), [['b@rcpt.test', false, 550]]);
    assert.equal(p.received.length, 0);
  });

  test('421 at the greeting: failed at greeting with the code', async () => {
    const p = await peer({ script: { onConnect: () => ({ code: 421, text: '4.3.2 Too many connections, try again later' }) } });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'greeting');
    assert.equal(out.code, 421);
    assert.equal(out.enhanced, '4.3.2');
    assert.match(out.text, /Too many connections/);
  });

  test('garbage instead of a greeting: failed at greeting', async () => {
    const p = await peer({ script: { onConnect: () => ({ raw: 'HTTP/1.1 400 Bad Request\r\n' }) } });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'greeting');
    assert.match(out.text, /HTTP\/1\.1/);
  });

  test('garbage instead of the MAIL reply: failed at mail at once, not at a timeout', async () => {
    const p = await peer({ script: { onMailFrom: () => ({ raw: 'Whatever you say\r\n' }) } });
    const out = failed(await sendOne(p));
    assert.equal(out.stage, 'mail');
    assert.match(out.text, /not an SMTP reply: Whatever you say/);
    assert.equal(p.received.length, 0);
  });

  test('451 4.7.27 at the end of DATA: failed at data, the session stays usable', async () => {
    let first = true;
    const spf = '4.7.27 Your email has been rate limited because SPF authentication didn\'t pass for this message.';
    const p = await peer({ script: { onData: () => (first ? ((first = false), { code: 451, text: spf }) : undefined) } });
    const s = await open(p);
    assert.ok(isSession(s));
    const out = failed(await s.send(ENVELOPE, RAW));
    assert.equal(out.stage, 'data');
    assert.equal(out.code, 451);
    assert.equal(out.enhanced, '4.7.27');
    assert.equal(s.usable, true);
    assert.equal((await s.send(ENVELOPE, RAW)).kind, 'sent');
    await s.close();
    assert.equal(p.received.length, 1);
  });

  test('connection dropped in the middle of DATA: failed at data, session unusable', async () => {
    const p = await peer({ script: { dropAfter: 'data' } });
    const s = await open(p);
    assert.ok(isSession(s));
    const out = failed(await s.send(ENVELOPE, RAW));
    assert.equal(out.stage, 'data');
    assert.equal(out.code, undefined);
    assert.equal(s.usable, false);
    assert.equal(failed(await s.send(ENVELOPE, RAW)).stage, 'connect');
    await s.close();
    assert.equal(p.received.length, 0);
  });

  test('connection dropped right after the greeting: failed at ehlo', async () => {
    const p = await peer({ script: { dropAfter: 'greeting' } });
    assert.equal(failed(await sendOne(p)).stage, 'ehlo');
  });

  test('nothing listening: failed at connect', async () => {
    const p = await peer();
    const port = p.port;
    await p.close();
    assert.equal(failed(await sendOne({ ...p, port })).stage, 'connect');
  });
});

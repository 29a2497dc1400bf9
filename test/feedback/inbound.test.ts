// The inbound MX against real clients on loopback: nodemailer's SMTP
// connection as the remote MTA, and a raw line client to read the EHLO reply
// and send what nodemailer will not.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { fail, ok } from '../../src/errors.ts';
import { startInboundServer, type InboundHandler } from '../../src/feedback/inbound.ts';
import type { Listener } from '../../src/net/smtp-listener.ts';
import { createTestCa } from '../peers/ca.ts';
import { plain, talk } from '../peers/smtp-talk.ts';

const MAX = 20_000;
const BOUNCE = 'b+k7x2q9@bounces.shop.test';

interface Received {
  envelope: { mailFrom: string; rcptTo: string[]; remoteAddress: string };
  raw: Buffer;
}
const received: Received[] = [];
const checked: string[] = [];
const handler: InboundHandler = {
  async acceptRecipient(address) {
    checked.push(address);
    if (address === 'crash@bounces.shop.test') throw new Error('lookup failed');
    const ours = /^b\+[a-z0-9]+@bounces\.shop\.test$/.test(address) || address === 'postmaster@shop.test';
    return ours ? ok(true) : fail('not_found', 'No such recipient here');
  },
  async receive(envelope, raw) {
    received.push({ envelope, raw });
    return ok({ id: `in_${received.length}` });
  },
};

let ca: Awaited<ReturnType<typeof createTestCa>>;
let server: Listener;
before(async () => {
  ca = await createTestCa();
  server = await startInboundServer({
    host: '127.0.0.1',
    port: 0,
    tls: await ca.issue(['mx.bounces.shop.test', '127.0.0.1']),
    hostname: 'mx.bounces.shop.test',
    maxMessageBytes: MAX,
    handler,
  });
});
after(() => server.close());
beforeEach(() => {
  received.length = 0;
  checked.length = 0;
});

const DSN = Buffer.from(
  [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.test>',
    `To: ${BOUNCE}`,
    'Subject: Undelivered Mail Returned to Sender',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'The mail system: <gone@example.test>: 550 5.1.1 user unknown',
    '.',
    '--b--',
    '',
  ].join('\r\n'),
);

// the remote MTA: STARTTLS when offered (verified against the test CA), no AUTH
async function mta(opts: { ignoreTLS?: boolean } = {}) {
  const conn = new SMTPConnection({ host: '127.0.0.1', port: server.port, tls: { ca: ca.caPem, rejectUnauthorized: true }, ...opts });
  conn.on('error', () => {});
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return {
    send: (envelope: { from: string; to: string[] }, message: Buffer) =>
      new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
        conn.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info!))),
      ),
    quit: () => conn.quit(),
  };
}

type SmtpErr = { responseCode?: number; response?: string };

describe('inbound MX', () => {
  test('offers STARTTLS and SIZE, never AUTH, before or after TLS', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    const plainFeatures = await t.ehlo('mx.example.test');
    assert.ok(plainFeatures.includes('STARTTLS'), plainFeatures.join(', '));
    await t.starttls('mx.bounces.shop.test');
    const tlsFeatures = await t.ehlo('mx.example.test');
    assert.ok(tlsFeatures.includes(`SIZE ${MAX}`), tlsFeatures.join(', '));
    for (const f of [...plainFeatures, ...tlsFeatures]) assert.doesNotMatch(f, /^AUTH\b/);
    const auth = await t.command(`AUTH PLAIN ${plain('u', 'p')}`);
    assert.ok(auth.code >= 500, auth.text);
    assert.match(auth.text, /^5\d\d 5\.\d+\.\d+ /);
    t.close();
  });

  test('a bounce from the null sender to a bounce address is taken, bytes and envelope intact', async () => {
    const conn = await mta();
    const info = await conn.send({ from: '', to: [BOUNCE] }, DSN);
    conn.quit();
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as in_1$/);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0].envelope, { mailFrom: '', rcptTo: [BOUNCE], remoteAddress: '127.0.0.1' });
    assert.ok(received[0].raw.equals(DSN), received[0].raw.toString());
  });

  test('a sender without TLS is still taken (STARTTLS is offered, not required)', async () => {
    const conn = await mta({ ignoreTLS: true });
    const info = await conn.send({ from: 'reporter@isp.test', to: ['postmaster@shop.test'] }, DSN);
    conn.quit();
    assert.match(info.response, /^250 /);
    assert.deepEqual(received[0].envelope.rcptTo, ['postmaster@shop.test']);
  });

  test('an address that is not ours is refused at RCPT with 550 5.1.1, nothing accepted', async () => {
    const conn = await mta();
    // both refused: the transaction ends before DATA
    await assert.rejects(conn.send({ from: '', to: ['someone@elsewhere.test'] }, DSN), (err: SmtpErr & { rejectedErrors?: SmtpErr[] }) => {
      assert.match(err.rejectedErrors?.[0]?.response ?? '', /^550 5\.1\.1 No such recipient here/);
      return true;
    });
    conn.quit();
    // one refused, one ours: only ours is in the envelope
    const again = await mta();
    const info = await again.send({ from: '', to: ['nobody@bounces.shop.test', BOUNCE] }, DSN);
    again.quit();
    assert.deepEqual(info.rejected, ['nobody@bounces.shop.test']);
    assert.deepEqual(checked, ['someone@elsewhere.test', 'nobody@bounces.shop.test', BOUNCE]);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0].envelope.rcptTo, [BOUNCE]);
  });

  test('a message over the limit gets 552 5.3.4, declared or not', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    assert.match((await t.command(`MAIL FROM:<> SIZE=${MAX + 1}`)).text, /^552 5\.3\.4 /);
    t.close();
    const conn = await mta();
    const big = Buffer.concat([DSN, Buffer.from(`${'x'.repeat(998)}\r\n`.repeat(Math.ceil(MAX / 1000)))]);
    await assert.rejects(conn.send({ from: '', to: [BOUNCE] }, big), (err: SmtpErr) => {
      assert.equal(err.responseCode, 552);
      assert.match(err.response ?? '', /^552 5\.3\.4 /);
      return true;
    });
    conn.quit();
    assert.equal(received.length, 0);
  });

  test('a recipient check that throws gets 451 4.3.0 (the sender retries) and the server keeps serving', async () => {
    const conn = await mta();
    await assert.rejects(conn.send({ from: '', to: ['crash@bounces.shop.test'] }, DSN), (err: SmtpErr & { rejectedErrors?: SmtpErr[] }) => {
      assert.match(err.rejectedErrors?.[0]?.response ?? '', /^451 4\.3\.0 /);
      return true;
    });
    conn.quit();
    const again = await mta();
    const info = await again.send({ from: '', to: [BOUNCE] }, DSN);
    again.quit();
    assert.match(info.response, /^250 /);
  });
  test('a session dropped in the middle of DATA stores nothing, and the server keeps serving', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    await t.command('MAIL FROM:<>');
    await t.command(`RCPT TO:<${BOUNCE}>`);
    assert.equal((await t.command('DATA')).code, 354);
    // half a message, then the connection is gone
    void t.command('Subject: half\r\n\r\nthe first line').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    t.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 0, 'a message without its final dot is never taken');
    const conn = await mta();
    assert.match((await conn.send({ from: '', to: [BOUNCE] }, DSN)).response, /^250 /);
    conn.quit();
  });

  test('one client address holds at most the configured number of sessions: the next gets 421 4.7.0', async () => {
    const capped = await startInboundServer({ host: '127.0.0.1', port: 0, tls: await ca.issue(['127.0.0.1']), hostname: 'mx.test', maxMessageBytes: MAX, handler, maxConnectionsPerIp: 3 });
    try {
      const open = [];
      for (let i = 0; i < 3; i++) open.push(await talk({ port: capped.port, ca: ca.caPem }));
      for (const o of open) assert.equal(o.greeting.code, 220);
      const fourth = await talk({ port: capped.port, ca: ca.caPem });
      assert.equal(fourth.greeting.code, 421);
      assert.match(fourth.greeting.text, /^421 4\.7\.0 /);
      fourth.close();
      open[0].close();
      await new Promise((r) => setTimeout(r, 100));
      const again = await talk({ port: capped.port, ca: ca.caPem });
      assert.equal(again.greeting.code, 220, 'a closed session frees its place');
      again.close();
      for (const o of open.slice(1)) o.close();
    } finally {
      await capped.close();
    }
  });
});

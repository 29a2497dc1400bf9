// The submission listener against real clients on loopback: nodemailer's SMTP
// transport and connection, and a raw line client for what those will not
// send. Every client trusts only the test CA and verifies the certificate.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { fail, ok, type Result } from '../../src/errors.ts';
import type { Listener } from '../../src/net/smtp-listener.ts';
import { startSubmissionServer, type Principal, type SubmissionHandler } from '../../src/submission/server.ts';
import { createTestCa } from '../peers/ca.ts';
import { plain, talk } from '../peers/smtp-talk.ts';

const MAX = 10_000;
const USER = 'key_live_1';
const PASS = 'correct horse battery staple';
const PRINCIPAL: Principal = { tenantId: 'ten_1', keyId: 'key_live_1' };

interface Submitted {
  principal: Principal;
  envelope: { mailFrom: string; rcptTo: string[] };
  raw: Buffer;
}

// The handler a test drives: records what reached it, and answers by the sender.
const submitted: Submitted[] = [];
const logins: string[] = [];
let gate: Promise<void> | undefined;
const handler: SubmissionHandler = {
  async authenticate(username, password) {
    logins.push(username);
    if (username === 'throws@test') throw new Error('database down');
    return username === USER && password === PASS ? ok(PRINCIPAL) : fail('auth.invalid', 'Invalid credentials');
  },
  async checkRecipient(_principal, address) {
    return address.endsWith('@blocked.test') ? fail('auth.forbidden', 'Recipient not allowed for this key') : ok(true);
  },
  async submit(principal, envelope, raw): Promise<Result<{ id: string }>> {
    if (envelope.mailFrom === 'crash@sender.test') throw new Error('disk full');
    if (envelope.mailFrom === 'stranger@gmail.test') return fail('message.from_not_verified', 'gmail.test is not a verified domain');
    await gate;
    submitted.push({ principal, envelope, raw });
    return ok({ id: `msg_${submitted.length}` });
  },
};

let ca: Awaited<ReturnType<typeof createTestCa>>;
let server: Listener;

before(async () => {
  ca = await createTestCa();
  server = await startSubmissionServer({
    host: '127.0.0.1',
    port: 0,
    tls: await ca.issue(['localhost', '127.0.0.1']),
    hostname: 'submit.envoi.test',
    maxMessageBytes: MAX,
    handler,
  });
});
after(() => server.close());
beforeEach(() => {
  submitted.length = 0;
  logins.length = 0;
  gate = undefined;
});

const transport = (auth = { user: USER, pass: PASS }, extra: Record<string, unknown> = {}) =>
  nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.port,
    requireTLS: true,
    tls: { ca: ca.caPem, rejectUnauthorized: true },
    auth,
    ...extra,
  });

// CRLF line ends, a line that starts with a dot (dot-stuffed on the wire) and UTF-8:
// what submit() gets must be these very bytes.
const RAW = Buffer.from(
  [
    'From: Shop <news@shop.test>',
    'To: a@example.test, b@example.test',
    'Subject: =?UTF-8?Q?Caf=C3=A9?=',
    'Message-ID: <1@shop.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Café au lait.',
    '.a line starting with a dot',
    '..two dots',
    '',
  ].join('\r\n'),
);

// nodemailer's low-level connection, promisified
async function connection(opts: ConstructorParameters<typeof SMTPConnection>[0]) {
  const conn = new SMTPConnection({ host: '127.0.0.1', port: server.port, tls: { ca: ca.caPem, rejectUnauthorized: true }, ...opts });
  conn.on('error', () => {});
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return {
    login: (user: string, pass: string) =>
      new Promise<void>((resolve, reject) => conn.login({ user, pass }, (err) => (err ? reject(err) : resolve()))),
    send: (envelope: { from: string; to: string[] }, message: Buffer) =>
      new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
        conn.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info!))),
      ),
    quit: () => conn.quit(),
  };
}

describe('submission: a message gets in', () => {
  for (const authMethod of ['PLAIN', 'LOGIN']) {
    test(`STARTTLS + AUTH ${authMethod}: submit() gets the bytes and the envelope`, async () => {
      const info = await transport(undefined, { authMethod }).sendMail({
        envelope: { from: 'bounce@shop.test', to: ['a@example.test', 'b@example.test'] },
        raw: RAW,
      });
      assert.match(info.response, /^250 2\.0\.0 Ok: queued as msg_1$/);
      assert.equal(submitted.length, 1);
      assert.deepEqual(submitted[0].principal, PRINCIPAL);
      assert.deepEqual(submitted[0].envelope, { mailFrom: 'bounce@shop.test', rcptTo: ['a@example.test', 'b@example.test'] });
      assert.ok(submitted[0].raw.equals(RAW), `got:\n${submitted[0].raw.toString()}`);
    });
  }

  test('the 250 after DATA waits until submit() has stored the message', async () => {
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    let answered = false;
    const sending = transport()
      .sendMail({ envelope: { from: 'bounce@shop.test', to: ['a@example.test'] }, raw: RAW })
      .finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answered, false, 'the client got its reply before the message was stored');
    assert.equal(submitted.length, 0);
    release();
    const info = await sending;
    assert.match(info.response, /^250 2\.0\.0 /);
    assert.equal(submitted.length, 1);
  });

  test('a client that trusts only the test CA refuses a certificate it did not issue', async () => {
    const other = await createTestCa();
    await assert.rejects(
      nodemailer
        .createTransport({ host: '127.0.0.1', port: server.port, requireTLS: true, tls: { ca: other.caPem, rejectUnauthorized: true }, auth: { user: USER, pass: PASS } })
        .sendMail({ envelope: { from: 'bounce@shop.test', to: ['a@example.test'] }, raw: RAW }),
      (err: NodeJS.ErrnoException) => /certificate/i.test(err.message),
    );
    assert.equal(logins.length, 0, 'credentials were sent to an unverified server');
  });
});

describe('submission: refusals', () => {
  test('STARTTLS offered, SIZE advertised as maxMessageBytes', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    assert.ok((await t.ehlo()).includes('STARTTLS'));
    await t.starttls();
    const features = await t.ehlo();
    assert.ok(features.includes(`SIZE ${MAX}`), features.join(', '));
    assert.ok(features.includes('AUTH PLAIN LOGIN'), features.join(', '));
    t.close();
  });

  test('STARTTLS refuses ciphers without forward secrecy', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    // a cipher Node's defaults allow (RSA key exchange), our listener must not
    await assert.rejects(t.starttls('localhost', { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }));
    t.close();
    const u = await talk({ port: server.port, ca: ca.caPem });
    await u.ehlo();
    await u.starttls();
    assert.equal((await u.command('NOOP')).code, 250);
    u.close();
  });

  test('AUTH before STARTTLS is refused with 538 5.7.11, PLAIN and LOGIN alike', async () => {
    const conn = await connection({ ignoreTLS: true });
    await assert.rejects(conn.login(USER, PASS), (err: { responseCode?: number; response?: string }) => {
      assert.equal(err.responseCode, 538);
      assert.match(err.response ?? '', /^538 5\.7\.11 /);
      return true;
    });
    conn.quit();
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    assert.match((await t.command('AUTH LOGIN')).text, /^538 5\.7\.11 /);
    assert.match((await t.command(`AUTH PLAIN ${plain(USER, PASS)}`)).text, /^538 5\.7\.11 /);
    t.close();
    assert.equal(logins.length, 0);
  });

  test('a wrong password gets 535 5.7.8', async () => {
    await assert.rejects(
      transport({ user: USER, pass: 'wrong' }).sendMail({ envelope: { from: 'bounce@shop.test', to: ['a@example.test'] }, raw: RAW }),
      (err: { responseCode?: number; response?: string }) => err.responseCode === 535 && /^535 5\.7\.8 /.test(err.response ?? ''),
    );
    assert.deepEqual(logins, [USER]);
    assert.equal(submitted.length, 0);
  });

  test('MAIL, RCPT and DATA without AUTH get 530 5.7.0, even over TLS: no relaying', async () => {
    const conn = await connection({ requireTLS: true });
    await assert.rejects(conn.send({ from: 'x@spammer.test', to: ['victim@example.test'] }, RAW), (err: { responseCode?: number; response?: string }) => {
      assert.equal(err.responseCode, 530);
      assert.match(err.response ?? '', /^530 5\.7\.0 /);
      return true;
    });
    conn.quit();
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    await t.starttls();
    await t.ehlo();
    assert.match((await t.command('MAIL FROM:<x@spammer.test>')).text, /^530 5\.7\.0 /);
    assert.match((await t.command('RCPT TO:<victim@example.test>')).text, /^530 5\.7\.0 /);
    assert.match((await t.command('DATA')).text, /^530 5\.7\.0 /);
    t.close();
    assert.equal(submitted.length, 0);
  });

  test('a message over the limit gets 552 5.3.4, declared in MAIL FROM SIZE= or not', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    await t.starttls();
    await t.ehlo();
    assert.equal((await t.command(`AUTH PLAIN ${plain(USER, PASS)}`)).code, 235);
    assert.match((await t.command(`MAIL FROM:<bounce@shop.test> SIZE=${MAX + 1}`)).text, /^552 5\.3\.4 /);
    assert.equal((await t.command(`MAIL FROM:<bounce@shop.test> SIZE=${MAX}`)).code, 250);
    t.close();

    // undeclared: nodemailer sends no SIZE= without a size in the envelope
    const conn = await connection({ requireTLS: true });
    await conn.login(USER, PASS);
    const big = Buffer.concat([RAW, Buffer.from(`${'x'.repeat(998)}\r\n`.repeat(Math.ceil(MAX / 1000)))]);
    await assert.rejects(conn.send({ from: 'bounce@shop.test', to: ['a@example.test'] }, big), (err: { responseCode?: number; response?: string }) => {
      assert.equal(err.responseCode, 552);
      assert.match(err.response ?? '', /^552 5\.3\.4 /);
      return true;
    });
    assert.equal(submitted.length, 0);
    // the session goes on: the next message on the same connection is taken
    const info = await conn.send({ from: 'bounce@shop.test', to: ['a@example.test'] }, RAW);
    assert.match(info.response, /^250 2\.0\.0 /);
    conn.quit();
    assert.equal(submitted.length, 1);
  });

  test("the handler's failures come back as their registry replies", async () => {
    // at RCPT: one recipient refused, the other one goes through
    const info = await transport().sendMail({ envelope: { from: 'bounce@shop.test', to: ['x@blocked.test', 'a@example.test'] }, raw: RAW });
    assert.deepEqual(info.rejected, ['x@blocked.test']);
    const rcptErr = (info as unknown as { rejectedErrors: { response: string }[] }).rejectedErrors[0];
    assert.match(rcptErr.response, /^550 5\.7\.1 Recipient not allowed/);
    assert.deepEqual(submitted[0].envelope.rcptTo, ['a@example.test']);
    // after DATA
    await assert.rejects(
      transport().sendMail({ envelope: { from: 'stranger@gmail.test', to: ['a@example.test'] }, raw: RAW }),
      (err: { responseCode?: number; response?: string }) => err.responseCode === 553 && /^553 5\.7\.1 gmail\.test is not/.test(err.response ?? ''),
    );
  });

  test('a handler that throws gets 451 4.3.0 and the server keeps serving', async () => {
    await assert.rejects(
      transport().sendMail({ envelope: { from: 'crash@sender.test', to: ['a@example.test'] }, raw: RAW }),
      (err: { responseCode?: number; response?: string }) => err.responseCode === 451 && /^451 4\.3\.0 /.test(err.response ?? ''),
    );
    await assert.rejects(
      transport({ user: 'throws@test', pass: 'x' }).sendMail({ envelope: { from: 'bounce@shop.test', to: ['a@example.test'] }, raw: RAW }),
      (err: { responseCode?: number; response?: string }) => err.responseCode === 451 && /^451 4\.3\.0 /.test(err.response ?? ''),
    );
    const info = await transport().sendMail({ envelope: { from: 'bounce@shop.test', to: ['a@example.test'] }, raw: RAW });
    assert.match(info.response, /^250 2\.0\.0 /);
  });

  test('VRFY says nothing', async () => {
    const t = await talk({ port: server.port, ca: ca.caPem });
    await t.ehlo();
    const r = await t.command('VRFY postmaster');
    assert.ok(r.code >= 500, r.text);
    t.close();
  });
});

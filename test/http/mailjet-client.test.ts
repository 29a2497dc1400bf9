// The Mailjet-compatible Send API against the REAL node-mailjet client, over
// HTTPS on 127.0.0.1 with a self-signed certificate. The client runs in a
// child process (see fixtures/mailjet-client.ts) so that NODE_EXTRA_CA_CERTS
// makes it trust the certificate. The deps are written here: the real send
// service is wired in src/http/server.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { mailjetRoutes, type Principal } from '../../src/http/mailjet/routes.ts';
import type { OutgoingMessage, SendReceipt } from '../../src/compose/types.ts';
import type { Result } from '../../src/errors.ts';

const KEY = 'mj-public-key-1';
const SECRET = 'mj-secret-1';
const FIXTURE = fileURLToPath(new URL('./fixtures/mailjet-client.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let app: FastifyInstance;
let dir: string;
let caFile: string;
let host: string;
const sent: Array<{ principal: Principal; msg: OutgoingMessage }> = [];

before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    // RSA: selfsigned 5.5 fails on EC keys ("Cannot get schema for 'AlgorithmIdentifier'").
    keyType: 'rsa',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'envoi-mailjet-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, pems.cert);

  app = Fastify({ https: { key: pems.private, cert: pems.cert } });
  let n = 0;
  await app.register(
    mailjetRoutes({
      baseUrl: 'https://mail.example.test',
      authenticate: async (user, pass): Promise<Result<Principal>> =>
        user === KEY && pass === SECRET
          ? { ok: true, value: { tenantId: 'ten_1', keyId: 'key_1' } }
          : { ok: false, error: { code: 'auth.invalid', detail: 'unknown API key or wrong secret' } },
      send: async (principal, msg): Promise<Result<SendReceipt>> => {
        if (msg.from.email.endsWith('@unverified.test')) {
          return { ok: false, error: { code: 'message.from_not_verified', detail: 'unverified.test is not a verified domain', field: 'from.email' } };
        }
        sent.push({ principal, msg });
        n += 1;
        const rcpt = (kind: 'to' | 'cc' | 'bcc') => (a: { email: string }, i: number) => ({ email: a.email, kind, id: `rcp_${n}_${kind}${i}` });
        return {
          ok: true,
          value: {
            id: `msg_${n}`,
            messageId: `${n}@mail.example.test`,
            recipients: [...msg.to.map(rcpt('to')), ...(msg.cc ?? []).map(rcpt('cc')), ...(msg.bcc ?? []).map(rcpt('bcc'))],
          },
        };
      },
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  host = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface ClientOutcome {
  ok: boolean;
  status?: number;
  statusCode?: number;
  message?: string;
  ErrorCode?: string;
  body: any;
}

function mailjetClient(body: Record<string, unknown>, apiSecret = SECRET): Promise<ClientOutcome> {
  const input = JSON.stringify({ host, apiKey: KEY, apiSecret, body });
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', FIXTURE, input],
      { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`client process failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

const good = (to: string, extra: Record<string, unknown> = {}) => ({
  From: { Email: 'pilot@envoi.test', Name: 'Pilot' },
  To: [{ Email: to, Name: 'Passenger' }],
  Subject: 'Your flight plan',
  TextPart: 'Hello',
  HTMLPart: '<p>Hello</p>',
  ...extra,
});

test('a valid request comes back 200 in Mailjet success shape and is sent as an OutgoingMessage', async () => {
  sent.length = 0;
  const out = await mailjetClient({
    Messages: [
      good('passenger1@example.com', {
        Cc: [{ Email: 'copilot@example.com' }],
        Headers: { 'X-Campaign': 'spring' },
        CustomID: 'ticket-42',
        Attachments: [{ ContentType: 'text/plain', Filename: 'plan.txt', Base64Content: Buffer.from('the plan').toString('base64') }],
      }),
    ],
  });
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.equal(out.status, 200);
  const [m] = out.body.Messages;
  assert.equal(m.Status, 'success');
  assert.equal(m.CustomID, 'ticket-42');
  assert.equal(m.To.length, 1);
  assert.equal(m.To[0].Email, 'passenger1@example.com');
  assert.match(m.To[0].MessageUUID, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // node-mailjet parses numbers of more than 15 digits as strings (json-bigint, storeAsString),
  // as it does for Mailjet's own 17-19 digit ids; the wire carries a JSON number below 2^53.
  const id = Number(m.To[0].MessageID);
  assert.ok(Number.isSafeInteger(id) && id > 0 && String(id) === String(m.To[0].MessageID));
  assert.equal(m.To[0].MessageHref, `https://mail.example.test/v3/REST/message/${m.To[0].MessageID}`);
  assert.equal(m.Cc[0].Email, 'copilot@example.com');
  assert.deepEqual(m.Bcc, []);

  assert.equal(sent.length, 1);
  const { principal, msg } = sent[0];
  assert.deepEqual(principal, { tenantId: 'ten_1', keyId: 'key_1' });
  assert.deepEqual(msg.from, { email: 'pilot@envoi.test', name: 'Pilot' });
  assert.deepEqual(msg.to, [{ email: 'passenger1@example.com', name: 'Passenger' }]);
  assert.deepEqual(msg.cc, [{ email: 'copilot@example.com' }]);
  assert.equal(msg.subject, 'Your flight plan');
  assert.equal(msg.text, 'Hello');
  assert.equal(msg.html, '<p>Hello</p>');
  assert.deepEqual(msg.headers, { 'X-Campaign': 'spring' });
  assert.equal(msg.customId, 'ticket-42');
  assert.equal(msg.attachments?.length, 1);
  assert.equal(msg.attachments![0].filename, 'plan.txt');
  assert.equal(msg.attachments![0].contentType, 'text/plain');
  assert.equal(msg.attachments![0].content.toString(), 'the plan');
});

test('a wrong API secret is refused with 401 in Mailjet shape', async () => {
  sent.length = 0;
  const out = await mailjetClient({ Messages: [good('passenger@example.com')] }, 'not-the-secret');
  assert.equal(out.ok, false);
  assert.equal(out.statusCode, 401);
  assert.equal(out.ErrorCode, 'mj-0015');
  assert.equal(out.body.StatusCode, 401);
  assert.match(out.body.ErrorIdentifier, /^[0-9a-f-]{36}$/);
  assert.equal(sent.length, 0);
});

test('one good and one bad message: per-message status, and the good one is sent', async () => {
  sent.length = 0;
  const out = await mailjetClient({
    Messages: [good('ok@example.com'), good('not-an-address')],
  });
  // Mailjet answers a call with any failed message with 400; its client rejects, the body tells which.
  assert.equal(out.ok, false);
  assert.equal(out.statusCode, 400);
  const [first, second] = out.body.Messages;
  assert.equal(first.Status, 'success');
  assert.equal(first.To[0].Email, 'ok@example.com');
  assert.equal(second.Status, 'error');
  assert.equal(second.Errors[0].ErrorCode, 'mj-0013');
  assert.deepEqual(second.Errors[0].ErrorRelatedTo, ['To[0].Email']);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].msg.to[0].email, 'ok@example.com');
});

test('a send-service refusal is that message error only; the next message still goes out', async () => {
  sent.length = 0;
  const out = await mailjetClient({
    Messages: [{ ...good('a@example.com'), From: { Email: 'me@unverified.test' } }, good('b@example.com')],
  });
  assert.equal(out.statusCode, 400);
  const [first, second] = out.body.Messages;
  assert.equal(first.Status, 'error');
  assert.equal(first.Errors[0].ErrorCode, 'send-0008');
  assert.equal(first.Errors[0].StatusCode, 422);
  assert.match(first.Errors[0].ErrorMessage, /message\.from_not_verified/);
  assert.deepEqual(first.Errors[0].ErrorRelatedTo, ['From.Email']);
  assert.equal(second.Status, 'success');
  assert.deepEqual(sent.map((s) => s.msg.to[0].email), ['b@example.com']);
});

test('SandboxMode validates and answers without sending', async () => {
  sent.length = 0;
  const out = await mailjetClient({ SandboxMode: true, Messages: [good('passenger@example.com', { CustomID: 'dry' })] });
  assert.equal(out.status, 200);
  assert.deepEqual(out.body.Messages[0], {
    Status: 'success',
    CustomID: 'dry',
    To: [{ Email: 'passenger@example.com', MessageUUID: '', MessageID: 0, MessageHref: 'https://mail.example.test/v3/REST/message/0' }],
    Cc: [],
    Bcc: [],
  });
  assert.equal(sent.length, 0);
});

test('body problems in Mailjet shape: malformed JSON, too large, not JSON, no Messages', async () => {
  // node-mailjet always sends valid JSON: the malformed case goes through fastify.inject.
  const auth = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;
  const bad = await app.inject({
    method: 'POST',
    url: '/v3.1/send',
    headers: { authorization: auth, 'content-type': 'application/json' },
    payload: '{"Messages": [',
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().ErrorCode, 'mj-0002');
  assert.equal(bad.json().StatusCode, 400);

  const noAuth = await app.inject({ method: 'POST', url: '/v3.1/send', headers: { 'content-type': 'application/json' }, payload: '{' });
  assert.equal(noAuth.statusCode, 401, 'authentication comes before body parsing');
  assert.match(String(noAuth.headers['www-authenticate']), /^Basic /);

  const big = await app.inject({
    method: 'POST',
    url: '/v3.1/send',
    headers: { authorization: auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ Messages: [{ TextPart: 'x'.repeat(1_100_000) }] }), // over fastify's default 1 MiB
  });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().ErrorCode, 'mj-0011');

  const form = await app.inject({
    method: 'POST',
    url: '/v3.1/send',
    headers: { authorization: auth, 'content-type': 'application/xml' },
    payload: '<Messages/>',
  });
  assert.equal(form.statusCode, 415);
  assert.equal(form.json().ErrorCode, 'mj-0002');

  const out = await mailjetClient({ Globals: { Subject: 'x' } });
  assert.equal(out.statusCode, 400);
  assert.equal(out.ErrorCode, 'mj-0003');
});

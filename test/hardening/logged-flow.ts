// The child process of secrets.test.ts: a whole envoi at log level debug,
// its logs going to this process's stdout (pino's own destination, as in
// production), driven through a full flow: tenant, keys, domain, messages by
// the REST API, the Mailjet API and SMTP (AUTH PLAIN and LOGIN, a failed
// AUTH), a webhook endpoint with a signing secret and URL credentials that
// receives its events, an inbound report. Then it tells the parent, over the
// IPC channel, every secret it created and what the database holds, and
// exits. Not a test file: the parent greps what this one printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import { eventually, startTestApp, tenantWithDomain } from '../helpers/app.ts';
import { createTestCa } from '../peers/ca.ts';
import { talk } from '../peers/smtp-talk.ts';
import { startReceiver } from '../webhooks/receiver.ts';
import type { Dialect } from '../helpers/store.ts';
import { DIALECTS } from '../helpers/store.ts';

export interface FlowReport {
  /** name → secret text; none may appear in a log line or in the database */
  secrets: Record<string, string>;
  /** what the database holds (every text column of every row), for "secrets at rest" */
  database: string;
  /** file modes of the secret files */
  modes: Record<string, number>;
  webhookDeliveries: number;
}

const dialect = (process.argv[2] ?? 'sqlite') as Dialect;
if (!DIALECTS.includes(dialect)) throw new Error(`unknown dialect ${dialect}`);

const ca = await createTestCa();
const receiver = await startReceiver(ca);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-logged-'));
const caFile = path.join(dir, 'ca.pem');
fs.writeFileSync(caFile, ca.caPem);
const t = await startTestApp(dialect, { log: { level: 'debug' }, webhooks: { allowPrivateTargets: true, caFile, pollMs: 50 } } as never);
try {
  const acme = await tenantWithDomain(t, 'acme', 'shop.example');
  const second = await t.api('POST', '/v1/keys', { token: acme.token, body: { label: 'ci key' } });
  const hookPassword = `hook-${crypto.randomBytes(12).toString('hex')}`;
  const hook = await t.api('POST', '/v1/webhooks', { token: acme.token, body: { url: `https://hookuser:${hookPassword}@127.0.0.1:${receiver.port}/hooks` } });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${hook.text}`);

  await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: 'alice@customer.example', subject: 'REST', text: 'hi' } });
  await t.api('POST', '/v3.1/send', {
    headers: { authorization: `Basic ${Buffer.from(`${acme.keyId}:${acme.secret}`).toString('base64')}` },
    body: { Messages: [{ From: { Email: 'orders@shop.example' }, To: [{ Email: 'bob@customer.example' }], Subject: 'Mailjet', TextPart: 'hi' }] },
  });
  // wrong secrets: what a client mistyped is as secret as what it meant
  const wrongSecret = `${acme.secret.slice(0, -4)}WXYZ`;
  await t.api('GET', '/v1/domains', { token: `${acme.keyId}.${wrongSecret}` });

  const smtp = (auth: { user: string; pass: string }, authMethod?: string) => nodemailer.createTransport({
    host: '127.0.0.1', port: t.app.ports.submission, requireTLS: true, tls: { ca: t.ca, servername: 'localhost' }, auth, ...(authMethod ? { authMethod } : {}),
  });
  await smtp({ user: acme.keyId, pass: acme.secret }).sendMail({ from: 'orders@shop.example', to: 'carol@customer.example', subject: 'PLAIN', text: 'hi' });
  await smtp({ user: second.body.id, pass: second.body.secret }, 'LOGIN').sendMail({ from: 'orders@shop.example', to: 'dan@customer.example', subject: 'LOGIN', text: 'hi' });
  await smtp({ user: acme.keyId, pass: wrongSecret }).sendMail({ from: 'orders@shop.example', to: 'x@customer.example', subject: 'x', text: 'x' }).catch(() => undefined);
  await smtp({ user: acme.keyId, pass: wrongSecret }, 'LOGIN').sendMail({ from: 'orders@shop.example', to: 'x@customer.example', subject: 'x', text: 'x' }).catch(() => undefined);

  // an abuse report through the inbound MX
  const mx = await talk({ port: t.app.ports.inbound, ca: t.ca });
  await mx.ehlo('mx.isp.example');
  await mx.starttls('localhost');
  await mx.ehlo('mx.isp.example');
  await mx.command('MAIL FROM:<abuse-desk@isp.example>');
  await mx.command('RCPT TO:<abuse@shop.example>');
  await mx.command('DATA');
  await mx.command('From: abuse-desk@isp.example\r\nTo: abuse@shop.example\r\nSubject: complaint\r\n\r\nspam from shop.example\r\n.');
  await mx.command('QUIT').catch(() => undefined);
  mx.close();

  // the webhook endpoint received signed events: the signing code ran
  await eventually(async () => receiver.received.length > 0, 20_000);

  const master = fs.readFileSync(path.join(t.dataDir, 'secret.key'), 'utf8').trim();
  const tlsKey = fs.readFileSync(path.join(t.dataDir, 'tls', 'key.pem'), 'utf8');
  const dkim = await t.app.store.db.selectFrom('dkim_keys').select(['selector', 'private_key_enc']).execute();
  const secrets: Record<string, string> = {
    'tenant API key secret': acme.secret,
    'second API key secret': second.body.secret,
    'operator key secret': t.operatorToken.slice(t.operatorToken.indexOf('.') + 1),
    'mistyped secret': wrongSecret,
    'webhook signing secret': hook.body.secret,
    'webhook URL password': hookPassword,
    'master key (as stored)': master,
    'master key (hex)': Buffer.from(master, 'base64').toString('hex'),
    'AUTH PLAIN response': Buffer.from(`\0${acme.keyId}\0${acme.secret}`).toString('base64'),
    'AUTH LOGIN password': Buffer.from(second.body.secret).toString('base64'),
    'HTTP Basic credentials': Buffer.from(`${acme.keyId}:${acme.secret}`).toString('base64'),
    'webhook Basic credentials': Buffer.from(`hookuser:${hookPassword}`).toString('base64'),
  };
  // key material: every 40-character run of the PEM bodies, so a part of a key is found too
  const pemRuns = (name: string, pem: string) => {
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 40 <= body.length; i += 40) secrets[`${name} [${i}]`] = body.slice(i, i + 40);
  };
  for (const k of dkim) pemRuns(`DKIM private key ${k.selector}`, t.app.secrets.open(k.private_key_enc));
  pemRuns('TLS private key', tlsKey);

  const tables = ['api_keys', 'webhook_endpoints', 'webhook_deliveries', 'dkim_keys', 'domains', 'tenants', 'events', 'messages'];
  let database = '';
  for (const table of tables) {
    const rows = await sql`select * from ${sql.table(table)}`.execute(t.app.store.db);
    database += JSON.stringify(rows.rows, (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'bigint' ? String(v) : v));
  }
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  const report: FlowReport = {
    secrets, database,
    modes: { 'secret.key': mode(path.join(t.dataDir, 'secret.key')), 'tls/key.pem': mode(path.join(t.dataDir, 'tls', 'key.pem')) },
    webhookDeliveries: receiver.received.length,
  };
  await new Promise<void>((resolve) => process.send!(report, () => resolve()));
} finally {
  await t.close();
  await receiver.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.disconnect?.();

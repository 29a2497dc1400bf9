// Secrets and the edges' transport security:
//   - a full flow at log level debug (logged-flow.ts, a child process whose
//     stdout is pino's output) leaves no secret it created in the logs: API
//     key secrets, mistyped ones, the webhook signing secret and URL
//     password, SMTP AUTH and HTTP Basic encodings, DKIM and TLS private key
//     material, the master key; nor in the database in clear; and the secret
//     files are 0600;
//   - every listener refuses TLS 1.0/1.1 and non-forward-secret or CBC
//     ciphers (HTTPS, submission STARTTLS, inbound STARTTLS);
//   - SMTP AUTH guessing is throttled per client address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { createTestCa } from '../peers/ca.ts';
import { plain, talk } from '../peers/smtp-talk.ts';
import type { FlowReport } from './logged-flow.ts';

const CHILD = new URL('./logged-flow.ts', import.meta.url).pathname;

function runFlow(dialect: string): Promise<{ report: FlowReport; logs: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dialect], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: process.env });
    let logs = '';
    let report: FlowReport | undefined;
    child.stdout!.on('data', (c) => (logs += c));
    child.stderr!.on('data', (c) => (logs += c));
    child.on('message', (m) => (report = m as FlowReport));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!report) reject(new Error(`the logged flow ended (${code}) without a report:\n${logs.slice(-3000)}`));
      else resolve({ report, logs, code });
    });
  });
}

/** TLS options of a client that offers only TLS 1.0 and 1.1 (OpenSSL 3 needs security level 0 for them). */
const OLD_TLS: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
/** TLS 1.2 with only static-RSA or CBC suites: no forward secrecy, or no AEAD. */
const WEAK_12: tls.ConnectionOptions[] = [
  { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256' },
  { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256' },
];

function handshake(port: number, ca: string, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () => {
      const v = s.getProtocol() ?? '?';
      s.destroy();
      resolve(v);
    });
    s.on('error', reject);
  });
}

for (const dialect of DIALECTS) {
  describe(`secrets and transport security (${dialect})`, () => {
    test('a full flow at debug level logs no secret, and stores none in clear', async (t) => {
      const { report, logs } = await runFlow(dialect);
      const lines = logs.split('\n').filter(Boolean);
      // the capture works: debug lines of every component are there
      assert.ok(lines.length > 50, `only ${lines.length} log lines`);
      assert.ok(lines.some((l) => l.includes('"level":20')), 'debug lines are logged');
      assert.ok(lines.some((l) => /C: AUTH (PLAIN|LOGIN)/.test(l)), 'the SMTP commands are logged');
      assert.ok(report.webhookDeliveries > 0, 'the webhook endpoint received its events');
      const names = Object.keys(report.secrets);
      assert.ok(names.length >= 30, `${names.length} secrets`);
      const inLogs = names.filter((n) => logs.includes(report.secrets[n]));
      assert.deepEqual(inLogs, [], 'secrets found in the logs');
      // at rest: API key secrets are hashed, webhook secrets, URL credentials and DKIM keys sealed, the master key is not in the database
      const inDb = names.filter((n) => !n.startsWith('TLS private key') && report.database.includes(report.secrets[n]));
      assert.deepEqual(inDb, [], 'secrets found in the database in clear');
      assert.doesNotMatch(report.database, /PRIVATE KEY/);
      assert.deepEqual(report.modes, { 'secret.key': 0o600, 'tls/key.pem': 0o600 });
      t.diagnostic(`secrets: ${names.length} secrets checked against ${lines.length} log lines and the database`);
    });

    describe('listeners', () => {
      let app: TestApp;
      let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
      before(async () => {
        app = await startTestApp(dialect);
        acme = await tenantWithDomain(app, 'acme', 'shop.example');
      });
      after(() => app?.close());

      test('the test client really speaks TLS 1.1 (control: a server that allows it)', async () => {
        const ca = await createTestCa();
        const pair = await ca.issue(['localhost']);
        const server = tls.createServer({ ...pair, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        try {
          assert.equal(await handshake((server.address() as { port: number }).port, ca.caPem, OLD_TLS), 'TLSv1.1');
        } finally {
          server.close();
        }
      });

      test('HTTPS: TLS 1.2 and 1.3 only, forward-secret AEAD suites only', async () => {
        const port = app.app.ports.http;
        assert.equal(await handshake(port, app.ca, { minVersion: 'TLSv1.3' }), 'TLSv1.3');
        assert.equal(await handshake(port, app.ca, { maxVersion: 'TLSv1.2' }), 'TLSv1.2');
        await assert.rejects(handshake(port, app.ca, OLD_TLS), /protocol|version|alert/i);
        for (const weak of WEAK_12) await assert.rejects(handshake(port, app.ca, weak), /cipher|handshake|alert/i, String(weak.ciphers));
      });

      for (const listener of ['submission', 'inbound'] as const) {
        test(`SMTP ${listener}: STARTTLS refuses TLS 1.0/1.1 and weak suites, takes 1.2 and 1.3`, async () => {
          const port = app.app.ports[listener];
          for (const options of [OLD_TLS, ...WEAK_12]) {
            const s = await talk({ port, ca: app.ca });
            try {
              await s.ehlo();
              await assert.rejects(s.starttls('localhost', options), Error, JSON.stringify(options));
            } finally {
              s.close();
            }
          }
          for (const options of [{ minVersion: 'TLSv1.3' as const }, { maxVersion: 'TLSv1.2' as const }]) {
            const s = await talk({ port, ca: app.ca });
            try {
              await s.ehlo();
              await s.starttls('localhost', options);
              assert.ok((await s.ehlo()).length > 0);
              await s.command('QUIT').catch(() => undefined);
            } finally {
              s.close();
            }
          }
        });
      }

      test('SMTP AUTH guessing: after 10 failures from one address every AUTH is answered 421 4.7.0; other addresses are not affected', async (t) => {
        const session = async () => {
          const s = await talk({ port: app.app.ports.submission, ca: app.ca });
          await s.ehlo();
          await s.starttls('localhost');
          await s.ehlo();
          return s;
        };
        let s = await session();
        const replies: number[] = [];
        for (let i = 0; i < 10; i++) {
          const r = await s.command(`AUTH PLAIN ${plain(acme.keyId, `guess-${i}`)}`);
          replies.push(r.code);
          assert.match(r.text, /^535 5\.7\.8/);
        }
        const blocked = await s.command(`AUTH PLAIN ${plain(acme.keyId, acme.secret)}`);
        assert.match(blocked.text, /^421 4\.7\.0/, 'the eleventh attempt, even with the right key, is refused');
        await assert.rejects(s.command('NOOP'), /closed/, 'and the session is closed');
        s.close();
        // a new connection from the same address: still refused, with LOGIN too
        s = await session();
        assert.match((await s.command(`AUTH PLAIN ${plain(acme.keyId, acme.secret)}`)).text, /^421 4\.7\.0/);
        s.close();
        s = await session();
        assert.match((await s.command('AUTH LOGIN')).text, /^(334|421)/);
        s.close();
        // another client address (loopback 127.0.0.2) logs in as usual
        const other = new SMTPConnection({ host: '127.0.0.1', port: app.app.ports.submission, localAddress: '127.0.0.2', requireTLS: true, tls: { ca: app.ca, servername: 'localhost' } });
        other.on('error', () => {});
        await new Promise<void>((resolve, reject) => other.connect((e) => (e ? reject(e) : resolve())));
        await new Promise<void>((resolve, reject) => other.login({ user: acme.keyId, pass: acme.secret }, (e) => (e ? reject(e) : resolve())));
        other.quit();
        t.diagnostic(`AUTH throttle: ${replies.length} failures answered 535, then 421 4.7.0 for that address`);
      });
    });
  });
}

// An application using the official node-mailjet client switches to envoi by
// changing its host: the message is signed and lands in envoi's sandbox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIXTURE = new URL('../http/fixtures/mailjet-client.ts', import.meta.url).pathname;

function mailjet(t: TestApp, apiKey: string, apiSecret: string, body: unknown): Promise<any> {
  const input = JSON.stringify({ host: `localhost:${t.app.ports.http}`, apiKey, apiSecret, body });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', FIXTURE, input], {
      cwd: ROOT, timeout: 30_000,
      // the client trusts envoi's self-signed certificate only through this variable, read at process start
      env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(t.dataDir, 'tls', 'cert.pem') },
    }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!))));
  });
}

for (const dialect of DIALECTS) {
  describe(`node-mailjet against envoi (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('a v3.1 send lands in the sandbox; a bad message fails alone', async () => {
      const out = await mailjet(t, acme.keyId, acme.secret, {
        Messages: [
          { From: { Email: 'orders@shop.example', Name: 'Shop' }, To: [{ Email: 'alice@customer.example', Name: 'Alice' }], Subject: 'Mailjet-style', TextPart: 'Hi', HTMLPart: '<p>Hi</p>', CustomID: 'order-5' },
          { From: { Email: 'orders@gmail.com' }, To: [{ Email: 'bob@customer.example' }], Subject: 'freemail', TextPart: 'x' },
        ],
      });
      assert.equal(out.ok, false, 'Mailjet answers 400 when any message fails');
      assert.equal(out.statusCode, 400);
      const [good, bad] = out.body.Messages;
      assert.equal(good.Status, 'success');
      assert.equal(good.CustomID, 'order-5');
      assert.equal(bad.Status, 'error');
      assert.match(bad.Errors[0].ErrorMessage, /GM-3/);
      const entry = await eventually(async () => (await t.api('GET', '/v1/sandbox/messages', { token: acme.token })).body.data.find((e: { subject: string }) => e.subject === 'Mailjet-style'));
      assert.equal(entry.rcpt_to, 'alice@customer.example');
      const raw = (await t.api('GET', `/v1/sandbox/messages/${entry.id}/raw`, { token: acme.token })).text;
      assert.equal((raw.match(/^DKIM-Signature:/gm) ?? []).length, 2);
      assert.match(raw, /^To: Alice <alice@customer\.example>\r$/m);
      const all = (await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token })).body.data;
      assert.ok(!all.some((e: { rcpt_to: string }) => e.rcpt_to === 'bob@customer.example'));
    });

    test('all good: 200 with the success shape', async () => {
      const out = await mailjet(t, acme.keyId, acme.secret, {
        Messages: [{ From: { Email: 'orders@shop.example' }, To: [{ Email: 'carol@customer.example' }], Subject: 'ok', TextPart: 'ok' }],
      });
      assert.equal(out.ok, true, JSON.stringify(out));
      assert.equal(out.status, 200);
      assert.equal(out.body.Messages[0].Status, 'success');
      assert.equal(out.body.Messages[0].To[0].Email, 'carol@customer.example');
    });

    test('TemplateID and Variables render a saved template (its number), as Mailjet clients send them', async () => {
      const tpl = await t.api('POST', '/v1/templates', { token: acme.token, body: { name: 'welcome', format: 'html', subject: 'Welcome {{ name }}', body: '<p>Hello {{ name }}, your code is {{ code }}.</p>' } });
      assert.equal(tpl.status, 201, tpl.text);
      const out = await mailjet(t, acme.keyId, acme.secret, {
        Messages: [{ From: { Email: 'orders@shop.example' }, To: [{ Email: 'dora@customer.example' }], TemplateID: tpl.body.number, TemplateLanguage: true, Variables: { name: 'Dora', code: '4711' } }],
      });
      assert.equal(out.ok, true, JSON.stringify(out));
      const e = await eventually(async () => (await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token })).body.data.find((x: { rcpt_to: string }) => x.rcpt_to === 'dora@customer.example'));
      assert.equal(e.subject, 'Welcome Dora');
      const raw = (await t.api('GET', `/v1/sandbox/messages/${e.id}/raw`, { token: acme.token })).text;
      assert.match(raw, /4711/);
      const missing = await mailjet(t, acme.keyId, acme.secret, {
        Messages: [{ From: { Email: 'orders@shop.example' }, To: [{ Email: 'eve@customer.example' }], TemplateID: tpl.body.number, Variables: { name: 'Eve' } }],
      });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.body.Messages[0].Errors[0].ErrorMessage, /code/);
    });

    test("another tenant's secret or a wrong one: 401", async () => {
      const out = await mailjet(t, acme.keyId, 'not-the-secret', { Messages: [] });
      assert.equal(out.ok, false);
      assert.equal(out.statusCode, 401);
    });
  });
}

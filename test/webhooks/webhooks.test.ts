// Outgoing webhooks end to end, on each dialect: a tenant registers
// endpoints; a message sent through POST /v1/messages (sandbox) is delivered,
// and the event arrives signed at a real HTTPS receiver on loopback (trusted
// through the test CA given as webhooks.caFile). Retries with backoff and
// the 24 h window run on a manual clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { createTestCa, type TestCa } from '../peers/ca.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { verifySignature } from '../../src/webhooks/signing.ts';
import { mailjetIds } from '../../src/http/mailjet/response.ts';
import { appendEvents } from '../../src/events/log.ts';

const HOUR = 3_600_000;

for (const dialect of DIALECTS) {
  describe(`webhooks (${dialect})`, () => {
    let t: TestApp;
    let ca: TestCa;
    let rx: Receiver;
    let caDir: string;
    const clock = manualClock();
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    // the receiver answers per path; 200 unless a test says otherwise
    const answers = new Map<string, (n: number) => number>();
    const at = (p: string) => rx.received.filter((r) => r.path === p);

    before(async () => {
      ca = await createTestCa();
      caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-wh-'));
      fs.writeFileSync(path.join(caDir, 'ca.pem'), ca.caPem);
      rx = await startReceiver(ca);
      rx.answer = (req, res) => res.writeHead(answers.get(req.path)?.(at(req.path).length) ?? 200).end();
      t = await startTestApp(dialect, { webhooks: { pollMs: 50, allowPrivateTargets: true, caFile: path.join(caDir, 'ca.pem') } }, { clock });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
    });
    after(async () => {
      await t.close();
      await rx.close();
      fs.rmSync(caDir, { recursive: true, force: true });
    });

    const register = async (token: string, body: Record<string, unknown>) => {
      const r = await t.api('POST', '/v1/webhooks', { token, body });
      assert.equal(r.status, 201, r.text);
      return r.body as { id: string; secret: string };
    };
    const send = async (token: string, from: string, to: string[]) => {
      const r = await t.api('POST', '/v1/messages', { token, body: { from, to, subject: 'Your order', text: 'Thanks.', customId: 'order-17' } });
      assert.equal(r.status, 202, r.text);
      return r.body as { id: string; recipients: { email: string; id: string }[] };
    };
    const deliveries = async (id: string, token = acme.token) => (await t.api('GET', `/v1/webhooks/${id}/deliveries`, { token })).body.data as Record<string, any>[];

    test('a delivered message arrives signed at the endpoint; the secret is shown once and stored sealed', async () => {
      const hook = await register(acme.token, { url: `${rx.url}/native`, events: ['delivered'], description: 'orders' });
      assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      const shown = await t.api('GET', `/v1/webhooks/${hook.id}`, { token: acme.token });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.secret, undefined);
      assert.deepEqual([shown.body.url, shown.body.events, shown.body.format, shown.body.active], [`${rx.url}/native`, ['delivered'], 'native', true]);
      assert.ok(!JSON.stringify((await t.api('GET', '/v1/webhooks', { token: acme.token })).body).includes(hook.secret));
      const row = await t.app.store.db.selectFrom('webhook_endpoints').select('secret_enc').where('id', '=', hook.id).executeTakeFirstOrThrow();
      assert.ok(!row.secret_enc.includes(hook.secret.slice(6)), 'sealed, not in clear');

      const msg = await send(acme.token, 'orders@shop.example', ['kim@customer.example']);
      const [got] = await eventually(async () => at('/hooks/native').length ? at('/hooks/native') : null);
      const now = Math.floor(clock.now() / 1000);
      assert.equal(verifySignature(hook.secret, got.headers['envoi-signature'] as string, got.body, now), 'ok');
      // the same check a receiver in another language would make
      const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(got.headers['envoi-signature'] as string)!;
      assert.equal(mac, crypto.createHmac('sha256', hook.secret).update(`${ts}.${got.body}`).digest('hex'));
      const ev = JSON.parse(got.body);
      assert.deepEqual({ ...ev, id: undefined, data: undefined }, {
        id: undefined, type: 'delivered', at: new Date(clock.now()).toISOString(), tenant: acme.tenantId, messageId: msg.id,
        recipientId: msg.recipients[0].id, recipient: 'kim@customer.example', campaign: null, customId: 'order-17', data: undefined,
      });
      assert.match(ev.id, /^evt_\d+$/);
      assert.deepEqual(ev.data, { target: 'sandbox' });
      assert.equal(got.headers['envoi-attempt'], '1');
      const [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.status === 'delivered' ? l : null; });
      assert.deepEqual([d.eventId, d.type, d.attempts, d.lastStatus, d.lastError, d.nextAttemptAt], [ev.id, 'delivered', 1, 200, null, null]);
      assert.equal(at('/hooks/native').length, 1, 'sent once');
    });

    test('a receiver failing 500 three times, then 200: retried with backoff, then delivered', async () => {
      answers.set('/hooks/flaky', (n) => (n <= 3 ? 500 : 200));
      const hook = await register(acme.token, { url: `${rx.url}/flaky`, events: ['delivered'] });
      await send(acme.token, 'orders@shop.example', ['lee@customer.example']);
      for (let i = 1; i <= 3; i++) {
        const [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.attempts === i ? l : null; });
        assert.deepEqual([d.status, d.lastStatus, d.lastError], ['pending', 500, 'HTTP 500']);
        const wait = Date.parse(d.nextAttemptAt) - clock.now();
        assert.ok(wait >= 0.9 * 30_000 * 2 ** (i - 1) && wait <= 1.1 * 30_000 * 2 ** (i - 1), `backoff after attempt ${i}: ${wait} ms`);
        assert.equal(at('/hooks/flaky').length, i, 'not before its time');
        clock.advance(5 * 60_000);
      }
      const [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.status === 'delivered' ? l : null; });
      assert.deepEqual([d.attempts, d.lastStatus, d.lastError], [4, 200, null]);
      const posts = at('/hooks/flaky');
      assert.equal(posts.length, 4);
      assert.deepEqual(posts.map((p) => p.headers['envoi-attempt']), ['1', '2', '3', '4']);
      assert.equal(new Set(posts.map((p) => p.body)).size, 1, 'the same event each time');
    });

    test('a receiver down for longer than the retry window: failed, and visible', async () => {
      const gone = await startReceiver(ca);
      const url = `https://127.0.0.1:${gone.port}/hooks/down`;
      await gone.close();
      const hook = await register(acme.token, { url, events: ['delivered'] });
      const created = clock.now();
      await send(acme.token, 'orders@shop.example', ['max@customer.example']);
      let [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.attempts === 1 ? l : null; });
      assert.equal(d.status, 'pending');
      assert.equal(d.lastStatus, null);
      assert.match(d.lastError, /ECONNREFUSED/);
      clock.advance(23 * HOUR);
      [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.attempts === 2 ? l : null; });
      assert.equal(d.status, 'pending');
      assert.ok(Date.parse(d.nextAttemptAt) <= created + 24 * HOUR + 1000, 'the last try at the end of the window');
      clock.advance(2 * HOUR);
      [d] = await eventually(async () => { const l = await deliveries(hook.id); return l[0]?.status === 'failed' ? l : null; });
      assert.deepEqual([d.attempts, d.nextAttemptAt, d.deliveredAt], [3, null, null]);
      assert.match(d.lastError, /ECONNREFUSED/);
      const shown = await t.api('GET', `/v1/webhooks/${hook.id}`, { token: acme.token });
      assert.deepEqual(shown.body.deliveries, { pending: 0, delivered: 0, failed: 1 });
      const failed = await t.api('GET', `/v1/webhooks/${hook.id}/deliveries?status=failed`, { token: acme.token });
      assert.equal(failed.body.data.length, 1);
      assert.equal((await t.api('GET', `/v1/webhooks/${hook.id}/deliveries?status=delivered`, { token: acme.token })).body.data.length, 0);
    });

    test('Mailjet format, batched: arrays of Event API objects carrying the Send API ids', async () => {
      const hook = await register(acme.token, { url: `${rx.url}/mj`, format: 'mailjet', batch: true, events: ['sent', 'open', 'bounce', 'unsub'] });
      const msg = await send(acme.token, 'orders@shop.example', ['ann@customer.example', 'bob@customer.example']);
      const all = () => at('/hooks/mj').flatMap((r) => JSON.parse(r.body) as Record<string, unknown>[]);
      const sent = await eventually(async () => (all().length >= 2 ? all() : null));
      assert.ok(at('/hooks/mj').every((r) => r.body.startsWith('[')), 'each POST is an array');
      for (const rcpt of msg.recipients) {
        const ids = mailjetIds(rcpt.id);
        const ev = sent.find((e) => e.email === rcpt.email);
        assert.deepEqual(ev, {
          event: 'sent', time: Math.floor(clock.now() / 1000), MessageID: ids.id, Message_GUID: ids.uuid, email: rcpt.email,
          mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'order-17', Payload: '', mj_message_id: String(ids.id), smtp_reply: 'sent',
        });
      }
      // engagement and a late bounce, as the tracking and feedback stages write them
      const r0 = msg.recipients[0];
      await appendEvents(t.app.store.db, [
        { tenantId: acme.tenantId, messageId: msg.id, recipientId: r0.id, type: 'opened', at: clock.now(), data: { campaign: null, machine: true, machineReason: 'apple-mpp' } },
        { tenantId: acme.tenantId, messageId: msg.id, recipientId: r0.id, type: 'opened', at: clock.now(), data: { campaign: null } },
        { tenantId: acme.tenantId, messageId: msg.id, recipientId: r0.id, type: 'bounced', at: clock.now(), data: { to: r0.email, async: true, hard: true, category: 'unknown-user', status: '5.1.1', diagnostic: 'user unknown' } },
      ]);
      // an unsubscribe through the API
      await t.api('POST', '/v1/lists', { token: acme.token, body: { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'News by mail', optIn: 'single' } });
      await t.api('POST', '/v1/lists/news/subscriptions', { token: acme.token, body: { email: 'ann@customer.example', consent: { source: 'form', optIn: 'single' } } });
      const un = await t.api('DELETE', `/v1/lists/news/subscriptions/${encodeURIComponent('ann@customer.example')}`, { token: acme.token });
      assert.equal(un.status, 200, un.text);
      const more = await eventually(async () => (all().length >= 5 ? all().slice(2) : null));
      assert.deepEqual(more.map((e) => e.event), ['open', 'bounce', 'unsub'], 'the machine open is left out');
      assert.deepEqual(more[1], {
        event: 'bounce', time: Math.floor(clock.now() / 1000), MessageID: mailjetIds(r0.id).id, Message_GUID: mailjetIds(r0.id).uuid, email: r0.email,
        mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'order-17', Payload: '',
        blocked: true, hard_bounce: true, error_related_to: 'recipient', error: 'user unknown', comment: '5.1.1 user unknown',
      });
      assert.equal(more[2].email, 'ann@customer.example');
      assert.equal(more[2].MessageID, 0);
      assert.ok((more[2].mj_list_id as number) > 0 && (more[2].mj_contact_id as number) > 0);
      const list = await deliveries(hook.id);
      assert.deepEqual(list.map((x) => x.type).sort(), ['bounce', 'open', 'sent', 'sent', 'unsub']);
    });

    test('POST /v1/webhooks/:id/test sends a signed test event and says what the endpoint answered', async () => {
      const hook = await register(acme.token, { url: `${rx.url}/probe` });
      answers.set('/hooks/probe', () => 503);
      const r = await t.api('POST', `/v1/webhooks/${hook.id}/test`, { token: acme.token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.body.ok, r.body.status, r.body.error], [false, 503, 'HTTP 503']);
      answers.set('/hooks/probe', () => 200);
      const r2 = await t.api('POST', `/v1/webhooks/${hook.id}/test`, { token: acme.token });
      assert.deepEqual([r2.body.ok, r2.body.status], [true, 200]);
      const got = at('/hooks/probe').at(-1)!;
      assert.equal(JSON.parse(got.body).type, 'test');
      assert.equal(verifySignature(hook.secret, got.headers['envoi-signature'] as string, got.body, Math.floor(clock.now() / 1000)), 'ok');
      assert.equal((await deliveries(hook.id)).length, 0, 'nothing stored');
    });

    test('tenants are isolated: another tenant\'s endpoint is a 404, and it never sees their events', async () => {
      const mine = await register(acme.token, { url: `${rx.url}/acme`, events: ['delivered'] });
      const theirs = await register(other.token, { url: `${rx.url}/other`, events: ['delivered'] });
      for (const [m, p] of [['GET', ''], ['DELETE', ''], ['GET', '/deliveries'], ['POST', '/test']] as const) {
        const r = await t.api(m, `/v1/webhooks/${mine.id}${p}`, { token: other.token });
        assert.equal(r.status, 404, `${m} ${p}`);
        assert.equal(r.body.code, 'not_found');
      }
      assert.equal((await t.api('PATCH', `/v1/webhooks/${mine.id}`, { token: other.token, body: { active: false } })).status, 404);
      assert.deepEqual((await t.api('GET', '/v1/webhooks', { token: other.token })).body.data.map((h: { id: string }) => h.id), [theirs.id]);
      const a = await send(acme.token, 'orders@shop.example', ['one@customer.example']);
      const b = await send(other.token, 'hello@other.example', ['two@customer.example']);
      await eventually(async () => at('/hooks/acme').length >= 1 && at('/hooks/other').length >= 1);
      await new Promise((r) => setTimeout(r, dialect === 'postgres' ? 2500 : 300));
      assert.deepEqual(at('/hooks/acme').map((r) => JSON.parse(r.body).messageId), [a.id]);
      assert.deepEqual(at('/hooks/other').map((r) => JSON.parse(r.body).messageId), [b.id]);
      // the owner may pause and delete it
      const paused = await t.api('PATCH', `/v1/webhooks/${mine.id}`, { token: acme.token, body: { active: false } });
      assert.equal(paused.body.active, false);
      assert.equal((await t.api('DELETE', `/v1/webhooks/${mine.id}`, { token: acme.token })).status, 204);
      assert.equal((await t.api('GET', `/v1/webhooks/${mine.id}`, { token: acme.token })).status, 404);
    });
  });

  describe(`webhook targets are checked (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('SSRF: loopback, private, link-local and metadata addresses are refused; https only', async () => {
      for (const url of ['https://127.0.0.1:8443/x', 'https://localhost/hook', 'https://[::1]/hook', 'https://169.254.169.254/latest/meta-data/', 'https://10.0.0.1/hook', 'https://[::ffff:192.168.0.1]/hook', 'https://0.0.0.0/']) {
        const r = await t.api('POST', '/v1/webhooks', { token: acme.token, body: { url } });
        assert.equal(r.status, 422, `${url}: ${r.text}`);
        assert.equal(r.body.code, 'webhook.target_refused');
        assert.equal(r.body.field, 'url');
      }
      const plain = await t.api('POST', '/v1/webhooks', { token: acme.token, body: { url: 'http://hooks.example.com/' } });
      assert.deepEqual([plain.status, plain.body.code, plain.body.detail], [400, 'request.invalid', 'url: must be https://']);
      const mj = await t.api('POST', '/v1/webhooks', { token: acme.token, body: { url: 'https://127.0.0.1/', format: 'mailjet', events: ['deferred'] } });
      assert.equal(mj.status, 422, 'the target is checked first');
      const unknown = await t.api('POST', '/v1/webhooks', { token: acme.token, body: { url: 'https://hooks.example.com/', events: ['accepted'] } });
      assert.equal(unknown.status, 400);
      assert.deepEqual((await t.api('GET', '/v1/webhooks', { token: acme.token })).body.data, []);
    });
  });
}

// Issue 4 end to end: a marketing campaign from an MJML template to a list
// lands in the sandbox with every mandatory part, its signatures cover the
// RFC 8058 headers, the consent header matches the record, a POST like
// Gmail's unsubscribes; a gambling pitch goes to review, a freemail From and
// an IP-literal link are refused; transactional mail carries none of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { authenticate } from 'mailauth';
import PostalMime from 'postal-mime';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { zoneFromRecords } from '../helpers/zone.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createResolver, mailauthResolver } from '../../src/net/resolver.ts';

const MJML = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ contact.first_name | default: "there" }},</mj-text>
<mj-text>Our autumn collection is here: warm coats and scarves, made in Lyon.</mj-text>
<mj-button href="https://shop.example/autumn">See the collection</mj-button>
</mj-column></mj-section></mj-body></mjml>`;

const profile = { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' };
const consent = { source: 'form', optIn: 'double', collectedAt: '2026-10-01T08:00:00Z', confirmedAt: '2026-10-01T08:05:00Z', ip: '203.0.113.50' };

function post(t: TestApp, url: string, body: string, type: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: t.app.ports.http, path: u.pathname, method: 'POST', ca: t.ca, servername: 'localhost',
      headers: { 'content-type': type, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (const dialect of DIALECTS) {
  describe(`marketing campaign end to end (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown, token?: string) => t.api(m, p, { token: token ?? acme.token, body });

    before(async () => {
      dns = await startDnsServer({});
      t = await startTestApp(dialect, { hostname: 'mta.envoi.test', dns: { servers: [dns.address] } });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      const zone = await zoneFromRecords(t, acme.token, 'shop.example');
      for (const [name, rr] of Object.entries(zone)) dns.set(name, rr);
      assert.equal((await api('PUT', '/v1/profile', profile)).status, 200);
      assert.equal((await api('POST', '/v1/lists', { name: 'autumn', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Send me Shop News', optIn: 'double' })).status, 201);
      for (const [email, first] of [['ann@customer.example', 'Ann'], ['bob@customer.example', null], ['cec@customer.example', 'Cécile']]) {
        const r = await api('POST', '/v1/lists/autumn/subscriptions', { email, fields: first ? { first_name: first } : {}, consent });
        assert.equal(r.body.status, 'subscribed');
      }
      await api('POST', '/v1/lists/autumn/subscriptions', { email: 'pending@customer.example', consent: { source: 'api', optIn: 'single' } });
      const tpl = await api('POST', '/v1/templates', { name: 'autumn', format: 'mjml', subject: 'The autumn collection, {{ contact.first_name | default: "friend" }}', body: MJML });
      assert.equal(tpl.status, 201, tpl.text);
    });
    after(async () => {
      await t.close();
      await dns.close();
    });

    test('the campaign reaches every mailable contact with every mandatory part, signed over the RFC 8058 headers', async () => {
      const c = await api('POST', '/v1/campaigns', { name: 'Autumn 2026', template: 'autumn', lists: ['autumn'] });
      assert.equal(c.status, 201, c.text);
      const sub = await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      assert.equal(sub.status, 200, sub.text);
      assert.equal(sub.body.status, 'approved');
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {})).body.status, 'scheduled');
      const done = await eventually(async () => {
        const x = await api('GET', `/v1/campaigns/${c.body.id}`);
        return x.body.status === 'completed' ? x.body : undefined;
      }, 20_000);
      assert.deepEqual(done.progress, { delivered: 3 });
      const list = (await api('GET', '/v1/sandbox/messages?limit=500')).body.data.filter((e: { from_address: string }) => e.from_address === 'news@shop.example');
      assert.deepEqual(list.map((e: { rcpt_to: string }) => e.rcpt_to).sort(), ['ann@customer.example', 'bob@customer.example', 'cec@customer.example']);

      for (const e of list) {
        const raw = Buffer.from((await api('GET', `/v1/sandbox/messages/${e.id}/raw`)).text);
        for (const line of raw.toString('latin1').split('\r\n')) assert.ok(line.length <= 998);
        const parsed = await PostalMime.parse(raw);
        const h = (name: string) => parsed.headers.filter((x) => x.key === name).map((x) => x.value);
        assert.equal(h('from')[0], 'Shop News <news@shop.example>');
        const lu = h('list-unsubscribe')[0];
        assert.match(lu, /^<https:\/\/[^>]+\/u\/[0-9a-z]+-[0-9a-f]{14}>, <mailto:u-[0-9a-z]+-[0-9a-f]{14}@bounce-mk\.shop\.example\?subject=unsubscribe>$/);
        assert.equal(h('list-unsubscribe-post')[0], 'List-Unsubscribe=One-Click');
        assert.match(h('list-id')[0], /<autumn\.shop\.example>/);
        assert.match(h('feedback-id')[0], new RegExp(`^${c.body.id}:marketing:acme:envoi$`));
        assert.match(h('message-id')[0], /@shop\.example>$/);
        assert.equal(h('x-consent')[0], 'method=double; source=form; date=2026-10-01T08:00:00Z; ip=203.0.113.50; confirmed=2026-10-01T08:05:00Z');
        const https = lu.slice(1, lu.indexOf('>'));
        assert.ok(parsed.html!.includes(https), 'the body has the unsubscribe link');
        assert.ok(parsed.text!.includes(https));
        assert.ok(parsed.html!.includes('12 rue de la Paix, 75002 Paris, France') && parsed.text!.includes('+33 1 23 45 67 89'), 'postal address and phone');
        if (e.rcpt_to === 'bob@customer.example') assert.match(parsed.subject!, /friend$/, 'the Liquid default');
        if (e.rcpt_to === 'cec@customer.example') assert.match(parsed.subject!, /Cécile$/);

        const res = await authenticate(raw, {
          resolver: mailauthResolver(createResolver({ servers: [dns.address], timeoutMs: 1000 })),
          ip: '127.0.0.1', helo: 'mta.envoi.test', sender: e.mail_from, mta: 'mx.receiver.test', trustReceived: false,
        });
        const sigs = res.dkim.results as any[];
        assert.deepEqual(sigs.map((s) => s.status.result), ['pass', 'pass']);
        for (const s of sigs) {
          const signed = String(s.signingHeaders.keys).toLowerCase().split(/[:,]\s*/);
          assert.ok(signed.includes('list-unsubscribe') && signed.includes('list-unsubscribe-post'), `h= covers the RFC 8058 headers: ${signed}`);
        }
        assert.equal((res.dmarc as any).status.result, 'pass');
      }
    });

    test('a POST exactly like Gmail\'s unsubscribes at once; a forged token changes nothing', async () => {
      const list = (await api('GET', '/v1/sandbox/messages?limit=500')).body.data;
      const ann = list.find((e: { rcpt_to: string; from_address: string }) => e.rcpt_to === 'ann@customer.example' && e.from_address === 'news@shop.example');
      const raw = (await api('GET', `/v1/sandbox/messages/${ann.id}/raw`)).text;
      const url = /List-Unsubscribe: <(https:[^>]+)>/.exec(raw.replace(/\r\n\s+/g, ' '))![1];
      const forged = url.replace(/-([0-9a-f]{14})$/, (m, mac) => '-' + (mac[0] === '0' ? '1' : '0') + mac.slice(1));
      const bad = await post(t, forged, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
      assert.equal(bad.status, 400);
      assert.equal((await api('POST', '/v1/audience/count', { lists: ['autumn'] })).body.mailable, 3);
      const ok1 = await post(t, url, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
      assert.equal(ok1.status, 200);
      const ok2 = await post(t, url, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
      assert.equal(ok2.status, 200, 'idempotent');
      assert.equal((await api('POST', '/v1/audience/count', { lists: ['autumn'] })).body.mailable, 2);
      const page = await t.api('GET', new URL(url).pathname);
      assert.equal(page.status, 200);
      assert.match(page.text, /<form method="post"/);
    });

    test('a gambling pitch goes to review until an operator approves it', async () => {
      await api('POST', '/v1/templates', { name: 'casino', format: 'html', subject: 'Bonus', body: '<p>Play online casino games and poker, bet on sports with our free bonus!</p><p>Shop SARL</p>' });
      const c = await api('POST', '/v1/campaigns', { name: 'Bets', template: 'casino', lists: ['autumn'] });
      const sub = await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      assert.equal(sub.body.status, 'review', sub.text);
      assert.ok(sub.body.findings.some((f: { id: string; severity: string }) => f.id.startsWith('category.') && f.severity === 'review'));
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {})).status, 409);
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/approve`)).status, 403, 'a tenant cannot approve its own campaign');
      const ok = await api('POST', `/v1/campaigns/${c.body.id}/approve`, undefined, t.operatorToken);
      assert.equal(ok.body.status, 'approved');
    });

    test('a freemail From and a link to an IP address are refused', async () => {
      const gmail = await api('POST', '/v1/campaigns', { name: 'G', template: 'autumn', lists: ['autumn'], fromAddress: 'shop@gmail.com' });
      assert.equal(gmail.status, 422);
      assert.equal(gmail.body.code, 'message.freemail_from');
      await api('POST', '/v1/templates', { name: 'iplink', format: 'html', subject: 'Deals', body: '<p>See <a href="http://192.0.2.1/deals">our deals</a>.</p>' });
      const c = await api('POST', '/v1/campaigns', { name: 'IP', template: 'iplink', lists: ['autumn'] });
      const sub = await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      assert.equal(sub.status, 422, sub.text);
      assert.match(sub.body.detail, /192\.0\.2\.1|IP/);
      assert.equal((await api('GET', `/v1/campaigns/${c.body.id}`)).body.status, 'draft');
    });

    test('transactional mail carries none of the marketing parts', async () => {
      const r = await api('POST', '/v1/messages', { from: 'orders@shop.example', to: ['dan@customer.example'], subject: 'Your receipt', text: 'Thanks' });
      const e = await eventually(async () => (await api('GET', '/v1/sandbox/messages?limit=500')).body.data.find((x: { message_id: string }) => x.message_id === r.body.id));
      const raw = (await api('GET', `/v1/sandbox/messages/${e.id}/raw`)).text;
      assert.doesNotMatch(raw, /^(List-Unsubscribe|List-Unsubscribe-Post|List-Id|X-Consent):/im);
      assert.doesNotMatch(raw, /12 rue de la Paix/);
    });

    test('a campaign cannot be edited while it sends, nor after', async () => {
      const all = (await api('GET', '/v1/campaigns')).body.data;
      const sent = all.find((x: { name: string }) => x.name === 'Autumn 2026');
      const r = await api('PUT', `/v1/campaigns/${sent.id}`, { name: 'changed', template: 'autumn', lists: ['autumn'] });
      assert.equal(r.status, 409);
    });
  });
}

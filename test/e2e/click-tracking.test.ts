// Click tracking (issue 4, AF-12): links go through the tenant's own
// tracking host, re-encoded per RFC 3986; the redirect only follows signed
// URLs and records the click as engagement; the unsubscribe link is untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { rewriteLinks, normaliseUrl } from '../../src/compose/links.ts';

test('links are parsed and re-encoded per RFC 3986; mailto and relative links are left alone', () => {
  assert.equal(normaliseUrl('https://Bücher.example/a b?q=é'), 'https://xn--bcher-kva.example/a%20b?q=%C3%A9');
  assert.equal(normaliseUrl('javascript:alert(1)'), null);
  const out = rewriteLinks('<a href="https://a.example/x?y=1&amp;z=2">a</a> <a href=\'mailto:x@y.example\'>m</a> <a href="/rel">r</a>', (u) => `T(${u})`, () => false);
  assert.equal(out, '<a href="T(https://a.example/x?y=1&amp;z=2)">a</a> <a href=\'mailto:x@y.example\'>m</a> <a href="/rel">r</a>');
});

const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

for (const dialect of DIALECTS) {
  describe(`click tracking (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('the tracking host must be the tenant\'s own', async () => {
      const base = { organisation: 'Shop', postalAddress: '1 rue X, Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example' };
      assert.equal((await api('PUT', '/v1/profile', { ...base, trackingHost: 'links.other.example' })).status, 400);
      assert.equal((await api('PUT', '/v1/profile', { ...base, trackingHost: '192.0.2.1' })).status, 400);
      assert.equal((await api('PUT', '/v1/profile', { ...base, trackingHost: 'links.shop.example' })).status, 200);
    });

    test('a campaign link goes through the tracking host; a click is recorded and redirected; a forged link is refused', async () => {
      await api('POST', '/v1/lists', { name: 'l', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'yes', optIn: 'single' });
      await api('POST', '/v1/lists/l/subscriptions', { email: 'kim@customer.example', consent: { source: 'form', optIn: 'single' } });
      await api('POST', '/v1/templates', { name: 't', format: 'html', subject: 'Sale', body: '<p>See <a href="https://shop.example/sale?from=mail&amp;x=1">the sale</a>. Shop</p>' });
      const c = await api('POST', '/v1/campaigns', { name: 'Sale', template: 't', lists: ['l'] });
      await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {});
      const e = await eventually(async () => (await api('GET', '/v1/sandbox/messages')).body.data.find((x: { subject: string }) => x.subject === 'Sale'));
      const raw = (await api('GET', `/v1/sandbox/messages/${e.id}`)).body.raw as string;
      const { default: PostalMime } = await import('postal-mime');
      const parsed = await PostalMime.parse(raw);
      const hrefs = [...parsed.html!.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
      const tracked = hrefs.find((h) => h.startsWith('https://links.shop.example/c/'))!;
      assert.ok(tracked, hrefs.join(' '));
      assert.ok(hrefs.some((h) => /\/u\/[0-9a-z]+-[0-9a-f]{14}$/.test(h) && !h.includes('links.shop.example')), 'the unsubscribe link is not tracked');
      const path = new URL(tracked).pathname;
      // a click seconds after delivery is a scanner's prefetch, not engagement (policy/machine-opens.ts)
      const early = await t.api('GET', path, { headers: { 'user-agent': BROWSER } });
      assert.equal(early.status, 302, 'a machine is redirected too');
      assert.equal((await api('GET', `/v1/contacts/${encodeURIComponent('kim@customer.example')}`)).body.lastClickAt, null, 'a prefetch is no engagement');
      // the reader comes back an hour later
      await t.app.store.db.updateTable('recipients').set({ updated_at: Date.now() - 3_600_000 }).where('address', '=', 'kim@customer.example').execute();
      const go = await t.api('GET', path, { headers: { 'user-agent': BROWSER } });
      assert.equal(go.status, 302);
      assert.equal(go.headers.location, 'https://shop.example/sale?from=mail&x=1');
      const contact = await api('GET', `/v1/contacts/${encodeURIComponent('kim@customer.example')}`);
      assert.ok(contact.body.lastClickAt, 'the click counts as engagement (sunset policy)');
      const forged = path.replace(/\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})$/, (_m, u) => `.${Buffer.from('https://evil.example/').toString('base64url')}.${'A'.repeat(16)}`);
      const bad = await t.api('GET', forged);
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.location, undefined);
    });

    test('probing with forged links is rate limited; valid links never are', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) statuses.push((await t.api('GET', `/u/${'0'.repeat(26)}-${i.toString(16).padStart(14, '0')}`)).status);
      assert.equal(statuses.filter((x) => x === 400).length, 30);
      assert.ok(statuses.slice(-5).every((x) => x === 429));
      const e = (await t.api('GET', '/v1/sandbox/messages', { token: acme.token })).body.data.find((x: { subject: string }) => x.subject === 'Sale');
      const raw = (await t.api('GET', `/v1/sandbox/messages/${e.id}/raw`, { token: acme.token })).text;
      const url = /List-Unsubscribe: <(https:[^>]+)>/.exec(raw.replace(/\r\n\s+/g, ' '))![1];
      assert.equal((await t.api('GET', new URL(url).pathname)).status, 200, 'a valid link still works for the same client');
    });
  });
}

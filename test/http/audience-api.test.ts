// Lists, subscriptions, contacts and the suppression list through the API,
// on both dialects; tenants never see each other's audience.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const listBody = { name: 'weekly', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Send me the weekly letter', optIn: 'double' };
const imported = { source: 'customer', optIn: 'confirmed', collectedAt: '2026-03-01T10:00:00Z', confirmedAt: '2026-03-01T10:05:00Z', ip: '203.0.113.9' };

for (const dialect of DIALECTS) {
  describe(`audience API (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
    });
    after(() => t.close());

    test('a list, subscriptions with stated consent, and the audience figures', async () => {
      const l = await t.api('POST', '/v1/lists', { token: acme.token, body: listBody });
      assert.equal(l.status, 201, l.text);
      assert.equal(l.body.optIn, 'double');
      const s1 = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'ann@example.org', fields: { first_name: 'Ann' }, consent: imported } });
      assert.equal(s1.status, 201, s1.text);
      assert.equal(s1.body.status, 'subscribed', 'a confirmed opt-in satisfies a double-opt-in list');
      const s2 = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'ben@example.org', consent: { source: 'api', optIn: 'single' } } });
      assert.equal(s2.body.status, 'pending');
      assert.equal(s2.body.needsConfirmation, true);
      const again = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'ANN@example.org', consent: imported } });
      assert.equal(again.status, 200);
      assert.equal(again.body.alreadySubscribed, true);
      const info = await t.api('GET', '/v1/lists/weekly', { token: acme.token });
      assert.deepEqual(info.body.audience, { mailable: 1, sunset: 0, flagged: 0 });
    });

    test('the audience count takes a segment; a bad segment names its column', async () => {
      await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'fr@example.org', fields: { country: 'FR' }, consent: imported } });
      const all = await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['weekly'] } });
      assert.equal(all.body.mailable, 2);
      const fr = await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['weekly'], segment: 'fields.country = "FR"' } });
      assert.equal(fr.body.mailable, 1);
      const bad = await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['weekly'], segment: 'fields.country === "FR"' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /column \d+/);
      const unknown = await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['nope'] } });
      assert.equal(unknown.status, 404);
    });

    test('consent is mandatory and validated', async () => {
      const none = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'cat@example.org' } });
      assert.equal(none.status, 400);
      assert.equal(none.body.field, 'consent');
      const badIp = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'cat@example.org', consent: { ...imported, ip: 'not-an-ip' } } });
      assert.equal(badIp.status, 400);
      const badEmail = await t.api('POST', '/v1/lists/weekly/subscriptions', { token: acme.token, body: { email: 'a@b', consent: imported } });
      assert.equal(badEmail.body.code, 'message.invalid_address');
    });

    test('contacts: page, detail with timeline, field update, unsubscribe, erase', async () => {
      const page = await t.api('GET', '/v1/contacts?q=ann', { token: acme.token });
      assert.deepEqual(page.body.data.map((c: { email: string }) => c.email), ['ann@example.org']);
      const c = await t.api('PATCH', `/v1/contacts/${encodeURIComponent('ann@example.org')}`, { token: acme.token, body: { fields: { city: 'Lyon' } } });
      assert.deepEqual(c.body.fields, { first_name: 'Ann', city: 'Lyon' });
      const un = await t.api('DELETE', `/v1/lists/weekly/subscriptions/${encodeURIComponent('ann@example.org')}`, { token: acme.token });
      assert.equal(un.body.status, 'unsubscribed');
      const detail = await t.api('GET', `/v1/contacts/${c.body.id}`, { token: acme.token });
      assert.deepEqual(detail.body.timeline.map((e: { type: string }) => e.type), ['subscribed', 'unsubscribed']);
      assert.equal(detail.body.subscriptions[0].status, 'unsubscribed');
      assert.equal((await t.api('DELETE', `/v1/contacts/${c.body.id}`, { token: acme.token })).status, 204);
      assert.equal((await t.api('GET', `/v1/contacts/${c.body.id}`, { token: acme.token })).status, 404);
      const sup = await t.api('GET', '/v1/suppressions', { token: acme.token });
      assert.ok(sup.body.data.some((x: { source: string; email: string | null }) => x.source === 'erasure' && x.email === null));
    });

    test('suppression list: add, search, and lifting a complaint needs a reason', async () => {
      const add = await t.api('POST', '/v1/suppressions', { token: acme.token, body: { email: 'angry@example.org', reason: 'complaint', note: 'phoned' } });
      assert.equal(add.status, 201);
      const found = await t.api('GET', '/v1/suppressions?q=angry', { token: acme.token });
      assert.equal(found.body.data[0].reason, 'complaint');
      const noWhy = await t.api('DELETE', '/v1/suppressions/angry%40example.org', { token: acme.token });
      assert.equal(noWhy.status, 400);
      const why = await t.api('DELETE', '/v1/suppressions/angry%40example.org?why=resubscribed%20in%20person', { token: acme.token });
      assert.equal(why.status, 204);
    });

    test("another tenant's audience is not found", async () => {
      for (const [method, path] of [['GET', '/v1/lists/weekly'], ['POST', '/v1/lists/weekly/subscriptions'], ['GET', `/v1/contacts/${encodeURIComponent('ben@example.org')}`], ['DELETE', '/v1/lists/weekly']] as const) {
        const r = await t.api(method, path, { token: other.token, body: method === 'POST' ? { email: 'x@example.org', consent: imported } : undefined });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
      const lists = await t.api('GET', '/v1/lists', { token: other.token });
      assert.equal(lists.body.data.length, 0);
      const contacts = await t.api('GET', '/v1/contacts', { token: other.token });
      assert.equal(contacts.body.data.length, 0);
      const list = await t.api('POST', '/v1/lists', { token: other.token, body: { ...listBody, fromAddress: 'news@shop.example' } });
      assert.equal(list.status, 422, 'a list cannot send from another tenant\'s domain');
    });
  });
}

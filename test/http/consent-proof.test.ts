// The proof of consent (MJ-6) through the API, on SQLite and PostgreSQL: a
// contact who signed up on the hosted form twice and confirmed the second
// link, and one kept on a list by an existing relationship. JSON and the
// printable page carry every field; another tenant's addresses are not found.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import PostalMime from 'postal-mime';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const CONSENT = 'Yes, send me the <b>weekly</b> "Shop & Co" newsletter by email.';
const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

for (const dialect of DIALECTS) {
  describe(`consent proof (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    let listId: string;
    const email = 'alice@example.org';
    const proof = (q: string, token = acme.token) => t.api('GET', `/v1/consent/proof?${q}`, { token });

    async function signUp(ua: string) {
      const form = await t.api('GET', `/f/${listId}`);
      const token = /name="token" value="([^"]+)"/.exec(form.text)![1];
      const r = await t.api('POST', `/f/${listId}`, {
        rawBody: new URLSearchParams({ token, email, consent: 'yes', first_name: 'Alice' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
      });
      assert.equal(r.status, 200, r.text);
    }

    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
      const a = t.app.services.audience;
      const l = await a.lists.create(acme.tenantId, { name: 'weekly', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: CONSENT });
      assert.ok(l.ok);
      listId = l.value.id;
      await signUp('SignUp/1.0 (first)');
      await signUp('SignUp/2.0 (second)');
      const link = await eventually(async () => {
        const entries = (await t.api('GET', '/v1/sandbox/messages', { token: acme.token })).body.data;
        if (entries.length < 2) return undefined;
        const raw = await t.api('GET', `/v1/sandbox/messages/${entries[0].id}/raw`, { token: acme.token });
        return /https:\/\/\S+\/confirm\/\S+/.exec((await PostalMime.parse(raw.text)).text ?? '')?.[0];
      });
      const c = await t.api('POST', new URL(link).pathname, { headers: { 'user-agent': 'Confirm/3.0' } });
      assert.match(c.text, /Subscription confirmed/);

      const customers = await a.lists.create(acme.tenantId, { name: 'customers', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Customer news.', optIn: 'single', allowRelationship: true });
      assert.ok(customers.ok);
      const rel = await a.subscriptions.subscribe(acme.tenantId, customers.value, 'bob@example.org', {}, {
        source: 'customer', optIn: 'none', relationship: 'bought a kettle in March 2026', informedHow: 'notice on the order confirmation page',
      });
      assert.ok(rel.ok);
    });
    after(() => t.close());

    test('JSON: every MJ-6 field of the form sign-up and its confirmation, and the earlier record', async () => {
      const r = await proof(`email=${encodeURIComponent('ALICE@example.org')}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.email, email);
      assert.equal(r.body.lists.length, 1);
      const l = r.body.lists[0];
      assert.equal(l.list, 'weekly');
      assert.equal(l.status, 'subscribed');
      assert.ok(l.subscribedAt);
      const c = l.consent;
      assert.equal(c.source, 'form');
      assert.ok(Date.parse(c.collectedAt) <= Date.parse(c.confirmedAt));
      assert.equal(c.formUrl, `${t.app.services.publicUrl()}/f/${listId}`);
      assert.equal(c.ip, '127.0.0.1');
      assert.equal(c.userAgent, 'SignUp/2.0 (second)', 'the record of the sign-up whose link was confirmed');
      assert.equal(c.consentText, CONSENT);
      assert.equal(c.consentTextSha256, sha256(CONSENT));
      assert.equal(c.checkboxUncheckedByDefault, true);
      assert.equal(c.separateFromOtherTerms, true);
      assert.equal(c.optIn, 'double');
      assert.equal(c.optInLabel, 'double opt-in');
      assert.equal(c.confirmIp, '127.0.0.1');
      assert.equal(c.confirmUserAgent, 'Confirm/3.0');
      assert.equal(l.history.length, 1);
      assert.equal(l.history[0].source, 'form');

      const one = await proof(`email=${email}&list=weekly`);
      assert.equal(one.body.lists.length, 1);
      assert.equal((await proof(`email=${email}&list=${listId}&format=json`)).body.lists[0].listId, listId);
    });

    test('HTML: a printable page with every field in plain words, escaped', async () => {
      const r = await proof(`email=${email}&format=html`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
      const c = (await proof(`email=${email}`)).body.lists[0].consent;
      const expect: [string, string][] = [
        ['How the address was collected', 'online subscription form (form)'],
        ['When it was collected', `${c.collectedAt.slice(0, 19).replace('T', ' ')} UTC`],
        ['Address of the form', `${t.app.services.publicUrl()}/f/${listId}`],
        ['IP address of the subscriber', '127.0.0.1'],
        ['Browser of the subscriber (user agent)', 'SignUp/2.0 (second)'],
        ['Exact consent text shown', `<blockquote>${esc(CONSENT)}</blockquote>`],
        ['SHA-256 of the consent text', `<code>${sha256(CONSENT)}</code>`],
        ['Consent box unchecked by default', 'yes'],
        ['Consent given separately from any other statement', 'yes'],
        ['Opt-in type', 'double opt-in (double)'],
        ['Confirmed at', `${c.confirmedAt.slice(0, 19).replace('T', ' ')} UTC`],
        ['IP address at confirmation', '127.0.0.1'],
        ['Browser at confirmation (user agent)', 'Confirm/3.0'],
        ['Existing relationship (when there is no opt-in)', '<em>not recorded</em>'],
      ];
      for (const [label, value] of expect) assert.ok(r.text.includes(`<dt>${label}</dt><dd>${value}</dd>`), `${label}: ${value}`);
      assert.match(r.text, /<h3>Earlier consent records<\/h3>\n<table>/);
      assert.doesNotMatch(r.text, /<b>weekly/, 'the consent text is shown, never interpreted');
    });

    test('an existing relationship instead of opt-in: the relationship and how the person was informed', async () => {
      const json = await proof('email=bob@example.org');
      assert.equal(json.body.lists[0].consent.relationship, 'bought a kettle in March 2026');
      assert.equal(json.body.lists[0].consent.informedHow, 'notice on the order confirmation page');
      const page = await proof('email=bob@example.org&format=html');
      assert.ok(page.text.includes('<dt>How the address was collected</dt><dd>existing customer (customer)</dd>'));
      assert.ok(page.text.includes('<dt>Opt-in type</dt><dd>no opt-in (existing relationship) (none)</dd>'));
      assert.ok(page.text.includes('<dt>Existing relationship (when there is no opt-in)</dt><dd>bought a kettle in March 2026</dd>'));
      assert.ok(page.text.includes('<dt>How the person was informed of it</dt><dd>notice on the order confirmation page</dd>'));
    });

    const refusals: [string, () => Promise<{ status: number; body: any; text: string }>, number, string][] = [
      ['an unknown address', () => proof('email=nobody@example.org'), 404, 'not_found'],
      ["another tenant's key", () => proof(`email=${email}`, other.token), 404, 'not_found'],
      ["another tenant's key, HTML", () => proof(`email=${email}&format=html`, other.token), 404, 'not_found'],
      ['a list the address is not on', () => proof(`email=${email}&list=customers`), 404, 'not_found'],
      ['no email', () => proof('list=weekly'), 400, 'request.invalid'],
      ['an unknown format', () => proof(`email=${email}&format=pdf`), 400, 'request.invalid'],
      ['an unknown parameter', () => proof(`email=${email}&colour=red`), 400, 'request.invalid'],
      ['no key', () => t.api('GET', `/v1/consent/proof?email=${email}`), 401, 'auth.required'],
      ['an operator key', () => proof(`email=${email}`, t.operatorToken), 403, 'auth.forbidden'],
    ];
    for (const [name, call, status, code] of refusals) {
      test(`refused: ${name} → ${status}`, async () => {
        const r = await call();
        assert.equal(r.status, status, r.text);
        assert.equal(r.body.code, code);
        assert.doesNotMatch(r.text, /127\.0\.0\.1|SignUp/);
      });
    }
  });
}

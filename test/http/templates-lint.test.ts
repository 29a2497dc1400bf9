// POST /v1/templates/lint, the compose editor's live check: a draft rendered
// for a contact and linted without being saved, on both dialects; a tenant
// cannot render another tenant's contact, and bad input is a problem response
// (hostile drafts included: never a 5xx).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { LINT_BODY_LIMIT } from '../../src/http/routes/campaigns.ts';
import fc from 'fast-check';
import { fuzz, hostileString } from '../hardening/fuzz.ts';

const consent = { source: 'customer', optIn: 'confirmed', collectedAt: '2026-03-01T10:00:00Z', confirmedAt: '2026-03-01T10:05:00Z', ip: '203.0.113.9' };
const list = { name: 'news', fromName: 'Shop News', consentText: 'Send me the news', optIn: 'double' };
// link text showing one site while the link goes to another: the lint's link.text-mismatch
const mismatch = (text: string) => `<p>Hello {{ contact.first_name | default: "there" }}, our autumn coats are in.</p><p><a href="https://tracker.example/x">${text}</a></p>`;
const draft = (body: string) => ({ format: 'html', subject: 'Autumn for {{ contact.first_name | default: "you" }}', body });

for (const dialect of DIALECTS) {
  describe(`the draft lint endpoint (${dialect})`, () => {
    let t: TestApp;
    let shop: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    let theirContactId: string;
    const lintAs = (token: string, body: unknown) => t.api('POST', '/v1/templates/lint', { token, body });

    before(async () => {
      t = await startTestApp(dialect);
      shop = await tenantWithDomain(t, 'shop', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
      for (const [tk, email, domain] of [[shop.token, 'ann@customer.example', 'shop.example'], [other.token, 'zoe@customer.example', 'other.example']]) {
        const l = await t.api('POST', '/v1/lists', { token: tk, body: { ...list, fromAddress: `news@${domain}` } });
        assert.equal(l.status, 201, l.text);
        const s = await t.api('POST', '/v1/lists/news/subscriptions', { token: tk, body: { email, fields: { first_name: email.slice(0, 3) }, consent } });
        assert.equal(s.status, 201, s.text);
      }
      theirContactId = (await t.api('GET', '/v1/contacts/zoe@customer.example', { token: other.token })).body.id;
      assert.ok(theirContactId);
    });
    after(() => t.close());

    test('renders for a contact and reports a link-text mismatch; the fixed text has none', async () => {
      const bad = await lintAs(shop.token, { ...draft(mismatch('www.shop.example/autumn')), email: 'ann@customer.example' });
      assert.equal(bad.status, 200, bad.text);
      assert.equal(bad.body.subject, 'Autumn for ann');
      assert.match(bad.body.html, /Hello ann,/);
      assert.equal(bad.body.contact, 'ann@customer.example');
      assert.ok(bad.body.findings.some((f: { id: string }) => f.id === 'link.text-mismatch'), JSON.stringify(bad.body.findings));
      // no From chosen: the sender checks are left out, not reported against a stand-in
      assert.ok(!bad.body.findings.some((f: { where?: string }) => f.where === 'from'));

      const fixed = await lintAs(shop.token, draft(mismatch('See the coats')));
      assert.equal(fixed.status, 200, fixed.text);
      assert.ok(!fixed.body.findings.some((f: { id: string }) => f.id === 'link.text-mismatch'));
      assert.equal(fixed.body.contact, null, 'no contact: the sample');
      assert.match(fixed.body.html, /Hello Alex,/);
      // nothing was saved
      assert.deepEqual((await t.api('GET', '/v1/templates', { token: shop.token })).body.data, []);
    });

    test('with a From, the sender checks run too', async () => {
      const r = await lintAs(shop.token, { ...draft(mismatch('See the coats')), from: { email: 'shop@gmail.com', name: 'Shop' } });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.findings.some((f: { id: string }) => f.id === 'from.freemail'), JSON.stringify(r.body.findings));
    });

    test('another tenant\'s contact is not found, by address or by id', async () => {
      for (const ref of [{ email: 'zoe@customer.example' }, { contactId: theirContactId }]) {
        const r = await lintAs(shop.token, { ...draft('<p>Hi</p>'), ...ref });
        assert.equal(r.status, 404, r.text);
        assert.equal(r.body.type, 'urn:envoi:problem:not_found');
        assert.equal(r.body.field, Object.keys(ref)[0]);
      }
      const mine = await lintAs(other.token, { ...draft('<p>Hi {{ contact.first_name }}</p>'), contactId: theirContactId });
      assert.equal(mine.status, 200, 'the owner can');
      assert.match(mine.body.html, /Hi zoe/);
    });

    test('bad input is a 400 problem naming the field', async () => {
      const cases: [unknown, string][] = [
        [{ subject: 's', body: '<p>x</p>' }, 'format'],
        [{ ...draft('<p>x</p>'), format: 'docx' }, 'format'],
        [{ ...draft('<p>x</p>'), name: 'x' }, ''],
        [{ ...draft('<p>x</p>'), email: 'ann@customer.example', contactId: 'ct_1' }, 'email'],
        [{ format: 'mjml', subject: 's', body: '<mjml><mj-body><mj-section><mj-column><mj-text>{{ contact.first_name </mj-text></mj-column></mj-section></mj-body></mjml>' }, 'body'],
        [{ ...draft('<p>x</p>'), subject: '' }, 'subject'],
      ];
      for (const [body, field] of cases) {
        const r = await lintAs(shop.token, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.match(String(r.headers['content-type']), /application\/problem\+json/);
        assert.equal(r.body.type, 'urn:envoi:problem:request.invalid');
        if (field) assert.equal(r.body.field, field, r.text);
      }
      const big = await lintAs(shop.token, draft(`<p>${'x'.repeat(LINT_BODY_LIMIT)}</p>`));
      assert.equal(big.status, 413);
      assert.equal((await t.api('POST', '/v1/templates/lint', { body: draft('<p>x</p>') })).status, 401, 'authenticated route');
    });

    test('hostile drafts are answered, never with a 5xx', async (tc) => {
      const piece = fc.oneof(hostileString(60), fc.constantFrom('<mjml><mj-body>', '</mj-body></mjml>', '<a href="', '">', '</a>', '{{ contact.first_name }}', '{% for x in contact %}', '{{ contact | json }}', 'www.shop.example'));
      const text = fc.array(piece, { maxLength: 8 }).map((a) => a.join(''));
      await fuzz(tc, 'draft lint', 40, fc.asyncProperty(
        fc.record({ format: fc.constantFrom('mjml', 'html'), subject: text, body: text, email: fc.option(fc.oneof(hostileString(40), fc.constant('ann@customer.example')), { nil: undefined }) }, { requiredKeys: ['format', 'subject', 'body'] }),
        async (b) => {
          const r = await lintAs(shop.token, b);
          assert.ok(r.status < 500, `${JSON.stringify(b)}: ${r.status} ${r.text}`);
          if (r.status >= 400) assert.match(String(r.headers['content-type']), /problem\+json/);
          else assert.ok(Array.isArray(r.body.findings));
        },
      ));
    });
  });
}

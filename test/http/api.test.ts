// The REST API end to end, on SQLite and PostgreSQL: an operator creates a
// tenant, the tenant adds a domain and sends; the message lands in the
// sandbox. And every kind of bad input gets its problem response.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const msg = (over: Record<string, unknown> = {}) => ({
  from: { email: 'orders@shop.example', name: 'Shop' },
  to: ['alice@customer.example'],
  subject: 'Your order 1234',
  text: 'Thank you for your order.',
  html: '<p>Thank you for your <b>order</b>.</p>',
  ...over,
});

for (const dialect of DIALECTS) {
  describe(`REST API (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
    });
    after(() => t.close());

    test('adding a domain returns the DNS records to publish', async () => {
      const r = await t.api('POST', '/v1/domains', { token: acme.token, body: { name: 'News.Shop.Example' } });
      assert.equal(r.status, 201);
      assert.equal(r.body.name, 'news.shop.example');
      const byName = (n: string) => r.body.records.filter((x: { name: string }) => x.name === n);
      const dkim = r.body.records.filter((x: { name: string }) => x.name.includes('._domainkey.news.shop.example'));
      assert.equal(dkim.length, 2);
      assert.ok(dkim.some((x: { value: string }) => /k=rsa; p=MII/.test(x.value)), 'an RSA key');
      assert.ok(dkim.some((x: { value: string }) => /k=ed25519; p=/.test(x.value)), 'an Ed25519 key');
      assert.match(byName('_dmarc.news.shop.example')[0].value, /^v=DMARC1; p=none/);
      for (const label of ['bounce-tx', 'bounce-mk']) {
        const recs = byName(`${label}.news.shop.example`);
        assert.deepEqual(recs.map((x: { type: string }) => x.type).sort(), ['MX', 'TXT']);
      }
    });

    test('a message sent through the API lands in the sandbox, signed twice', async () => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: msg() });
      assert.equal(r.status, 202, r.text);
      assert.match(r.body.messageId, /@shop\.example$/);
      const entry = await eventually(async () => {
        const list = await t.api('GET', '/v1/sandbox/messages', { token: acme.token });
        return list.body.data.find((e: { message_id: string }) => e.message_id === r.body.id);
      });
      assert.equal(entry.rcpt_to, 'alice@customer.example');
      assert.match(entry.mail_from, /^b-[0-9a-z]+-[0-9a-f]{14}@bounce-tx\.shop\.example$/);
      const raw = await t.api('GET', `/v1/sandbox/messages/${entry.id}/raw`, { token: acme.token });
      assert.equal(raw.headers['content-type'], 'message/rfc822');
      const sigs = raw.text.match(/^DKIM-Signature:[^]*?(?=\r\n\S)/gm) ?? [];
      assert.equal(sigs.length, 2);
      assert.ok(sigs.some((s) => /a=rsa-sha256/.test(s)) && sigs.some((s) => /a=ed25519-sha256/.test(s)));
      assert.match(raw.text, /^Feedback-ID: tx:transactional:acme:envoi\r$/m);
      assert.match(raw.text, new RegExp(`^Message-ID: <${r.body.messageId}>\\r$`, 'm'));
      assert.match(raw.text, /^MIME-Version: 1\.0\r$/m);
      assert.match(raw.text, /multipart\/alternative/);
      for (const line of raw.text.split('\r\n')) assert.ok(line.length <= 998);
      const story = await t.api('GET', `/v1/messages/${r.body.id}`, { token: acme.token });
      assert.deepEqual(story.body.events.map((e: { type: string }) => e.type), ['accepted', 'delivered']);
    });

    test('Idempotency-Key: the same request twice gives one message and the same answer', async () => {
      const headers = { 'idempotency-key': 'order-77' };
      const a = await t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'Order 77' }), headers });
      const b = await t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'Order 77' }), headers });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.deepEqual(b.body, a.body);
      assert.equal(b.headers['idempotent-replayed'], 'true');
      const c = await t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'Order 78' }), headers });
      assert.equal(c.status, 422);
      assert.equal(c.body.code, 'idempotency.mismatch');
      // the other tenant may use the same key for its own message
      const d = await t.api('POST', '/v1/messages', { token: other.token, body: msg({ from: 'news@other.example' }), headers });
      assert.equal(d.status, 202);
      assert.notEqual(d.body.id, a.body.id);
      const list = await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token });
      await eventually(async () => {
        const l = await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token });
        return l.body.data.some((e: { message_id: string }) => e.message_id === a.body.id);
      });
      assert.ok(list.status === 200);
      const copies = (await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token })).body.data.filter((e: { message_id: string }) => e.message_id === a.body.id);
      assert.equal(copies.length, 1);
    });

    test('concurrent duplicates with one Idempotency-Key store one message', async () => {
      const headers = { 'idempotency-key': 'race-1' };
      const answers = await Promise.all(Array.from({ length: 5 }, () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'race' }), headers })));
      assert.ok(answers.every((a) => a.status === 202), answers.map((a) => a.status).join());
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    });

    const problems: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ['malformed JSON', () => t.api('POST', '/v1/messages', { token: acme.token, rawBody: '{"from": ' }), 400, 'request.malformed'],
      ['unknown field', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ colour: 'red' }) }), 400, 'request.invalid'],
      ['invalid address', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ to: ['a@b'] }) }), 400, 'message.invalid_address'],
      ['freemail From (GM-3)', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ from: 'shop@gmail.com' }) }), 422, 'message.freemail_from'],
      ['From on a domain the tenant does not own', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ from: 'x@other.example' }) }), 422, 'message.from_not_verified'],
      ['CR/LF in the subject', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'Hi\r\nBcc: victim@example.org' }) }), 400, 'message.header_injection'],
      ['CR/LF in a display name', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ from: { email: 'orders@shop.example', name: 'A\nB' } }) }), 400, 'message.header_injection'],
      ['a reserved header', () => t.api('POST', '/v1/messages', { token: acme.token, body: msg({ headers: { 'DKIM-Signature': 'x' } }) }), 400, 'request.invalid'],
      ['no credentials', () => t.api('POST', '/v1/messages', { body: msg() }), 401, 'auth.required'],
      ['a wrong secret', () => t.api('POST', '/v1/messages', { token: `${acme.keyId}.nope`, body: msg() }), 401, 'auth.invalid'],
      ['a tenant key on an operator route', () => t.api('GET', '/v1/tenants', { token: acme.token }), 403, 'auth.forbidden'],
      ['an unknown route', () => t.api('GET', '/v1/nothing', { token: acme.token }), 404, 'not_found'],
    ];
    for (const [name, call, status, code] of problems) {
      test(`bad input: ${name} → ${status} ${code}`, async () => {
        const r = await call();
        assert.equal(r.status, status);
        assert.equal(r.body.code, code);
        assert.equal(r.body.status, status);
        assert.ok(r.body.title && r.body.detail);
      });
    }

    test('bad input: a message over the size limit → 413', async () => {
      const small = await startTestApp(dialect, { limits: { maxMessageBytes: 20_000 } });
      try {
        const k = await tenantWithDomain(small, 'big', 'big.example');
        const r = await small.api('POST', '/v1/messages', { token: k.token, body: msg({ from: 'a@big.example', text: 'x'.repeat(30_000) }) });
        assert.equal(r.status, 413);
        assert.equal(r.body.code, 'message.too_large');
        const over = await small.api('POST', '/v1/messages', { token: k.token, body: msg({ from: 'a@big.example', text: 'y'.repeat(19_000) }) });
        assert.equal(over.status, 413, 'the composed and signed message counts, not only the body');
        const list = await small.api('GET', '/v1/sandbox/messages', { token: k.token });
        assert.equal(list.body.data.length, 0, 'nothing half-written');
      } finally {
        await small.close();
      }
    });

    test("another tenant's resources are not found, never shown", async () => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: msg({ subject: 'private' }) });
      const entry = await eventually(async () => (await t.api('GET', '/v1/sandbox/messages', { token: acme.token })).body.data.find((e: { message_id: string }) => e.message_id === r.body.id));
      for (const path of [`/v1/messages/${r.body.id}`, `/v1/sandbox/messages/${entry.id}`, `/v1/sandbox/messages/${entry.id}/raw`, '/v1/domains/shop.example']) {
        const x = await t.api('GET', path, { token: other.token });
        assert.equal(x.status, 404, path);
        assert.doesNotMatch(x.text, /private|Thank you|alice@/);
      }
      const theirs = await t.api('GET', '/v1/sandbox/messages?limit=500', { token: other.token });
      assert.ok(theirs.body.data.every((e: { subject: string }) => e.subject !== 'private'));
      const domain = await t.api('POST', '/v1/domains', { token: other.token, body: { name: 'shop.example' } });
      assert.equal(domain.status, 409);
    });
  });
}

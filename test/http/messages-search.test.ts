// GET /v1/messages, the message search, on SQLite and PostgreSQL: by
// recipient (newest first, paged by cursor), by envoi id or Message-ID; a
// story narrowed to one recipient; another tenant's messages are invisible;
// no key is 401; bad input is a problem naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

for (const dialect of DIALECTS) {
  describe(`message search (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    const ids: string[] = [];
    let headerId = '';
    const get = (path: string, token = acme.token) => t.api('GET', path, { token });

    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
      for (let i = 0; i < 3; i++) {
        const r = await t.api('POST', '/v1/messages', { token: acme.token, body: {
          from: { email: 'orders@shop.example' }, to: ['Ann@Customer.example', `x${i}@customer.example`], subject: `Order ${i}`, text: 'Thanks',
        } });
        assert.equal(r.status, 202, r.text);
        ids.push(r.body.id);
        headerId = r.body.messageId;
      }
      const theirs = await t.api('POST', '/v1/messages', { token: other.token, body: { from: { email: 'a@other.example' }, to: ['ann@customer.example'], subject: 'Theirs', text: 'x' } });
      assert.equal(theirs.status, 202, theirs.text);
    });
    after(() => t.close());

    test('by recipient: newest first, two pages, then the end; found in any case', async () => {
      const one = await get('/v1/messages?recipient=ann@customer.example&limit=2');
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(one.body.data.map((m: { id: string }) => m.id), [ids[2], ids[1]]);
      assert.equal(one.body.data[0].recipient.address, 'Ann@customer.example', 'the local part as written, the domain lower-cased');
      assert.equal(one.body.data[0].subject, 'Order 2');
      assert.ok(one.body.next);
      const two = await get(`/v1/messages?recipient=ann@customer.example&limit=2&cursor=${one.body.next}`);
      assert.deepEqual(two.body.data.map((m: { id: string }) => m.id), [ids[0]]);
      assert.equal(two.body.next, null);
      const exact = await get('/v1/messages?recipient=ANN@CUSTOMER.EXAMPLE');
      assert.equal(exact.body.data.length, 3, 'the other tenant\'s message to the same address is not listed');
    });

    test('by envoi id or Message-ID header, with or without angle brackets', async () => {
      for (const ref of [ids[2], headerId, `<${headerId}>`]) {
        const r = await get(`/v1/messages?messageId=${encodeURIComponent(ref)}`);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body.data.map((m: { id: string }) => m.id), [ids[2]], ref);
      }
    });

    test('a story narrowed to one recipient has only that recipient and its events', async () => {
      await eventually(async () => (await get(`/v1/messages/${ids[1]}`)).body.recipients.every((r: { status: string }) => r.status === 'delivered'));
      const all = await get(`/v1/messages/${ids[1]}`);
      assert.equal(all.body.recipients.length, 2);
      const one = await get(`/v1/messages/${ids[1]}?recipient=x1@customer.example`);
      assert.deepEqual(one.body.recipients.map((r: { address: string }) => r.address), ['x1@customer.example']);
      const rid = one.body.recipients[0].id;
      assert.ok(one.body.events.some((e: { type: string }) => e.type === 'delivered'));
      assert.ok(one.body.events.every((e: { recipient_id: string | null }) => e.recipient_id === null || e.recipient_id === rid));
      assert.equal(one.body.moreRecipients, false);
    });

    test('a message with more recipients than a story holds (a campaign): the first 100, and any one by address', async () => {
      // a campaign's messages row has one recipient per contact: made here directly, as the runner does
      const now = Date.now();
      const rows = Array.from({ length: 105 }, (_, i) => ({
        id: `rcp_${String(now).padStart(14, '0')}${String(i).padStart(6, '0')}`, message_id: ids[0], tenant_id: acme.tenantId, address: `c${i}@list.example`,
        kind: 'to', envelope_from: 'b@bounce-mk.shop.example', status: 'delivered', attempts: 1, next_attempt_at: now, locked_until: null, locked_by: null, updated_at: now,
      }));
      await t.app.store.db.insertInto('recipients').values(rows).execute();
      const story = await get(`/v1/messages/${ids[0]}`);
      assert.equal(story.body.recipients.length, 100);
      assert.equal(story.body.moreRecipients, true);
      const last = await get(`/v1/messages/${ids[0]}?recipient=C104@LIST.example`);
      assert.deepEqual(last.body.recipients.map((r: { address: string }) => r.address), ['c104@list.example']);
      assert.equal(last.body.moreRecipients, false);
    });

    test('another tenant sees nothing of these messages; no key is 401', async () => {
      const r = await get('/v1/messages?recipient=x0@customer.example', other.token);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, []);
      assert.deepEqual((await get(`/v1/messages?messageId=${ids[0]}`, other.token)).body.data, []);
      assert.equal((await get(`/v1/messages/${ids[0]}`, other.token)).status, 404);
      assert.equal((await t.api('GET', '/v1/messages?recipient=x0@customer.example')).status, 401);
    });

    test('bad input is a problem naming the field', async () => {
      const cases: [string, string][] = [
        ['/v1/messages', 'recipient'],
        [`/v1/messages?recipient=a@b.example&messageId=${ids[0]}`, 'recipient'],
        ['/v1/messages?recipient=a@b.example&limit=1000', 'limit'],
        ['/v1/messages?recipient=a@b.example&limit=0', 'limit'],
        ['/v1/messages?recipient=a@b.example&cursor=%27%20or%201=1', 'cursor'],
        ['/v1/messages?recipient=a@b.example&sort=asc', ''],
      ];
      for (const [path, field] of cases) {
        const r = await get(path);
        assert.equal(r.status, 400, `${path}: ${r.text}`);
        assert.equal(r.body.code, 'request.invalid');
        if (field) assert.equal(r.body.field, field, path);
        assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
      }
    });
  });
}

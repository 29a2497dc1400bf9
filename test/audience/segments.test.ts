// Segments against a real audience on both dialects: each segment's count and
// streamed addresses through the mailable-audience query, the LIKE wildcards
// of a value matching literally, two-valued `not`, list membership, and an
// injection attempt that stays a plain string.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { manualClock, openTestCore } from '../helpers/app.ts';
import { segmentFilter } from '../../src/audience/segments/index.ts';
import type { List } from '../../src/store/schema.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-25T09:00:00Z');
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const LATER = dayOf(T0 + 40 * DAY); // the day dan, eve and fay subscribed: 2027-01-04

// [segment, the local parts of the addresses it selects on the main list]
const CASES: Array<[string, string[]]> = [
  ['fields.country = "FR"', ['ana', 'cleo']],
  ['fields.country != "FR"', ['ben', 'dan', 'eve', 'fay']],
  ['fields.age > 30', ['ana', 'cleo']],
  ['fields.age <= 19', ['ben', 'fay']],
  ['not fields.age > 0', ['dan', 'eve']],
  ['fields.age in [7, 34]', ['ana', 'fay']],
  ['fields.country in ["DE", "ES"]', ['ben', 'eve']],
  ['fields.age is set', ['ana', 'ben', 'cleo', 'eve', 'fay']],
  ['fields.age is not set', ['dan']],
  ['fields.code contains "%_"', ['ana']],
  ['fields.code ends_with "_OFF"', ['ana']],
  ['fields.code starts_with "100"', ['ana', 'ben']],
  ['fields.note contains "a\\\\b"', ['cleo']],
  ['fields.vip = true', ['ana']],
  ['fields.vip = false', ['fay']],
  ['fields.vip != true', ['ben', 'cleo', 'dan', 'eve', 'fay']],
  ['domain in ["test.example", "shop.example.net"]', ['cleo', 'dan', 'fay']],
  ['not domain in ["example.org", "test.example"]', ['dan', 'eve']],
  ['email ends_with "@EXAMPLE.COM"', ['eve']],
  ['email = "BEN@example.org"', ['ben']],
  ['last_open > 30 days ago', ['cleo']],
  ['last_open < 30 days ago', ['ana']],
  ['not last_open > 30 days ago', ['ana', 'ben', 'dan', 'eve', 'fay']],
  ['last_engaged is not set', ['dan', 'eve', 'fay']],
  ['last_click is set', ['ben']],
  ['created > 20 days ago', ['dan', 'eve', 'fay']],
  [`subscribed >= ${LATER}`, ['dan', 'eve', 'fay']],
  [`subscribed = ${LATER}`, ['dan', 'eve', 'fay']],
  [`subscribed < ${LATER}`, ['ana', 'ben', 'cleo']],
  [`subscribed > ${LATER}`, []],
  ['list = "weekly"', ['ana', 'fay']],
  ['list != "weekly"', ['ben', 'cleo', 'dan', 'eve']],
  ['list in ["weekly", "nonexistent"]', ['ana', 'fay']],
  ['source = "form" and opt_in = "single"', ['ana', 'ben', 'cleo', 'dan', 'eve', 'fay']],
  ['FIELDS.country = "FR" OR Last_Click IS SET', ['ana', 'ben', 'cleo']],
  ['fields.country = "FR" and (last_open > 10 days ago or subscribed > 2026-01-01) and not domain in ["example.org"]', ['cleo']],
  ['fields.country = "\'); DROP TABLE contacts; --"', []],
  ['email = "x\' OR 1=1 --" or fields.country = "x\') OR (\'1\'=\'1"', []],
];

const EMAILS: Record<string, string> = {
  ana: 'ana@example.org', ben: 'ben@example.org', cleo: 'cleo@test.example',
  dan: 'dan@shop.example.net', eve: 'eve@example.com', fay: 'fay@test.example',
};

for (const dialect of DIALECTS) {
  describe(`segments (${dialect})`, () => {
    const clock = manualClock(T0);
    let core: Awaited<ReturnType<typeof openTestCore>>;
    let tenantId: string;
    let main: List;
    let weekly: List;

    before(async () => {
      core = await openTestCore(dialect, {}, { clock });
      const t = await core.services.tenants.create('acme');
      assert.ok(t.ok);
      tenantId = t.value.tenant.id;
      assert.ok((await core.services.domains.add(tenantId, 'shop.example')).ok);
      const a = core.services.audience;
      const newList = async (name: string) => {
        const r = await a.lists.create(tenantId, { name, fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Yes, send me news.', optIn: 'single' });
        assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
        return r.value;
      };
      main = await newList('main');
      weekly = await newList('weekly');
      const form = { source: 'form' as const, optIn: 'single' as const, ip: '203.0.113.7', formUrl: 'https://shop.example/news', checkboxUnchecked: true, separateConsent: true };
      const ids: Record<string, string> = {};
      const join = async (list: List, email: string, fields: Record<string, unknown> = {}) => {
        const r = await a.subscriptions.subscribe(tenantId, list, email, fields, form);
        assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
        assert.equal(r.value.subscription.status, 'subscribed');
        ids[email.split('@')[0].toLowerCase()] = r.value.contact.id;
      };
      await join(main, 'ana@example.org', { country: 'FR', age: 34, vip: true, code: '100%_off' });
      await join(weekly, 'ana@example.org');
      await join(main, 'ben@example.org', { country: 'DE', age: '19', code: '100x off' });
      await join(main, 'cleo@test.example', { country: 'FR', age: 52, note: 'a\\b' });
      await join(weekly, 'gus@example.org', { country: 'FR' }); // not on the main list: never selected there
      clock.advance(40 * DAY);
      await join(main, 'dan@shop.example.net');
      await join(main, 'eve@Example.COM', { country: 'ES', age: 'n/a' });
      await join(main, 'fay@test.example', { age: 7, vip: false });
      await join(weekly, 'fay@test.example');
      await a.contacts.engaged(tenantId, ids.ana, 'open', T0 + 10 * DAY);
      await a.contacts.engaged(tenantId, ids.ben, 'click', T0 + 41 * DAY);
      await a.contacts.engaged(tenantId, ids.cleo, 'open', T0 + 45 * DAY);
      clock.set(T0 + 50 * DAY);
    });
    after(() => core.dispose());

    const filter = (text: string) => {
      const f = segmentFilter(text, { dialect, now: clock.now(), tenantId });
      assert.ok(f.ok, `${text}: ${JSON.stringify(!f.ok && f.error)}`);
      return f.value;
    };

    test('without a segment the whole main list is mailable', async () => {
      assert.equal(await core.services.audience.mailable.count(tenantId, [main.id]), 6);
    });

    for (const [text, expected] of CASES) {
      test(text, async () => {
        const a = core.services.audience;
        const segment = filter(text);
        assert.equal(await a.mailable.count(tenantId, [main.id], segment), expected.length);
        const seen: string[] = [];
        for await (const batch of a.mailable.stream(tenantId, [main.id], { segment, batchSize: 2 })) seen.push(...batch.map((b) => b.email));
        assert.deepEqual(seen.sort(), expected.map((k) => EMAILS[k]).sort());
      });
    }

    test('over two lists a contact counts once, and gus (weekly only) joins in', async () => {
      assert.equal(await core.services.audience.mailable.count(tenantId, [main.id, weekly.id], filter('fields.country = "FR"')), 3);
    });

    test('the injection attempts were plain strings: the contacts table is intact', async () => {
      const rows = await core.store.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      assert.equal(Number(rows.n), 7);
      assert.equal(await core.services.audience.mailable.count(tenantId, [main.id], filter('email contains "\'); DROP TABLE contacts; --"')), 0);
    });

    test('numeric strings compare as numbers, other strings never do, alike on both dialects', async () => {
      const a = core.services.audience;
      const r = await a.lists.create(tenantId, { name: 'numbers', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Yes.', optIn: 'single' });
      assert.ok(r.ok);
      const values: Record<string, unknown> = { n1: '-5', n2: '1.5', n3: 12, n4: 1000.25, n5: '0012', x1: '1.2.3', x2: '5-', x3: '-', x4: '.5', x5: '', x6: ' 7', x7: '1e3', x8: true };
      for (const [k, v] of Object.entries(values)) assert.ok((await a.subscriptions.subscribe(tenantId, r.value, `${k}@num.example`, { v }, { source: 'api', optIn: 'single' })).ok);
      const emails = async (text: string) => {
        const seen: string[] = [];
        for await (const b of a.mailable.stream(tenantId, [r.value.id], { segment: filter(text) })) seen.push(...b.map((c) => c.email.split('@')[0]));
        return seen.sort();
      };
      assert.deepEqual(await emails('fields.v > -100'), ['n1', 'n2', 'n3', 'n4', 'n5']);
      assert.deepEqual(await emails('fields.v >= 12'), ['n3', 'n4', 'n5']);
      assert.deepEqual(await emails('fields.v = 1000.25'), ['n4']);
      assert.deepEqual(await emails('fields.v in [-5, 12]'), ['n1', 'n3', 'n5']);
      assert.deepEqual(await emails('fields.v = "12"'), ['n3'], 'a string compares the text: "0012" is not "12"');
      assert.deepEqual(await emails('fields.v is not set'), ['x5'], 'an empty string is not set');
    });

    test("another tenant's list of the same name does not count", async () => {
      const other = await core.services.tenants.create('other');
      assert.ok(other.ok);
      const otherId = other.value.tenant.id;
      assert.ok((await core.services.domains.add(otherId, 'other.example')).ok);
      const l = await core.services.audience.lists.create(otherId, { name: 'vip', fromAddress: 'a@other.example', fromName: 'Other', consentText: 'ok', optIn: 'single' });
      assert.ok(l.ok);
      const r = await core.services.audience.subscriptions.subscribe(otherId, l.value, 'ben@example.org', {}, { source: 'api', optIn: 'single' });
      assert.ok(r.ok);
      const count = core.services.audience.mailable.count;
      assert.equal(await count(tenantId, [main.id], filter('list = "vip"')), 0);
      const forOther = segmentFilter('list = "vip"', { dialect, now: clock.now(), tenantId: otherId });
      assert.ok(forOther.ok);
      assert.equal(await count(otherId, [l.value.id], forOther.value), 1);
      assert.equal(await count(otherId, [l.value.id], filter('list = "vip"')), 0, "a filter compiled for acme reads acme's lists only");
    });
  });
}

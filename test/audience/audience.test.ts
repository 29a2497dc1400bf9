// The audience stage on both dialects: double opt-in, what the mailable
// audience includes and excludes (consent, suppression, sunset, quarantine,
// unsubscribe), erasure, and the proof of consent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { manualClock, openTestCore } from '../helpers/app.ts';

const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`audience (${dialect})`, () => {
    const clock = manualClock();
    let core: Awaited<ReturnType<typeof openTestCore>>;
    let tenantId: string;
    before(async () => {
      core = await openTestCore(dialect, {}, { clock });
      const t = await core.services.tenants.create('acme');
      assert.ok(t.ok);
      tenantId = t.value.tenant.id;
      assert.ok((await core.services.domains.add(tenantId, 'shop.example')).ok);
    });
    after(() => core.dispose());

    const newList = async (name: string, extra: Record<string, unknown> = {}) => {
      const r = await core.services.audience.lists.create(tenantId, { name, fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Yes, send me the weekly newsletter.', ...extra });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
      return r.value;
    };
    const form = { source: 'form' as const, optIn: 'single' as const, ip: '203.0.113.7', userAgent: 'Firefox', formUrl: 'https://shop.example/newsletter', checkboxUnchecked: true, separateConsent: true };

    test('double opt-in: pending until confirmed, then mailable; the link is idempotent', async () => {
      const a = core.services.audience;
      const list = await newList('weekly');
      const r = await a.subscriptions.subscribe(tenantId, list, 'alice@example.org', { first_name: 'Alice' }, form);
      assert.ok(r.ok);
      assert.equal(r.value.subscription.status, 'pending');
      assert.equal(r.value.needsConfirmation, true);
      assert.equal(await a.mailable.count(tenantId, [list.id]), 0, 'pending is not mailable');
      clock.advance(60_000);
      const c = await a.subscriptions.confirm(tenantId, list.id, r.value.contact.id, r.value.consent.id, '203.0.113.8', 'Firefox');
      assert.deepEqual(c, { ok: true, value: 'confirmed' });
      assert.deepEqual(await a.subscriptions.confirm(tenantId, list.id, r.value.contact.id, r.value.consent.id, '198.51.100.1', 'x'), { ok: true, value: 'already' });
      assert.equal(await a.mailable.count(tenantId, [list.id]), 1);
      const proof = await a.proof(tenantId, 'ALICE@example.org');
      const p = proof!.lists[0];
      assert.equal(p.status, 'subscribed');
      assert.equal(p.consent!.optIn, 'double');
      assert.equal(p.consent!.ip, '203.0.113.7');
      assert.equal(p.consent!.confirmIp, '203.0.113.8', 'the second click did not overwrite the confirmation');
      assert.equal(p.consent!.consentText, 'Yes, send me the weekly newsletter.');
      assert.equal(p.consent!.checkboxUncheckedByDefault, true);
      assert.equal(p.consent!.formUrl, 'https://shop.example/newsletter');
    });

    test('the mailable audience excludes unconfirmed, suppressed, unsubscribed, sunset and quarantined contacts', async () => {
      const a = core.services.audience;
      const list = await newList('promo', { optIn: 'single' });
      const emails = ['m1@example.org', 'm2@example.org', 'sup@example.org', 'unsub@example.org', 'old@example.org', 'quar@example.org'];
      const ids: Record<string, string> = {};
      for (const e of emails) {
        const r = await a.subscriptions.subscribe(tenantId, list, e, {}, form);
        assert.ok(r.ok);
        assert.equal(r.value.subscription.status, 'subscribed', 'single opt-in list');
        ids[e] = r.value.contact.id;
      }
      assert.equal(await a.mailable.count(tenantId, [list.id]), 6);
      await a.suppression.add(tenantId, 'SUP@example.org', 'hard_bounce', 'test');
      await a.subscriptions.unsubscribe(tenantId, list.id, ids['unsub@example.org'], 'test');
      await core.store.db.updateTable('subscriptions').set({ quarantined: 1 }).where('contact_id', '=', ids['quar@example.org']).execute();
      await a.contacts.engaged(tenantId, ids['m1@example.org'], 'open', clock.now());
      clock.advance(150 * DAY);
      await a.contacts.engaged(tenantId, ids['m2@example.org'], 'click', clock.now());
      await a.contacts.engaged(tenantId, ids['m1@example.org'], 'open', clock.now());
      clock.advance(40 * DAY); // old@ has had no engagement for 190 days
      const seen: string[] = [];
      for await (const batch of a.mailable.stream(tenantId, [list.id], { batchSize: 1 })) seen.push(...batch.map((b) => b.email));
      assert.deepEqual(seen.sort(), ['m1@example.org', 'm2@example.org']);
      assert.equal(await a.mailable.count(tenantId, [list.id]), 2);
      const sunset = await a.mailable.sunset(tenantId, [list.id]);
      assert.deepEqual(sunset, { mailable: 2, sunset: 1, flagged: 0 });
    });

    test('two lists: each contact once, resumable from a checkpoint', async () => {
      const a = core.services.audience;
      const l1 = await newList('l1', { optIn: 'single' });
      const l2 = await newList('l2', { optIn: 'single' });
      for (let i = 0; i < 25; i++) {
        if (i % 3 !== 2) await a.subscriptions.subscribe(tenantId, l1, `u${i}@two.example`, {}, form);
        if (i % 3 !== 0) await a.subscriptions.subscribe(tenantId, l2, `u${i}@two.example`, {}, form);
      }
      assert.equal(await a.mailable.count(tenantId, [l1.id, l2.id]), 25);
      const first: string[] = [];
      let checkpoint = '';
      for await (const b of a.mailable.stream(tenantId, [l1.id, l2.id], { batchSize: 4 })) {
        first.push(...b.map((x) => x.email));
        checkpoint = b[b.length - 1].contact_id;
        if (first.length >= 8) break;
      }
      const rest: string[] = [];
      for await (const b of a.mailable.stream(tenantId, [l1.id, l2.id], { batchSize: 4, checkpoint })) rest.push(...b.map((x) => x.email));
      const all = [...first, ...rest];
      assert.equal(all.length, 25);
      assert.equal(new Set(all).size, 25);
    });

    test('relationship without opt-in: mailable only where the list allows it and the record says what and how', async () => {
      const a = core.services.audience;
      const strict = await newList('strict', { optIn: 'single' });
      const soft = await newList('customers', { optIn: 'single', allowRelationship: true });
      const rel = { source: 'customer' as const, optIn: 'none' as const, relationship: 'bought a kettle in 2025', informedHow: 'order confirmation page' };
      await a.subscriptions.subscribe(tenantId, strict, 'buyer@example.org', {}, rel);
      await a.subscriptions.subscribe(tenantId, soft, 'buyer@example.org', {}, rel);
      await a.subscriptions.subscribe(tenantId, soft, 'vague@example.org', {}, { ...rel, informedHow: null });
      assert.equal(await a.mailable.count(tenantId, [strict.id]), 0);
      assert.equal(await a.mailable.count(tenantId, [soft.id]), 1);
    });

    test("a list's rule is read at each walk: the stream and the count agree when it tightens after sign-up", async () => {
      const a = core.services.audience;
      const loose = await newList('loose', { optIn: 'single', allowRelationship: true });
      const other = await newList('other-loose', { optIn: 'single' });
      const rel = { source: 'customer' as const, optIn: 'none' as const, relationship: 'bought a kettle in 2025', informedHow: 'order confirmation page' };
      const confirmed = { ...form, optIn: 'double' as const, confirmedAt: clock.now() };
      await a.subscriptions.subscribe(tenantId, loose, 'single@rule.example', {}, form);
      await a.subscriptions.subscribe(tenantId, loose, 'both@rule.example', {}, form);
      await a.subscriptions.subscribe(tenantId, other, 'both@rule.example', {}, form);
      await a.subscriptions.subscribe(tenantId, loose, 'double@rule.example', {}, confirmed);
      await a.subscriptions.subscribe(tenantId, loose, 'customer@rule.example', {}, rel);
      const walk = async (lists: string[]) => {
        const seen: string[] = [];
        for await (const b of a.mailable.stream(tenantId, lists, { batchSize: 2 })) seen.push(...b.map((x) => `${x.email} ${x.list_id === loose.id ? 'loose' : 'other'}`));
        assert.equal(seen.length, await a.mailable.count(tenantId, lists), 'the walk and the count agree');
        return seen.sort();
      };
      assert.deepEqual(await walk([loose.id, other.id]), ['both@rule.example loose', 'customer@rule.example loose', 'double@rule.example loose', 'single@rule.example loose']);
      // the list now asks for double opt-in and no longer accepts a relationship
      await core.store.db.updateTable('lists').set({ opt_in: 'double', allow_relationship: 0 }).where('id', '=', loose.id).execute();
      assert.deepEqual(await walk([loose.id]), ['double@rule.example loose']);
      assert.deepEqual(await walk([loose.id, other.id]), ['both@rule.example other', 'double@rule.example loose'], 'both@ comes through the list that still accepts its consent');
    });

    test('erasure removes personal data and keeps the address suppressed for good', async () => {
      const a = core.services.audience;
      const list = await newList('erase-me', { optIn: 'single' });
      await a.subscriptions.subscribe(tenantId, list, 'gone@example.org', { first_name: 'Gone' }, form);
      assert.deepEqual(await a.contacts.erase(tenantId, 'gone@example.org'), { ok: true, value: true });
      const row = await core.store.db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('status', '=', 'erased').executeTakeFirstOrThrow();
      assert.equal(row.email, null);
      assert.equal(row.fields, '{}');
      assert.equal(await a.proof(tenantId, 'gone@example.org'), undefined);
      const again = await a.subscriptions.subscribe(tenantId, list, 'Gone@Example.org', {}, form);
      assert.equal(again.ok, false);
      const sup = await a.suppression.check(tenantId, 'gone@example.org');
      assert.equal(sup?.email, null);
      assert.equal((await a.suppression.remove(tenantId, 'gone@example.org', 'test')).ok, false, 'an erasure cannot be lifted');
    });

    test('suppression: a weaker reason never hides a stronger one; lifting a complaint needs a reason', async () => {
      const s = core.services.audience.suppression;
      await s.add(tenantId, 'c@example.org', 'complaint', 'arf');
      const again = await s.add(tenantId, 'c@example.org', 'unsubscribe', 'link');
      assert.equal(again.ok && again.value.reason, 'complaint');
      assert.equal((await s.remove(tenantId, 'c@example.org', 'op')).ok, false);
      assert.equal((await s.remove(tenantId, 'c@example.org', 'op', 'the recipient asked by phone')).ok, true);
      assert.equal(await s.check(tenantId, 'c@example.org'), undefined);
    });

    test("another tenant's contacts are invisible", async () => {
      const other = await core.services.tenants.create('other');
      assert.ok(other.ok);
      assert.equal(await core.services.audience.proof(other.value.tenant.id, 'alice@example.org'), undefined);
      assert.equal(await core.services.audience.contacts.find(other.value.tenant.id, 'alice@example.org'), undefined);
      assert.equal((await core.services.audience.lists.list(other.value.tenant.id)).length, 0);
    });
  });
}

// CSV import with mandatory provenance (issue 3, MJ-4, MJ-6) on both dialects,
// with domains checked through a loopback DNS server: refusals with line
// numbers, the report's counts, idempotent re-imports, resuming after a
// crash, quarantine and the operator's review, tenant isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { createImports } from '../../src/audience/import/index.ts';
import { csv, importFixture, PROV, type Fixture } from './import-fixture.ts';

for (const dialect of DIALECTS) {
  describe(`CSV import (${dialect})`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await importFixture(dialect);
    });
    after(() => fx.dispose());

    test('provenance is mandatory; rows without it are refused with their line numbers', async () => {
      await fx.list('prov');
      const file = fx.file(csv([['email', 'signup', 'how'], ['a1@mail-a.fr', '2026-01-05', 'single'], ['a2@mail-a.fr', '', 'single'], ['a3@mail-a.fr', '2026-01-06', ''], ['a4@mail-a.fr', '2026-01-07', 'double']]));
      const none = await fx.imports.run({ tenantId: fx.tenantId, listRef: 'prov', file, mapping: { email: 'email' } });
      assert.ok(!none.ok);
      assert.match(none.error.detail, /provenance is mandatory \(MJ-4\)/);
      assert.equal(await fx.count('imports'), 0, 'refused before anything is written');

      const r = await fx.run({
        listRef: 'prov', file, mapping: { email: 'email', provenance: { collected_at: 'signup', method: 'how' } },
        provenance: { source: 'form', collectedAt: '', method: '', consentText: 'Yes please' },
      });
      assert.deepEqual(r.counts, { rows: 4, accepted: 2, refused: 2, merged: 0, unverifiedDomains: 0, pending: 1, subscribed: 1 });
      assert.deepEqual(await fx.rejects(r.importId), [
        { line: 3, email: 'a2@mail-a.fr', reason: 'missing provenance: collected_at' },
        { line: 4, email: 'a3@mail-a.fr', reason: 'missing provenance: method' },
      ]);
      assert.deepEqual(r.refusals, { missing_provenance: 2 });
      assert.match(r.notes.join('\n'), /1 subscription\(s\) are pending/, 'double opt-in without a confirmation time waits');
    });

    test('counts, reasons and merges; what is stored for each accepted row', async () => {
      const news = await fx.list('news');
      const other = await fx.list('other');
      const a = fx.core.services.audience;
      const form = { source: 'form' as const, optIn: 'single' as const };
      assert.ok((await a.subscriptions.subscribe(fx.tenantId, other, 'known@mail-a.fr', { first_name: 'Old', city: 'Lyon' }, form)).ok);
      const already = await a.subscriptions.subscribe(fx.tenantId, news, 'already@mail-a.fr', {}, form);
      assert.ok(already.ok);
      const gone = await a.subscriptions.subscribe(fx.tenantId, news, 'gone@mail-a.fr', {}, form);
      assert.ok(gone.ok);
      await a.subscriptions.unsubscribe(fx.tenantId, news.id, gone.value.contact.id, 'test');
      await a.suppression.add(fx.tenantId, 'bounced@mail-a.fr', 'hard_bounce', 'test');
      assert.equal(await fx.mailable(news.id), 1);

      const file = fx.file(csv([
        ['email', 'first_name', 'city'],
        ['ann@mail-a.fr', 'Ann', 'Paris'], //          2 accepted
        ['bob@only-a.fr', 'Bob', 'Lyon'], //           3 accepted: no MX, an A record (implicit MX)
        ['carl@nowhere.fr', 'Carl', ''], //            4 refused: NXDOMAIN
        ['a@b', 'Bad', ''], //                         5 refused: syntax
        ['josé@café.fr', 'José', 'Nice'], //           6 accepted: IDN
        ['ANN@mail-a.fr', '', 'Marseille'], //         7 merged: duplicate in the file
        ['known@mail-a.fr', 'Kim', ''], //             8 merged: existing contact, subscribed now
        ['already@mail-a.fr', 'Al', ''], //            9 merged: existing subscriber, kept
        ['bounced@mail-a.fr', 'B', ''], //            10 refused: suppressed
        ['gone@mail-a.fr', 'G', ''], //               11 refused: unsubscribed from this list
        ['dan@flaky.fr', 'Dan', ''], //               12 accepted, domain unverified (SERVFAIL)
        ['', 'Nobody', ''], //                        13 refused: no address
        ['zed@null-mx.fr', 'Zed', ''], //             14 refused: null MX
        ['', '', ''], //                                 blank: not a row
      ]));
      const r = await fx.run({ listRef: 'news', file, mapping: { email: 'email', fields: { first_name: 'first_name', city: 'city' } }, provenance: PROV });
      assert.equal(r.status, 'completed');
      assert.deepEqual(r.counts, { rows: 13, accepted: 4, refused: 6, merged: 3, unverifiedDomains: 1, pending: 0, subscribed: 5 });
      assert.deepEqual(r.refusals, { no_mail_domain: 2, invalid_address: 1, suppressed: 1, unsubscribed: 1, missing_email: 1 });
      assert.deepEqual(r.merges, { duplicate_in_file: 1, existing_contact: 1, existing_subscriber: 1 });
      assert.deepEqual(r.unverifiedDomainNames, ['flaky.fr']);
      assert.match(r.notes.join('\n'), /DNS could not check/);
      assert.deepEqual(r.quarantine, { quarantine: false, signals: [] });
      const rejects = await fx.rejects(r.importId);
      assert.deepEqual(rejects.map((x) => x.line), [4, 5, 10, 11, 13, 14]);
      assert.equal(rejects.find((x) => x.line === 10)!.reason, 'suppressed: hard_bounce');
      assert.match(rejects.find((x) => x.line === 5)!.reason, /"a@b"/);

      const ann = await a.contacts.find(fx.tenantId, 'ann@mail-a.fr');
      assert.deepEqual(JSON.parse(ann!.fields), { first_name: 'Ann', city: 'Marseille' }, 'the duplicate merged its city, kept the name');
      assert.deepEqual(JSON.parse((await a.contacts.find(fx.tenantId, 'known@mail-a.fr'))!.fields), { first_name: 'Kim', city: 'Lyon' });
      // stored with the ASCII form of its domain (contacts.find hashes its input as given, so it is asked in that form)
      assert.equal((await a.contacts.find(fx.tenantId, 'josé@xn--caf-dma.fr'))?.email, 'josé@xn--caf-dma.fr');
      const proof = (await a.proof(fx.tenantId, 'ann@mail-a.fr', 'news'))!.lists[0];
      assert.equal(proof.status, 'subscribed');
      assert.equal(proof.consent!.source, 'form');
      assert.equal(proof.consent!.collectedAt, '2026-03-01T10:00:00.000Z');
      assert.equal(proof.consent!.importId, r.importId);
      assert.equal(proof.consent!.consentText, PROV.consentText, 'the consent text, by hash');
      assert.equal(proof.consent!.formUrl, PROV.formUrl);
      const kept = await fx.db.selectFrom('subscriptions').selectAll().where('list_id', '=', news.id).where('contact_id', '=', already.value.contact.id).executeTakeFirstOrThrow();
      assert.equal(kept.consent_id, already.value.consent.id, 'an existing subscriber keeps its subscription and consent');
      assert.equal(kept.import_id, null);
      const goneSub = await fx.db.selectFrom('subscriptions').select('status').where('contact_id', '=', gone.value.contact.id).executeTakeFirstOrThrow();
      assert.equal(goneSub.status, 'unsubscribed', 'an import never re-subscribes');
      assert.equal(await fx.mailable(news.id), 6);
    });

    test('idempotent: the same file for the same list again changes nothing', async () => {
      await fx.list('again');
      const file = fx.file(csv([['email', 'first_name'], ...Array.from({ length: 30 }, (_, i) => [`again${i}@mail-b.de`, `N${i}`]), ['bad@nowhere.fr', 'x']]));
      const first = await fx.run({ listRef: 'again', file, mapping: { email: 'email', fields: { first_name: 'first_name' } }, provenance: PROV });
      const before = await Promise.all((['contacts', 'consent_records', 'subscriptions', 'import_rejects', 'imports', 'events'] as const).map((t) => fx.count(t)));
      fx.clock.advance(60_000);
      const second = await fx.run({ listRef: 'again', file, mapping: { email: 'email', fields: { first_name: 'first_name' } }, provenance: PROV });
      assert.equal(second.alreadyImported, true);
      assert.equal(second.importId, first.importId);
      assert.deepEqual(second.counts, first.counts);
      assert.deepEqual(await Promise.all((['contacts', 'consent_records', 'subscriptions', 'import_rejects', 'imports', 'events'] as const).map((t) => fx.count(t))), before);
    });

    test("each subscription an import writes is in the contact's timeline, with the import and the provenance; once", async () => {
      const other = await fx.list('timeline-form');
      await fx.list('timeline');
      const a = fx.core.services.audience;
      const signedUp = await a.subscriptions.subscribe(fx.tenantId, other, 'tim@mail-a.fr', {}, { source: 'form', optIn: 'single' });
      assert.ok(signedUp.ok);
      const file = fx.file(csv([['email'], ['tim@mail-a.fr'], ['tom@mail-a.fr'], ['TOM@mail-a.fr'], ['gone@nowhere.fr']]));
      const r = await fx.run({ listRef: 'timeline', file, mapping: { email: 'email' }, provenance: PROV });
      assert.deepEqual([r.counts.accepted, r.counts.merged, r.counts.refused], [1, 2, 1]);

      const tim = await a.timeline(fx.tenantId, signedUp.value.contact.id);
      assert.deepEqual(tim.map((e) => [e.type, e.data.list, e.data.source, e.data.importId ?? null]), [
        ['subscribed', 'timeline-form', 'form', null], // the sign-up
        ['subscribed', 'timeline', 'form', r.importId], // the import: the file's provenance says "form"
      ]);
      const tom = (await a.contacts.find(fx.tenantId, 'tom@mail-a.fr'))!;
      const [ev] = await a.timeline(fx.tenantId, tom.id);
      assert.deepEqual(ev, {
        type: 'subscribed', at: new Date(fx.clock.now()).toISOString(),
        data: { list: 'timeline', status: 'subscribed', source: 'form', optIn: 'single', importId: r.importId, collectedAt: '2026-03-01T10:00:00.000Z', formUrl: PROV.formUrl },
      });
      assert.equal((await a.timeline(fx.tenantId, tom.id)).length, 1, 'the duplicate row wrote no second event');

      fx.clock.advance(60_000);
      const again = await fx.run({ listRef: 'timeline', file, mapping: { email: 'email' }, provenance: PROV });
      assert.equal(again.alreadyImported, true);
      assert.equal((await a.timeline(fx.tenantId, tom.id)).length, 1, 'the same file again writes no event');
    });

    test('a crash resumes after the last committed batch: every row exactly once, nothing mailable meanwhile', async () => {
      const list = await fx.list('resume');
      const rows = Array.from({ length: 50 }, (_, i) => [`r${i}@mail-a.fr`, `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T08:${String(i).padStart(2, '0')}:00Z`]);
      const file = fx.file(csv([['email', 'when'], ...rows]));
      const input = { listRef: 'resume', file, mapping: { email: 'email', provenance: { collected_at: 'when' } }, provenance: { ...PROV, collectedAt: '' } };
      const small = createImports({ db: fx.db, dialect: fx.core.store.dialect, clock: fx.clock, resolver: fx.resolver, batchSize: 10 });
      await assert.rejects(small.run({ tenantId: fx.tenantId, ...input, onBatch: ({ batch }) => { if (batch === 2) throw new Error('simulated crash'); } }), /simulated crash/);
      const half = await fx.db.selectFrom('imports').selectAll().where('list_id', '=', list.id).executeTakeFirstOrThrow();
      assert.equal(half.status, 'running');
      assert.equal(half.checkpoint_line, 21, 'header + two batches of 10');
      assert.equal(await fx.mailable(list.id), 0, 'held while the import is unfinished');

      const progress: number[] = [];
      const done = await small.run({ tenantId: fx.tenantId, ...input, onProgress: (lines) => progress.push(lines) });
      assert.ok(done.ok);
      assert.equal(done.value.importId, half.id);
      assert.deepEqual(progress, [31, 41, 51]);
      assert.deepEqual(done.value.counts, { rows: 50, accepted: 50, refused: 0, merged: 0, unverifiedDomains: 0, pending: 0, subscribed: 50 });
      const records = await fx.db.selectFrom('consent_records').select('contact_id').where('import_id', '=', half.id).execute();
      assert.equal(records.length, 50);
      assert.equal(new Set(records.map((x) => x.contact_id)).size, 50);
      assert.equal(await fx.mailable(list.id), 50);
      const events = await fx.db.selectFrom('events').select('message_id').where('type', '=', 'subscribed')
        .where('message_id', 'in', records.map((x) => x.contact_id)).execute();
      assert.equal(events.length, 50, "one subscribed event per contact: the crashed batch's went with it");
    });

    test('role accounts → quarantined, not mailable; approve releases, reject keeps held', async () => {
      const list = await fx.list('roles');
      const rows = Array.from({ length: 120 }, (_, i) => [i < 30 ? `info+${i}@mail-b.de` : `person${i}@mail-b.de`]);
      const r = await fx.run({ listRef: 'roles', file: fx.file(csv([['email'], ...rows])), mapping: { email: 'email' }, provenance: PROV });
      assert.equal(r.status, 'quarantined');
      assert.deepEqual(r.quarantine.signals, [{ name: 'role_accounts', value: 0.25, threshold: 0.2 }]);
      assert.equal(r.stats.roleAccounts, 30);
      assert.equal(await fx.mailable(list.id), 0);
      const events = await fx.db.selectFrom('events').select(['type', 'data']).where('message_id', '=', r.importId).execute();
      assert.deepEqual(events.map((e) => e.type), ['import_quarantined']);

      const approved = await fx.imports.approveImport(fx.tenantId, r.importId, 'operator:test');
      assert.ok(approved.ok);
      assert.equal(approved.value.status, 'approved');
      assert.equal(await fx.mailable(list.id), 120);
      assert.equal((await fx.imports.approveImport(fx.tenantId, r.importId, 'operator:test')).ok, false, 'reviewed once');

      const list2 = await fx.list('roles2');
      const r2 = await fx.run({ listRef: 'roles2', file: fx.file(csv([['email'], ...rows, ['extra@mail-b.de']])), mapping: { email: 'email' }, provenance: PROV });
      assert.equal(r2.status, 'quarantined');
      const rejected = await fx.imports.rejectImport(null, r2.importId, 'operator:test');
      assert.ok(rejected.ok && rejected.value.status === 'rejected');
      assert.equal(await fx.mailable(list2.id), 0, 'rejected: the contacts stay held');
      const reviewed = await fx.db.selectFrom('events').select('data').where('type', '=', 'import_reviewed').where('message_id', '=', r2.importId).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(reviewed.data).decision, 'rejected');
    });

    test('1,000 rows with one identical per-row timestamp → quarantined', async () => {
      const list = await fx.list('stamped');
      const rows = Array.from({ length: 1000 }, (_, i) => [`s${i}@mail-a.fr`, '2025-12-01T00:00:00Z']);
      const r = await fx.run({
        listRef: 'stamped', file: fx.file(csv([['email', 'collected'], ...rows])),
        mapping: { email: 'email', provenance: { collected_at: 'collected' } }, provenance: { ...PROV, collectedAt: '' },
      });
      assert.equal(r.status, 'quarantined');
      assert.deepEqual(r.quarantine.signals, [{ name: 'identical_timestamps', value: 1000, threshold: 999 }]);
      assert.equal(await fx.mailable(list.id), 0);
      assert.ok((await fx.imports.approveImport(null, r.importId, 'operator:test')).ok);
      assert.equal(await fx.mailable(list.id), 1000);
    });

    test('spam-trap-like addresses are refused and hold the whole import', async () => {
      const list = await fx.list('traps');
      const r = await fx.run({ listRef: 'traps', file: fx.file(csv([['email'], ['ok1@mail-a.fr'], ['spamtrap@mail-a.fr'], ['ok2@mail-a.fr']])), mapping: { email: 'email' }, provenance: PROV });
      assert.equal(r.status, 'quarantined');
      assert.deepEqual(r.refusals, { spamtrap_like: 1 });
      assert.deepEqual(r.quarantine.signals.map((s) => s.name), ['spamtrap_like']);
      assert.equal(await fx.mailable(list.id), 0);
    });

    test("another tenant's import of the same addresses creates its own contacts and never sees the first tenant's", async () => {
      const other = await fx.core.services.tenants.create('other');
      assert.ok(other.ok);
      const otherId = other.value.tenant.id;
      assert.ok((await fx.core.services.domains.add(otherId, 'other.example')).ok);
      const r = await fx.core.services.audience.lists.create(otherId, { name: 'news', fromAddress: 'hi@other.example', fromName: 'Other', consentText: 'x', optIn: 'single' });
      assert.ok(r.ok);
      const before = await fx.core.services.audience.contacts.find(fx.tenantId, 'ann@mail-a.fr');
      const file = fx.file(csv([['email', 'first_name'], ['ann@mail-a.fr', 'Stranger'], ['known@mail-a.fr', 'Stranger']]));
      const rep = await fx.run({ tenantId: otherId, listRef: 'news', file, mapping: { email: 'email', fields: { first_name: 'first_name' } }, provenance: PROV });
      assert.equal(rep.alreadyImported, undefined);
      assert.deepEqual([rep.counts.accepted, rep.counts.merged], [2, 0], 'new contacts for this tenant, nothing merged across tenants');
      const mine = await fx.core.services.audience.contacts.find(otherId, 'ann@mail-a.fr');
      assert.notEqual(mine!.id, before!.id);
      assert.deepEqual(await fx.core.services.audience.contacts.find(fx.tenantId, 'ann@mail-a.fr'), before, "the first tenant's contact is untouched");
      assert.equal((await fx.imports.status(fx.tenantId, rep.importId)).ok, false, "a tenant cannot see another tenant's import");
    });
  });
}

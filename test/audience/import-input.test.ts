// Bad CSV input, each case with its outcome, on both dialects: encodings
// (Latin-1, UTF-16, BOM), quoted newlines and line numbers, missing columns
// and short rows, 100,000-character fields, unclosed quotes, oversized rows,
// invalid and IDN addresses, and formula injection (stored as given,
// neutralised by the CSV export).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createImports } from '../../src/audience/import/index.ts';
import { exportContacts } from '../../src/audience/import/export.ts';
import { DIALECTS } from '../helpers/store.ts';
import { csv, importFixture, PROV, type Fixture } from './import-fixture.ts';

for (const dialect of DIALECTS) {
  describe(`CSV import, bad input (${dialect})`, () => {
    let fx: Fixture;
    const fields = { first_name: 'first_name', note: 'note' };
    before(async () => {
      fx = await importFixture(dialect);
      await fx.list('bad');
    });
    after(() => fx.dispose());
    const mapping = { email: 'email', fields };

    test('Latin-1 (Windows-1252) file: refused with the line of the first bad byte, imported when the encoding is named', async () => {
      const bytes = Buffer.concat([Buffer.from('email,first_name,note\nzoe@mail-a.fr,Zo'), Buffer.from([0xe9]), Buffer.from(',ok\nned@mail-a.fr,Ned,price '), Buffer.from([0x80]), Buffer.from('5\n')]);
      const file = fx.file(bytes);
      const r = await fx.imports.run({ tenantId: fx.tenantId, listRef: 'bad', file, mapping, provenance: PROV });
      assert.ok(!r.ok);
      assert.match(r.error.detail, /^line 2: the file is not valid UTF-8 \(byte 0xE9\); it is probably Windows-1252\/Latin-1.*encoding windows-1252/);
      assert.equal(await fx.count('imports'), 0);
      const ok = await fx.run({ listRef: 'bad', file, mapping, provenance: PROV, encoding: 'windows-1252' });
      assert.equal(ok.counts.accepted, 2);
      assert.equal(JSON.parse((await fx.core.services.audience.contacts.find(fx.tenantId, 'zoe@mail-a.fr'))!.fields).first_name, 'Zoé');
      assert.equal(JSON.parse((await fx.core.services.audience.contacts.find(fx.tenantId, 'ned@mail-a.fr'))!.fields).note, 'price €5', '0x80 is the euro sign in windows-1252, not a C1 control');

      const utf8 = fx.file('email,first_name\nzoe2@mail-a.fr,Zoé\n');
      const garble = await fx.imports.run({ tenantId: fx.tenantId, listRef: 'bad', file: utf8, mapping: { email: 'email' }, provenance: PROV, encoding: 'windows-1252' });
      assert.ok(!garble.ok && /valid UTF-8 with non-ASCII characters/.test(garble.error.detail));
      const utf16 = fx.file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\nx@mail-a.fr\n', 'utf16le')]));
      const u16 = await fx.imports.run({ tenantId: fx.tenantId, listRef: 'bad', file: utf16, mapping: { email: 'email' }, provenance: PROV });
      assert.ok(!u16.ok && /UTF-16/.test(u16.error.detail));
    });

    test('a UTF-8 byte order mark does not stick to the first column name', async () => {
      const r = await fx.run({ listRef: 'bad', file: fx.file('\ufeffemail,first_name\nbom@mail-a.fr,Bo\n'), mapping: { email: 'email', fields: { first_name: 'first_name' } }, provenance: PROV });
      assert.equal(r.counts.accepted, 1);
    });

    test('quoted newlines (CRLF file): one record, and the lines after it keep their true numbers', async () => {
      const file = fx.file(csv([['email', 'first_name', 'note'], ['multi@mail-a.fr', 'Mo', 'first line\r\nsecond line\r\nthird'], ['a@b', 'x', ''], ['after@mail-a.fr', 'Af', 'x']], '\r\n'));
      const r = await fx.run({ listRef: 'bad', file, mapping, provenance: PROV });
      assert.deepEqual([r.counts.rows, r.counts.accepted, r.counts.refused], [3, 2, 1]);
      assert.deepEqual((await fx.rejects(r.importId)).map((x) => x.line), [5], 'a@b is on physical line 5');
      assert.equal(JSON.parse((await fx.core.services.audience.contacts.find(fx.tenantId, 'multi@mail-a.fr'))!.fields).note, 'first line\r\nsecond line\r\nthird');
    });

    test('missing columns fail up front with the header shown; short rows are read with what they have', async () => {
      const file = fx.file('mail,first_name\nx@mail-a.fr,X\n');
      const r = await fx.imports.run({ tenantId: fx.tenantId, listRef: 'bad', file, mapping, provenance: PROV });
      assert.ok(!r.ok);
      assert.equal(r.error.detail, 'line 1: missing column(s) "email", "note" (the header has: "mail", "first_name")');
      assert.equal(await fx.imports.rejects(null, 'imp_none').then((x) => x.ok), false);
      const short = await fx.run({ listRef: 'bad', file: fx.file('email,first_name,note\nshort@mail-a.fr\n,only name\nlong@mail-a.fr,L,n,extra,cells\n'), mapping, provenance: PROV });
      assert.deepEqual([short.counts.accepted, short.counts.refused], [2, 1]);
      assert.deepEqual(await fx.rejects(short.importId), [{ line: 3, email: null, reason: 'no address in the email column' }]);
    });

    test('a 100,000-character field refuses its row, not the import', async () => {
      const file = fx.file(csv([['email', 'first_name', 'note'], ['big@mail-a.fr', 'Big', 'x'.repeat(100_000)], ['small@mail-a.fr', 'Small', 'fine']]));
      const r = await fx.run({ listRef: 'bad', file, mapping, provenance: PROV });
      assert.deepEqual(r.refusals, { field_too_long: 1 });
      assert.deepEqual((await fx.rejects(r.importId)).map((x) => [x.line, x.reason]), [[2, 'column 3 has 100000 characters (at most 10000)']]);
      assert.equal(r.counts.accepted, 1);
    });

    test('an unclosed quote at the end refuses the last row; a row over the size limit stops the import with its line', async () => {
      const r = await fx.run({ listRef: 'bad', file: fx.file('email,first_name\nq1@mail-a.fr,Q\nq2@mail-a.fr,"never closed\n'), mapping: { email: 'email', fields: { first_name: 'first_name' } }, provenance: PROV });
      assert.deepEqual([r.counts.accepted, r.counts.refused], [1, 1]);
      assert.deepEqual((await fx.rejects(r.importId)).map((x) => [x.line, x.reason]), [[3, 'a quoted field is not closed before the end of the file']]);

      const tight = createImports({ db: fx.db, dialect: fx.core.store.dialect, clock: fx.clock, resolver: fx.resolver, maxRecordBytes: 50_000 });
      const file = fx.file(csv([['email', 'note'], ['t1@mail-a.fr', 'ok'], ['t2@mail-a.fr', 'y'.repeat(60_000)], ['t3@mail-a.fr', 'ok']]));
      const failed = await tight.run({ tenantId: fx.tenantId, listRef: 'bad', file, mapping: { email: 'email', fields: { note: 'note' } }, provenance: PROV });
      assert.ok(!failed.ok);
      assert.match(failed.error.detail, /^line 3: a row is larger than 50000 bytes/);
      const row = await fx.db.selectFrom('imports').select(['status', 'report']).where('file_name', '=', file.split('/').pop()!).executeTakeFirstOrThrow();
      assert.equal(row.status, 'failed');
      assert.match(JSON.parse(row.report).error, /^line 3:/);
    });

    test('addresses: a@b and friends are refused, IDN domains are valid', async () => {
      const bad = ['a@b', 'plainaddress', 'two@@mail-a.fr', 'dot.@mail-a.fr', 'x@192.168.0.1', 'sp ace@mail-a.fr'];
      const file = fx.file(csv([['email'], ...bad.map((e) => [e]), ['jürgen@café.fr'], ['ok@MAIL-A.FR']]));
      const r = await fx.run({ listRef: 'bad', file, mapping: { email: 'email' }, provenance: PROV });
      assert.deepEqual(r.refusals, { invalid_address: bad.length });
      assert.equal(r.stats.invalidAddresses, bad.length);
      assert.equal(r.counts.accepted, 2);
      assert.ok(await fx.core.services.audience.contacts.find(fx.tenantId, 'jürgen@xn--caf-dma.fr'));
    });

    test('formula injection: stored as given, neutralised by the CSV export', async () => {
      const evil = "=cmd|' /C calc'!A0";
      const file = fx.file(csv([['email', 'first_name', 'note'], ['evil@mail-b.de', evil, '+1-555'], ['fine@mail-b.de', '@SUM(1+1)', '-10'], ['tab@mail-b.de', '\t=1', 'a "quoted", value']]));
      const r = await fx.run({ listRef: 'bad', file, mapping, provenance: PROV });
      assert.equal(r.counts.accepted, 3);
      assert.equal(JSON.parse((await fx.core.services.audience.contacts.find(fx.tenantId, 'evil@mail-b.de'))!.fields).first_name, evil, 'stored as given');

      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c) => chunks.push(c));
      const { contacts } = await exportContacts(fx.db, fx.tenantId, out, { lists: true });
      out.end();
      const text = Buffer.concat(chunks).toString('utf8');
      assert.ok(text.startsWith('\ufeffemail,first_name,note,list:bad\r\n'));
      const lines = text.split('\r\n');
      assert.ok(contacts >= 3);
      assert.ok(lines.includes(`evil@mail-b.de,'${evil},'+1-555,subscribed`), text);
      assert.ok(lines.includes("fine@mail-b.de,'@SUM(1+1),'-10,subscribed"));
      assert.ok(lines.includes(`tab@mail-b.de,'\t=1,"a ""quoted"", value",subscribed`));
      assert.ok(text.includes('multi@mail-a.fr,Mo,"first line\r\nsecond line\r\nthird",subscribed'), 'RFC 4180: line breaks inside quotes');
    });
  });
}

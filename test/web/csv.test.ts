// The import page's pure CSV helpers (web/src/csv.ts): the preview, the
// line count the progress bar ends at, field names, and the mapping sent as
// the API's query parameters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldName, guessUse, lineCounter, mappingQuery, previewRecords } from '../../web/src/csv.ts';

describe('previewRecords', () => {
  const cases: [string, string, number, string[][]][] = [
    ['plain, LF', 'email,name\na@x.org,Ann\nb@x.org,Bob\n', 5, [['email', 'name'], ['a@x.org', 'Ann'], ['b@x.org', 'Bob']]],
    ['CRLF and a BOM', '\ufeffemail,name\r\na@x.org,Ann\r\n', 5, [['email', 'name'], ['a@x.org', 'Ann']]],
    ['quotes: a comma, a doubled quote, a newline', 'email,note\na@x.org,"one, ""two""\nthree"\n', 5, [['email', 'note'], ['a@x.org', 'one, "two"\nthree']]],
    ['stops at max', 'h\n1\n2\n3\n', 2, [['h'], ['1']]],
    ['blank lines skipped, last line without newline', 'h\n\n1', 5, [['h'], ['1']]],
    ['a sample cut inside a quoted cell drops that record', 'h,n\n1,"unfinished', 5, [['h', 'n']]],
    ['semicolons are not separators (the server reads commas only)', 'a;b\n1;2\n', 5, [['a;b'], ['1;2']]],
  ];
  for (const [name, text, max, want] of cases) test(name, () => assert.deepEqual(previewRecords(text, max), want));
});

describe('lineCounter: the number of the last line, as the server counts them', () => {
  const count = (...chunks: string[]) => {
    const c = lineCounter();
    for (const s of chunks) c.add(new TextEncoder().encode(s));
    return c.total();
  };
  test('a final newline ends the last line', () => assert.equal(count('h\n1\n2\n'), 3));
  test('no final newline: the last line still counts', () => assert.equal(count('h\n1\n2'), 3));
  test('across chunks', () => assert.equal(count('h\n1', '\n2\r\n', ''), 3));
  test('an empty file', () => assert.equal(count(), 0));
});

describe('fieldName', () => {
  const cases: [string, string][] = [['Prénom', 'prenom'], ['First Name', 'first_name'], ['2nd phone', 'nd_phone'], ['  City  ', 'city'], ['%%%', ''], ['Code postal (FR)', 'code_postal_fr']];
  for (const [col, want] of cases) test(`${JSON.stringify(col)} → ${JSON.stringify(want)}`, () => assert.equal(fieldName(col), want));
});

describe('guessUse', () => {
  test('the address column by its usual names', () => {
    for (const c of ['email', 'E-mail', 'Email address', 'courriel']) assert.deepEqual(guessUse(c, false), { use: 'email' }, c);
  });
  test('one email column only, everything else ignored until chosen', () => {
    assert.deepEqual(guessUse('email', true), { use: 'ignore' });
    assert.deepEqual(guessUse('Prénom', false), { use: 'ignore' });
  });
});

describe('mappingQuery', () => {
  const header = ['E-mail', 'Prénom', 'Signed up', 'Notes'];
  test('email, a field and a provenance column; ignored columns are left out', () => {
    const r = mappingQuery(header, [{ use: 'email' }, { use: 'field', name: 'first_name' }, { use: 'provenance', key: 'collected_at' }, { use: 'ignore' }]);
    assert.deepEqual(r, { ok: true, params: { emailColumn: 'E-mail', fields: 'first_name=Prénom', provenanceColumns: 'collected_at=Signed up' } });
  });
  const problems: [string, Parameters<typeof mappingQuery>[1], RegExp][] = [
    ['no email column', [{ use: 'ignore' }, { use: 'ignore' }, { use: 'ignore' }, { use: 'ignore' }], /which column holds the email/],
    ['two email columns', [{ use: 'email' }, { use: 'email' }, { use: 'ignore' }, { use: 'ignore' }], /one email column/],
    ['a field name the API refuses', [{ use: 'email' }, { use: 'field', name: 'Prénom' }, { use: 'ignore' }, { use: 'ignore' }], /a-z, 0-9/],
    ['two columns to one field', [{ use: 'email' }, { use: 'field', name: 'x' }, { use: 'field', name: 'x' }, { use: 'ignore' }], /two columns/],
  ];
  for (const [name, uses, want] of problems) {
    test(name, () => {
      const r = mappingQuery(header, uses);
      assert.equal(r.ok, false);
      assert.match((r as { problem: string }).problem, want);
    });
  }
  test('a column whose name the pairs cannot carry', () => {
    const r = mappingQuery(['email', 'a,b'], [{ use: 'email' }, { use: 'field', name: 'ab' }]);
    assert.equal(r.ok, false);
    // ignored, it is no problem
    assert.equal(mappingQuery(['email', 'a,b'], [{ use: 'email' }, { use: 'ignore' }]).ok, true);
  });
});

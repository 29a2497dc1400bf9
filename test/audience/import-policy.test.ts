// MJ-4 import policy, pure and table-tested: role accounts, spam-trap-like
// patterns (each data entry with its real example), the quarantine
// thresholds, provenance checks, row checks and the batch plan's rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import trapData from '../../src/policy/data/spamtrap-patterns.json' with { type: 'json' };
import { isRoleAccount, quarantineVerdict, spamtrapPattern, type QuarantineStats } from '../../src/audience/import/policy.ts';
import { checkProvenance, parseTime } from '../../src/audience/import/provenance.ts';
import { checkOptions } from '../../src/audience/import/options.ts';
import { checkRow, resolveColumns, MAX_CELL_CHARS, type RowContext } from '../../src/audience/import/rows.ts';
import { planBatch, type BatchState } from '../../src/audience/import/plan.ts';
import { csvCell } from '../../src/audience/import/export.ts';

const NOW = Date.parse('2026-11-25T09:00:00Z');

describe('role accounts', () => {
  const cases: [string, boolean][] = [
    ['info@shop-news.fr', true], ['INFO@shop-news.fr', true], ['sales+eu@shop-news.fr', true], ['contact@shop-news.fr', true],
    ['ventas@tienda.es', true], ['accueil@mairie.fr', true], ['postmaster@shop-news.fr', true],
    ['jane@shop-news.fr', false], ['information.desk.jane@shop-news.fr', false], ['infos-jane@shop-news.fr', false], ['admin.smith@shop-news.fr', false],
  ];
  for (const [email, role] of cases) test(`${email} → ${role ? 'role' : 'person'}`, () => assert.equal(isRoleAccount(email), role));
});

describe('spam-trap-like patterns', () => {
  for (const p of trapData.patterns) {
    test(`${p.name}: its documented example matches`, () => assert.equal(spamtrapPattern(p.example), p.name));
    test(`${p.name}: says why`, () => assert.ok(p.why.length > 40));
  }
  const people = ['jane.doe@shop-news.fr', 'trapeze.artist@circus.fr', 'spammer.joe@shop-news.fr', 'logo@shop-news.fr', 'you@yourmail.fr', 'deadbeef@shop-news.fr', 'jane@gmail.com', 'jane@orange.fr'];
  for (const email of people) test(`${email} is not trap-like`, () => assert.equal(spamtrapPattern(email), null));
});

describe('quarantine verdict', () => {
  const base: QuarantineStats = { rows: 1000, roleAccounts: 0, invalidAddresses: 0, noMailDomains: 0, spamtrapLike: 0, maxRowsSameTimestamp: 0 };
  const cases: [string, Partial<QuarantineStats>, string[]][] = [
    ['a clean list', {}, []],
    ['role accounts at 20 % exactly', { roleAccounts: 200 }, []],
    ['role accounts above 20 %', { roleAccounts: 201 }, ['role_accounts']],
    ['role accounts above 20 % of a tiny file', { rows: 99, roleAccounts: 99 }, []],
    ['invalid + MX-less above 10 %', { invalidAddresses: 60, noMailDomains: 41 }, ['invalid_or_mxless']],
    ['invalid at 10 %', { invalidAddresses: 100 }, []],
    ['one spam-trap-like address, even in a tiny file', { rows: 3, spamtrapLike: 1 }, ['spamtrap_like']],
    ['999 rows with one timestamp', { maxRowsSameTimestamp: 999 }, []],
    ['1,000 rows with one timestamp', { maxRowsSameTimestamp: 1000 }, ['identical_timestamps']],
    ['everything at once', { roleAccounts: 500, invalidAddresses: 300, spamtrapLike: 2, maxRowsSameTimestamp: 5000 }, ['role_accounts', 'invalid_or_mxless', 'spamtrap_like', 'identical_timestamps']],
  ];
  for (const [name, s, signals] of cases) {
    test(name, () => {
      const v = quarantineVerdict({ ...base, ...s });
      assert.deepEqual(v.signals.map((x) => x.name), signals);
      assert.equal(v.quarantine, signals.length > 0);
      for (const x of v.signals) assert.ok(x.value > x.threshold);
    });
  }
});

describe('provenance', () => {
  const full = { source: 'form', collected_at: '2026-03-01T10:00:00Z', method: 'double', consent_text: 'Yes please', confirmed_at: '2026-03-01 10:05' };
  test('dates: ISO 8601 forms, zones, no zone is UTC, impossible dates refused', () => {
    assert.equal(parseTime('2026-03-01'), Date.parse('2026-03-01T00:00:00Z'));
    assert.equal(parseTime('2026-03-01 10:00:00'), Date.parse('2026-03-01T10:00:00Z'));
    assert.equal(parseTime('2026-03-01T12:00:00+0200'), Date.parse('2026-03-01T10:00:00Z'));
    assert.equal(parseTime('2026-02-31'), null);
    assert.equal(parseTime('01/03/2026'), null);
  });
  const cases: [string, Record<string, string>, string | null][] = [
    ['complete double opt-in', full, null],
    ['no date', { ...full, collected_at: '' }, 'missing provenance: collected_at'],
    ['no consent text', { ...full, consent_text: '' }, 'missing provenance: consent_text'],
    ['no opt-in without relationship', { ...full, method: 'none', consent_text: '' }, 'missing provenance: relationship, informed_how'],
    ['no opt-in with relationship', { ...full, method: 'none', consent_text: '', relationship: 'customer since 2024', informed_how: 'terms of sale' }, null],
    ['unknown method', { ...full, method: 'triple' }, 'invalid provenance: method'],
    ['unknown source', { ...full, source: 'purchased' }, 'invalid provenance: source'],
    ['future date', { ...full, collected_at: '2027-01-01' }, 'in the future'],
    ['confirmed before collected', { ...full, confirmed_at: '2026-02-01' }, 'before collected_at'],
    ['bad ip', { ...full, ip: '300.1.1.1' }, 'not an IPv4'],
    ['bad form url', { ...full, form_url: 'javascript:alert(1)' }, 'not an http(s) URL'],
  ];
  for (const [name, raw, problem] of cases) {
    test(name, () => {
      const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v));
      const r = checkProvenance(clean, NOW);
      if (problem === null) assert.ok(r.ok, JSON.stringify(r));
      else assert.ok(!r.ok && r.detail.includes(problem), JSON.stringify(r));
    });
  }
  test('options: no provenance at all is refused; partial file provenance must be completed by columns', () => {
    const none = checkOptions({ mapping: { email: 'email' } }, NOW);
    assert.ok(!none.ok && /provenance is mandatory/.test(none.error.detail));
    const partial = checkOptions({ mapping: { email: 'email' }, provenance: { source: 'form', collectedAt: '', method: 'single', consentText: 'x' } }, NOW);
    assert.ok(!partial.ok && /collected_at neither given/.test(partial.error.detail));
    const mixed = checkOptions({ mapping: { email: 'email', provenance: { collected_at: 'signup' } }, provenance: { source: 'form', collectedAt: '', method: 'single', consentText: 'x' } }, NOW);
    assert.ok(mixed.ok && mixed.value.fixed === null && mixed.value.perRowTimestamps);
    const badDate = checkOptions({ mapping: { email: 'email' }, provenance: { source: 'form', collectedAt: 'yesterday', method: 'single', consentText: 'x' } }, NOW);
    assert.ok(!badDate.ok && /collected_at "yesterday"/.test(badDate.error.detail));
  });
});

describe('rows', () => {
  const header = ['Email', 'Name', 'Signed up'];
  const cols = resolveColumns(header, { email: 'email', fields: { name: 'Name' }, provenance: { collected_at: 'Signed up' } });
  assert.ok(cols.ok);
  const ctx: RowContext = { columns: cols.value, fileProvenance: { source: 'form', method: 'single', consent_text: 'Yes' }, fixedProvenance: null, now: NOW };
  test('missing columns are named, with the header', () => {
    const r = resolveColumns(header, { email: 'mail', fields: { city: 'City' } });
    assert.ok(!r.ok && r.error.detail.startsWith('line 1: missing column(s) "mail", "City"'));
  });
  const cases: [string, string[], string][] = [
    ['blank', ['', ' ', ''], 'blank'],
    ['good', ['jane@shop-news.fr', 'Jane', '2026-01-02'], 'candidate'],
    ['short row (relaxed column count): no provenance', ['jane@shop-news.fr'], 'missing_provenance'],
    ['no email', ['', 'Jane', '2026-01-02'], 'missing_email'],
    ['a@b', ['a@b', 'A', '2026-01-02'], 'invalid_address'],
    ['IDN domain', ['josé@café.fr', 'José', '2026-01-02'], 'candidate'],
    ['trap-like', ['spamtrap@shop-news.fr', '', '2026-01-02'], 'spamtrap_like'],
    ['huge cell', ['jane@shop-news.fr', 'x'.repeat(100_000), '2026-01-02'], 'field_too_long'],
    ['cell at the limit', ['jane@shop-news.fr', 'x'.repeat(MAX_CELL_CHARS), '2026-01-02'], 'candidate'],
  ];
  for (const [name, cells, kind] of cases) {
    test(name, () => {
      const r = checkRow(cells, 7, ctx);
      assert.equal(r.kind === 'refused' ? r.code : r.kind, kind);
    });
  }
  test('an IDN domain is kept in its ASCII form', () => {
    const r = checkRow(['josé@café.fr', '', '2026-01-02'], 2, ctx);
    assert.ok(r.kind === 'candidate' && r.address.email === 'josé@xn--caf-dma.fr');
  });
});

describe('batch plan', () => {
  const header = ['email', 'city'];
  const cols = resolveColumns(header, { email: 'email', fields: { city: 'city' } });
  assert.ok(cols.ok);
  const fixed = checkProvenance({ source: 'form', collected_at: '2026-01-01', method: 'single', consent_text: 'Yes' }, NOW);
  assert.ok(fixed.ok);
  const ctx: RowContext = { columns: cols.value, fileProvenance: {}, fixedProvenance: fixed.value, now: NOW };
  const row = (email: string, city: string, line: number) => checkRow([email, city], line, ctx) as Exclude<ReturnType<typeof checkRow>, { kind: 'blank' }>;
  let n = 0;
  const pctx = { importId: 'imp_1', tenantId: 'ten_1', list: { id: 'lst_1', opt_in: 'single' as const, allow_relationship: 0 }, now: NOW, newId: (p: string) => `${p}_${++n}` };

  test('suppressed, unsubscribed, existing subscriber, duplicates, held by another review', () => {
    const rows = [row('new@a.fr', 'Paris', 2), row('NEW@a.fr', 'Lyon', 3), row('sup@a.fr', '', 4), row('unsub@a.fr', '', 5), row('sub@a.fr', 'Nice', 6), row('held@a.fr', '', 7), row('old@a.fr', '', 8), row('x@dead.fr', '', 9)];
    const hash = (e: string) => rows.flatMap((r) => (r.kind === 'candidate' && r.address.email === e ? [r.address.hash] : []))[0];
    const state: BatchState = {
      suppressed: new Map([[hash('sup@a.fr'), 'complaint']]),
      contacts: new Map([
        [hash('unsub@a.fr'), { id: 'c_unsub', fields: '{}', status: 'active' }],
        [hash('sub@a.fr'), { id: 'c_sub', fields: '{"city":"Nice"}', status: 'active' }],
        [hash('held@a.fr'), { id: 'c_held', fields: '{}', status: 'active' }],
        [hash('old@a.fr'), { id: 'c_old', fields: '{}', status: 'active' }],
      ]),
      subscriptions: new Map([
        ['c_unsub', { status: 'unsubscribed', quarantined: 0, importId: null, importStatus: null }],
        ['c_sub', { status: 'subscribed', quarantined: 0, importId: null, importStatus: null }],
        ['c_held', { status: 'subscribed', quarantined: 1, importId: 'imp_0', importStatus: 'quarantined' }],
      ]),
    };
    const plan = planBatch(rows, new Map([['a.fr', 'mail'], ['dead.fr', 'nxdomain']]), state, pctx);
    assert.deepEqual(plan.rejects.map((r) => [r.line, r.reason.split(':')[0]]), [[4, 'suppressed'], [5, 'unsubscribed from this list'], [9, 'domain dead.fr does not exist']]);
    assert.equal(plan.rejects[0].reason, 'suppressed: complaint');
    assert.deepEqual(plan.tally.merges, { duplicate_in_file: 1, existing_subscriber: 1, held_for_review: 1, existing_contact: 1 });
    assert.equal(plan.tally.counts.accepted, 1);
    assert.equal(plan.tally.counts.rows, 8);
    assert.deepEqual(plan.contacts.map((c) => [c.email, c.fields]), [['new@a.fr', { city: 'Lyon' }]], 'unchanged contacts are not rewritten; the duplicate merged its city');
    assert.deepEqual(plan.subscriptions.map((s) => [s.hash === hash('new@a.fr') ? 'new' : 'old', s.row.status, s.row.quarantined]), [['new', 'subscribed', 1], ['old', 'subscribed', 1]]);
    assert.equal(plan.tally.stats.noMailDomains, 1);
  });
});

describe('CSV export cells (OWASP CSV injection, RFC 4180)', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'], ['=cmd|\' /C calc\'!A0', '\'=cmd|\' /C calc\'!A0'], ['+33 1 23', '\'+33 1 23'], ['-2+3', '\'-2+3'], ['@SUM(A1)', '\'@SUM(A1)'],
    ['\t=1', '\'\t=1'], ['\r=1', '"\'\r=1"'], ['a,b', '"a,b"'], ['say "hi"', '"say ""hi"""'], ['two\nlines', '"two\nlines"'], ['=A1,"x"', '"\'=A1,""x"""'],
    ['café', 'café'], ['a=b', 'a=b'],
  ];
  for (const [input, out] of cases) test(JSON.stringify(input), () => assert.equal(csvCell(input), out));
});

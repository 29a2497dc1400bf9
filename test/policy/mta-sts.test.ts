// MTA-STS (RFC 8461), the pure part, by tables: the TXT record, the policy
// file (real published policies and broken ones), MX patterns, and what a
// delivery breaks of a policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mxMatches, parsePolicy, parseStsRecord, stsViolation, type StsPolicy } from '../../src/policy/mta-sts.ts';

test('the _mta-sts TXT record: one valid v=STSv1 record gives its id; anything else, no policy', () => {
  const cases: [string[], string | null][] = [
    [['v=STSv1; id=20190429T010101;'], '20190429T010101'], // gmail.com's shape
    [['v=STSv1; id=1'], '1'],
    [['v=STSv1;id=abc123;  '], 'abc123'],
    [['v=spf1 -all', 'v=STSv1; id=2;'], '2'], // other records are discarded
    [['v=STSv1; id=1;', 'v=STSv1; id=2;'], null], // two: none
    [['v=STSv1; id=;'], null],
    [['v=STSv1; id=not-alnum;'], null],
    [['v=STSv1; id=' + 'a'.repeat(33)], null],
    [['v=STSv1;'], null],
    [['v=STSv2; id=1;'], null],
    [['V=STSv1; id=1;'], null], // case-sensitive
    [['v=STSv1; id=1; junk'], null],
    [[], null],
  ];
  for (const [records, id] of cases) assert.deepEqual(parseStsRecord(records), id === null ? null : { id }, JSON.stringify(records));
});

test('the policy file: valid ones parse, with CRLF or LF, unknown keys ignored, mx repeated', () => {
  const google = 'version: STSv1\r\nmode: enforce\r\nmx: gmail-smtp-in.l.google.com\r\nmx: *.gmail-smtp-in.l.google.com\r\nmax_age: 86400\r\n';
  assert.deepEqual(parsePolicy(google), { ok: true, policy: { mode: 'enforce', mx: ['gmail-smtp-in.l.google.com', '*.gmail-smtp-in.l.google.com'], maxAge: 86400 } });
  assert.deepEqual(parsePolicy('version: STSv1\nmode: testing\nmx: MX.Example.com.\nmax_age: 604800\nextension: x\n'),
    { ok: true, policy: { mode: 'testing', mx: ['mx.example.com'], maxAge: 604800 } });
  assert.deepEqual(parsePolicy('version: STSv1\nmode: none\nmax_age: 0'), { ok: true, policy: { mode: 'none', mx: [], maxAge: 0 } });
});

test('malformed policies are refused, each with its reason', () => {
  const cases: [string, RegExp][] = [
    ['', /no version/],
    ['<html><body>Not found</body></html>', /key: value/],
    ['version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1', /unknown version/],
    ['version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1', /unknown mode "strict"/],
    ['version: STSv1\nmx: a.example\nmax_age: 1', /no mode/],
    ['version: STSv1\nmode: enforce\nmx: a.example', /no max_age/],
    ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5', /max_age is not a number/],
    ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1d', /max_age is not a number/],
    ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601', /more than 31557600/],
    ['version: STSv1\nmode: enforce\nmax_age: 86400', /without any mx/],
    ['version: STSv1\nmode: testing\nmx: *.*.example.com\nmax_age: 86400', /not an MX pattern/],
    ['version: STSv1\nmode: enforce\nmx: localhost\nmax_age: 86400', /not an MX pattern/],
    ['version: STSv1\nmode: enforce\nmx: mx.exa mple.com\nmax_age: 86400', /not an MX pattern/],
  ];
  for (const [text, problem] of cases) {
    const r = parsePolicy(text);
    assert.equal(r.ok, false, text);
    assert.match((r as { problem: string }).problem, problem, text);
  }
});

test('MX patterns: exact names, and "*." for exactly one label, case and trailing dot aside', () => {
  const cases: [string, string, boolean][] = [
    ['mx.example.com', 'mx.example.com', true],
    ['mx.example.com', 'MX.Example.COM.', true],
    ['mx.example.com', 'mx2.example.com', false],
    ['*.example.com', 'mx1.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'mx1.example.com.evil.test', false],
    ['*.mail.protection.outlook.com', 'contoso-com.mail.protection.outlook.com', true],
  ];
  for (const [pattern, host, yes] of cases) assert.equal(mxMatches(pattern, host), yes, `${pattern} ~ ${host}`);
});

test('what a delivery breaks of a policy: an MX not listed, no TLS, a certificate not valid for the MX', () => {
  const p: StsPolicy = { mode: 'enforce', mx: ['*.example.com'], maxAge: 86400 };
  const ok = { encrypted: true as const, authorized: true };
  assert.equal(stsViolation(p, 'mx.example.com', ok), undefined);
  assert.match(stsViolation(p, 'mx.other.test', ok)!, /not an MX host the policy allows/);
  assert.match(stsViolation(p, 'mx.example.com', { encrypted: false })!, /without TLS/);
  assert.match(stsViolation(p, 'mx.example.com', { encrypted: true, authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' })!, /ERR_TLS_CERT_ALTNAME_INVALID/);
  assert.equal(stsViolation({ ...p, mode: 'none' }, 'mx.other.test', { encrypted: false }), undefined);
});

test('whatever a policy host serves: parsing never throws, and what parses is a policy the engine can apply', () => {
  const line = fc.oneof(
    fc.constantFrom('version: STSv1', 'mode: enforce', 'mode: testing', 'mode: none', 'max_age: 86400', 'mx: mx.example.com', 'mx: *.example.com'),
    fc.string({ maxLength: 80 }),
  );
  fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
    const r = parsePolicy(lines.join(eol));
    if (!r.ok) return assert.ok(r.problem.length > 0);
    assert.ok(['enforce', 'testing', 'none'].includes(r.policy.mode));
    assert.ok(Number.isInteger(r.policy.maxAge) && r.policy.maxAge >= 0 && r.policy.maxAge <= 31_557_600);
    assert.ok(r.policy.mode === 'none' || r.policy.mx.length > 0);
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 4 }), (records) => {
    const r = parseStsRecord(records);
    assert.ok(r === null || /^[A-Za-z0-9]{1,32}$/.test(r.id));
  }), { numRuns: 500 });
});

// The segment language without a database: text to syntax tree, every parse
// error with its column, the limits, hostile input (never a throw, always a
// Result), type errors found by the compiler, and the compiled SQL carrying
// user values only as parameters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type DatabaseIntrospector,
} from 'kysely';
import { compileSegment, parseSegment, segmentFilter, LIMITS, type SegmentNode } from '../../src/audience/segments/index.ts';
import type { Database } from '../../src/store/schema.ts';

const str = (value: string) => ({ kind: 'string', value }) as const;
const custom = (name: string) => ({ kind: 'custom', name }) as const;
const builtin = <N extends string>(name: N) => ({ kind: 'builtin', name }) as const;

const VALID: Array<[string, SegmentNode]> = [
  ['email = "a@b.example"', { type: 'compare', field: builtin('email'), op: '=', value: str('a@b.example'), column: 1 }],
  ["source = 'form'", { type: 'compare', field: builtin('source'), op: '=', value: str('form'), column: 1 }],
  ['fields.note = "say \\"hi\\" \\\\ bye"', { type: 'compare', field: custom('note'), op: '=', value: str('say "hi" \\ bye'), column: 1 }],
  ['fields.country = "x\' OR 1=1 --"', { type: 'compare', field: custom('country'), op: '=', value: str("x' OR 1=1 --"), column: 1 }],
  ['fields.n in [1, -2.5, 3]', { type: 'in', field: custom('n'), values: [{ kind: 'number', value: 1 }, { kind: 'number', value: -2.5 }, { kind: 'number', value: 3 }], column: 1 }],
  ['confirmed IS NOT set', { type: 'set', field: builtin('confirmed'), negated: true, column: 1 }],
  ['last_open>now', { type: 'compare', field: builtin('last_open'), op: '>', value: { kind: 'relative', amount: 0, unit: 'minute' }, column: 1 }],
  ['created > 6 Months ago', { type: 'compare', field: builtin('created'), op: '>', value: { kind: 'relative', amount: 6, unit: 'month' }, column: 1 }],
  ['fields.vip != TRUE', { type: 'compare', field: custom('vip'), op: '!=', value: { kind: 'boolean', value: true }, column: 1 }],
  ['NOT created <= 2026-01-31T10:00:00+02:00', { type: 'not', item: { type: 'compare', field: builtin('created'), op: '<=', value: { kind: 'date', at: Date.parse('2026-01-31T08:00:00Z'), day: false }, column: 5 } }],
  ['email contains "x" or email contains "y" or list = "weekly"', { type: 'or', items: [
    { type: 'compare', field: builtin('email'), op: 'contains', value: str('x'), column: 1 },
    { type: 'compare', field: builtin('email'), op: 'contains', value: str('y'), column: 23 },
    { type: 'compare', field: builtin('list'), op: '=', value: str('weekly'), column: 45 },
  ] }],
  ['fields.country = "FR" and (last_open > 90 days ago or subscribed > 2026-01-01) and not domain in ["example.org", "test.example"]', { type: 'and', items: [
    { type: 'compare', field: custom('country'), op: '=', value: str('FR'), column: 1 },
    { type: 'or', items: [
      { type: 'compare', field: builtin('last_open'), op: '>', value: { kind: 'relative', amount: 90, unit: 'day' }, column: 28 },
      { type: 'compare', field: builtin('subscribed'), op: '>', value: { kind: 'date', at: Date.parse('2026-01-01T00:00:00Z'), day: true }, column: 55 },
    ] },
    { type: 'not', item: { type: 'in', field: builtin('domain'), values: [str('example.org'), str('test.example')], column: 88 } },
  ] }],
];

// [input, column, a piece of the message]
const ERRORS: Array<[string, number, string]> = [
  ['', 1, 'unexpected end of input at column 1; expected a field'],
  ['foo = 1', 1, 'unexpected "foo" at column 1; expected a field'],
  ['email', 6, 'expected an operator'],
  ['email =', 8, 'expected a value'],
  ['email = and', 9, 'unexpected "and" at column 9; expected a value'],
  ['email = "abc', 9, 'unterminated string starting at column 9'],
  ["email = 'abc\\'", 9, 'unterminated string'],
  ['email = 1 email', 11, 'expected "and", "or" or the end'],
  ['email = 1 and', 14, 'expected a field'],
  ['(email = 1', 11, 'expected ")"'],
  ['email = 1)', 10, 'unexpected ")" at column 10'],
  ['email in ["a" "b"]', 15, 'expected "," or "]"'],
  ['email in "a"', 10, 'expected "["'],
  ['email in []', 11, 'expected a value'],
  ['email is maybe', 10, 'expected "set" or "not set"'],
  ['email is not', 13, 'expected "set"'],
  ['created > 2026-02-30', 11, 'invalid date "2026-02-30"'],
  ['created > 2026-01-31T24:00Z', 11, 'invalid date'],
  ['created > 2026-01-31T10:00', 11, 'needs a zone'],
  ['created < 3 days', 17, 'expected "ago"'],
  ['created < 1.5 days ago', 11, 'whole number'],
  ['created < 100001 days ago', 11, 'whole number'],
  ['fields.Bad = 1', 1, 'invalid field name "Bad"'],
  ['fields. = 1', 1, 'invalid field name ""'],
  ['fields.a.b = 1', 1, 'invalid field name "a.b"'],
  ['email ~ "x"', 7, 'unexpected character "~" at column 7'],
  ['email = "x"; DROP TABLE contacts', 12, 'unexpected character ";"'],
  ['email = "x" -- comment', 13, 'unexpected character "-"'],
  ['email = 99999999999999999999', 9, 'too large'],
  ['email = "a\u0000b"', 11, 'control character "\\u0000"'],
  ['\u0000', 1, 'unexpected character "\\u0000"'],
  ['email = "ok" \u{1F600}', 14, 'unexpected character "\u{1F600}"'],
];

describe('segment parser', () => {
  for (const [input, ast] of VALID) {
    test(`parses ${input}`, () => assert.deepEqual(parseSegment(input), { ok: true, value: ast }));
  }

  for (const [input, column, message] of ERRORS) {
    test(`rejects ${JSON.stringify(input)} at column ${column}`, () => {
      const r = parseSegment(input);
      assert.equal(r.ok, false);
      assert.ok(!r.ok);
      assert.equal(r.error.column, column);
      assert.ok(r.error.message.includes(message), r.error.message);
    });
  }

  const fails = (input: string, column: number, message: string) => {
    const r = parseSegment(input);
    assert.ok(!r.ok, 'expected a failure');
    assert.equal(r.error.column, column);
    assert.ok(r.error.message.includes(message), r.error.message);
  };
  const nest = (n: number) => '('.repeat(n) + 'email = "a"' + ')'.repeat(n);
  const comparisons = (n: number) => Array.from({ length: n }, () => 'email = 1').join(' or ');
  const inList = (n: number) => `fields.n in [${Array.from({ length: n }, () => '1').join(',')}]`;

  test('limits: length, nesting, comparisons and in-list values', () => {
    fails('email = "' + 'x'.repeat(LIMITS.chars) + '"', LIMITS.chars + 1, `at most ${LIMITS.chars} characters`);
    assert.ok(parseSegment(nest(LIMITS.depth)).ok);
    fails(nest(LIMITS.depth + 1), LIMITS.depth + 1, 'nesting deeper than 20');
    assert.ok(parseSegment('not '.repeat(LIMITS.depth) + 'email = 1').ok);
    fails('not '.repeat(LIMITS.depth + 1) + 'email = 1', 4 * LIMITS.depth + 1, 'nesting deeper than 20');
    assert.ok(parseSegment(comparisons(LIMITS.comparisons)).ok);
    fails(comparisons(LIMITS.comparisons + 1), 13 * LIMITS.comparisons + 1, 'more than 100 comparisons');
    assert.ok(parseSegment(inList(LIMITS.inValues)).ok);
    fails(inList(LIMITS.inValues + 1), 14 + 2 * LIMITS.inValues, 'more than 1000 values');
  });

  test('hostile input is an error value, never a throw or a stack overflow', () => {
    fails('('.repeat(10_000), LIMITS.chars + 1, 'at most');
    fails('('.repeat(LIMITS.chars), LIMITS.depth + 1, 'nesting deeper');
    fails('not '.repeat(1000), LIMITS.depth * 4 + 1, 'nesting deeper');
    fails('email = "' + 'A'.repeat(100_000), LIMITS.chars + 1, 'at most');
    fails('"' + '\\'.repeat(3000), 1, 'unterminated string');
    assert.equal(parseSegment(undefined).ok, false);
    assert.equal(parseSegment({ toString: () => 'email = 1' }).ok, false);
  });

  test('random input never throws', () => {
    // a fixed-seed generator: the same thousand strings on every run
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const pieces = ['email', 'fields.x', 'list', 'created', '=', '!=', '<', 'in', 'is', 'not', 'set', 'and', 'or', '(', ')', '[', ']', ',', '"a', '"b"', "'", '\\', '12', '-', '2026-01-01', 'days', 'ago', 'now', '\u0000', ' ', 'true', '%_'];
    for (let i = 0; i < 2000; i++) {
      const input = Array.from({ length: rand(30) }, () => pieces[rand(pieces.length)]).join(rand(2) ? ' ' : '');
      const r = parseSegment(input);
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok) assert.ok(r.error.column >= 1 && r.error.column <= input.length + 1, `${input}: ${r.error.column}`);
    }
  });
});

const NOW = Date.parse('2026-03-31T12:00:00Z');
const ctx = { dialect: 'sqlite' as const, now: NOW, tenantId: 'ten_1' };

// [input, column, a piece of the message]: the types the parser cannot see
const TYPE_ERRORS: Array<[string, number, string]> = [
  ['last_open contains "x"', 1, 'last_open at column 1: "contains" does not apply to dates'],
  ['created = true', 1, 'expected a date'],
  ['created = 30 days ago', 1, '= and != take a day'],
  ['created in [2026-01-01]', 1, '"in" does not apply to dates'],
  ['email > "a"', 1, '">" does not apply to an address'],
  ['domain in ["a.example", 1]', 1, 'expected a string, not a number'],
  ['fields.x contains 5', 1, '"contains" takes a string'],
  ['fields.x in [1, "a"]', 1, 'all strings or all numbers'],
  ['fields.x = 2026-01-01', 1, 'not dates'],
  ['fields.flag > true', 1, 'does not apply to true/false'],
  ['source = "web"', 1, '"web" is not one of form, api, import, contest, customer, other'],
  ['opt_in contains "s"', 1, 'use =, != or in'],
  ['list = "Not a list!"', 1, 'no list can be named "not a list!"'],
  ['list is set', 1, 'use list = "name"'],
  ['list < "a"', 1, 'does not apply to lists'],
  ['email = "a" and (not last_open starts_with "x")', 22, 'last_open at column 22'],
];

describe('segment compiler', () => {
  for (const [input, column, message] of TYPE_ERRORS) {
    test(`rejects ${input}`, () => {
      const ast = parseSegment(input);
      assert.ok(ast.ok);
      const r = compileSegment(ast.value, ctx);
      assert.ok(!r.ok, 'expected a type error');
      assert.equal(r.error.column, column);
      assert.ok(r.error.message.includes(message), r.error.message);
    });
  }

  test('text comparisons on custom fields are allowed', () => {
    assert.ok(segmentFilter('fields.x > "abc"', ctx).ok);
  });

  test('segmentFilter: a failure names the code, the field and the column', () => {
    const r = segmentFilter('email = 1 oops', ctx);
    assert.deepEqual(r, { ok: false, error: { code: 'request.invalid', field: 'segment', detail: 'segment: unexpected "oops" at column 11; expected "and", "or" or the end' } });
    const t = segmentFilter('last_click contains "x"', ctx);
    assert.ok(!t.ok && t.error.detail.includes('column 1'));
  });

  const adapters = {
    sqlite: { adapter: () => new SqliteAdapter(), compiler: () => new SqliteQueryCompiler(), introspector: (db: Kysely<any>): DatabaseIntrospector => new SqliteIntrospector(db) },
    postgres: { adapter: () => new PostgresAdapter(), compiler: () => new PostgresQueryCompiler(), introspector: (db: Kysely<any>): DatabaseIntrospector => new PostgresIntrospector(db) },
  };
  for (const dialect of ['sqlite', 'postgres'] as const) {
    test(`${dialect}: user values reach the query only as parameters`, () => {
      const a = adapters[dialect];
      const db = new Kysely<Database>({ dialect: { createAdapter: a.adapter, createDriver: () => new DummyDriver(), createIntrospector: a.introspector, createQueryCompiler: a.compiler } });
      const hostile = `'); DROP TABLE contacts; --`;
      const text = `fields.country = "${hostile}" or email contains "${hostile}" or list = "weekly" or domain in ["evil.example"] or fields.n > 42`;
      const f = segmentFilter(text, { ...ctx, dialect });
      assert.ok(f.ok);
      const q = db.selectFrom('subscriptions as s').innerJoin('contacts as c', 'c.id', 's.contact_id')
        .innerJoin('consent_records as r', 'r.id', 's.consent_id').innerJoin('lists as l', 'l.id', 's.list_id')
        .select('c.id').where(f.value).compile();
      for (const userValue of ['DROP', 'weekly', 'evil.example', '42', 'country']) assert.ok(!q.sql.includes(userValue), `${userValue} in ${q.sql}`);
      assert.ok(q.parameters.includes(hostile));
      assert.ok(q.parameters.includes(`%${hostile}%`), 'the LIKE pattern, escaped and bound');
      assert.ok(q.parameters.includes('weekly'));
    });
  }

  test('relative dates: months by the calendar, clamped to the end of a shorter month', () => {
    const db = new Kysely<Database>({ dialect: { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (k) => new SqliteIntrospector(k), createQueryCompiler: () => new SqliteQueryCompiler() } });
    const paramsOf = (text: string) => {
      const f = segmentFilter(text, ctx);
      assert.ok(f.ok);
      return db.selectFrom('contacts as c').select('c.id').where(f.value as never).compile().parameters;
    };
    assert.deepEqual(paramsOf('created > 1 month ago'), [Date.parse('2026-02-28T12:00:00Z')]);
    assert.deepEqual(paramsOf('created > 1 year ago'), [Date.parse('2025-03-31T12:00:00Z')]);
    assert.deepEqual(paramsOf('created > 2 weeks ago'), [NOW - 14 * 86_400_000]);
    assert.deepEqual(paramsOf('created > now'), [NOW]);
    // a day stands for the whole UTC day: > starts the day after, <= ends with it
    assert.deepEqual(paramsOf('created > 2026-01-31'), [Date.parse('2026-02-01T00:00:00Z')]);
    assert.deepEqual(paramsOf('created <= 2026-01-31'), [Date.parse('2026-02-01T00:00:00Z')]);
    assert.deepEqual(paramsOf('created < 2026-01-31'), [Date.parse('2026-01-31T00:00:00Z')]);
  });
});

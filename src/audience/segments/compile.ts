// Segment syntax tree → a condition on the mailable-audience query (mailable.ts:
// c the contact, s its subscription, r its consent record). Every value a user
// typed reaches the database as a bound parameter through Kysely's expression
// builder (so do our own constant patterns). The only SQL text written by hand
// is constant: LIKE … ESCAPE and PostgreSQL's COLLATE "C", which Kysely has no
// builder for.
//
// Every condition is two-valued: a missing value (NULL, a field the contact
// does not have) makes a comparison false, never unknown. So `not` is the exact
// complement: `not last_open > 30 days ago` includes contacts who never opened,
// and `fields.country != "FR"` includes contacts without a country.
import { domainToASCII } from 'node:url';
import { sql, type Expression, type SqlBool } from 'kysely';
import type { DialectName } from '../../store/connect.ts';
import type { SegmentFilter } from '../mailable.ts';
import { segmentError, type Field, type SegmentNode, type SegmentResult, type Value } from './parse.ts';

export interface CompileContext {
  dialect: DialectName;
  /** what "30 days ago" and "now" are measured from */
  now: number;
  /** `list = "weekly"` looks the list up among this tenant's lists only */
  tenantId: string;
}

type EB = Parameters<SegmentFilter>[0];
type Operand = (eb: EB) => Expression<any>;
type Leaf = Exclude<SegmentNode, { type: 'and' | 'or' | 'not' }>;
type Compare = Extract<Leaf, { type: 'compare' }>;
type Out = SegmentResult<SegmentFilter>;

const DAY = 86_400_000;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: DAY, week: 7 * DAY } as const;
const DATE_COLUMNS = {
  created: 'c.created_at', subscribed: 's.created_at', confirmed: 's.confirmed_at',
  last_open: 'c.last_open_at', last_click: 'c.last_click_at', last_engaged: 'c.last_engaged_at',
} as const;
const ENUMS = {
  source: { column: 'r.source', values: ['form', 'api', 'import', 'contest', 'customer', 'other'] },
  opt_in: { column: 'r.opt_in', values: ['single', 'confirmed', 'double', 'none'] },
} as const;
const LIST_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NUMERIC_TEXT = '^-?[0-9]+(\\.[0-9]+)?$';
const ESCAPE = '\\';

export function compileSegment(ast: SegmentNode, ctx: CompileContext): Out {
  if (ast.type === 'not') {
    const inner = compileSegment(ast.item, ctx);
    return inner.ok ? ok((eb) => eb.not(inner.value(eb))) : inner;
  }
  if ('items' in ast) {
    const parts: SegmentFilter[] = [];
    for (const item of ast.items) {
      const c = compileSegment(item, ctx);
      if (!c.ok) return c;
      parts.push(c.value);
    }
    const join = ast.type;
    return ok((eb) => eb[join](parts.map((p) => p(eb))));
  }
  const f = ast.field;
  if (f.kind === 'custom') return customField(ast, f.name, ctx);
  if (f.name === 'email' || f.name === 'domain') return addressField(ast, f.name);
  if (f.name === 'source' || f.name === 'opt_in') return enumField(ast, ENUMS[f.name]);
  if (f.name === 'list') return listField(ast, ctx.tenantId);
  return dateField(ast, DATE_COLUMNS[f.name], ctx.now);
}

const ok = (value: SegmentFilter): Out => ({ ok: true, value });
const label = (f: Field) => (f.kind === 'custom' ? `fields.${f.name}` : f.name);
const wrong = (n: Leaf, message: string) => segmentError(n.column, `${label(n.field)} at column ${n.column}: ${message}`);

/** the condition holds: false, never NULL, when a value is missing (see above) */
const definite = (eb: EB, cond: Expression<SqlBool>) => eb(eb.parens(cond), 'is', eb.lit(true));

const isSet = (n: Leaf & { type: 'set' }, x: Operand, text: boolean): Out => {
  const set: SegmentFilter = (eb) => (text ? definite(eb, eb(x(eb), '!=', '')) : eb(x(eb), 'is not', null));
  return ok(n.negated ? (eb) => eb.not(set(eb)) : set);
};

/** =, !=, <, <=, >, >= between an operand and a value expression; != is the complement of = */
function ordered(op: Compare['op'], x: Operand, v: Operand): SegmentFilter {
  if (op === '!=') return (eb) => eb.not(definite(eb, eb(x(eb), '=', v(eb))));
  const sqlOp = op as '=' | '<' | '<=' | '>' | '>=';
  return (eb) => definite(eb, eb(x(eb), sqlOp, v(eb)));
}

/** contains / starts_with / ends_with: LIKE with the user's %, _ and \ matching literally, ignoring case */
function like(op: Compare['op'], x: Operand, value: string): SegmentFilter {
  const lit = value.replace(/[\\%_]/g, (c) => ESCAPE + c);
  const pattern = op === 'contains' ? `%${lit}%` : op === 'starts_with' ? `${lit}%` : `%${lit}`;
  return (eb) => definite(eb, sql<SqlBool>`lower(${x(eb)}) like lower(${pattern}) escape ${ESCAPE}`);
}

const isLike = (op: Compare['op']) => op === 'contains' || op === 'starts_with' || op === 'ends_with';

function strings(n: Leaf, values: Value[]): SegmentResult<string[]> {
  const bad = values.find((v) => v.kind !== 'string');
  if (bad) return wrong(n, `expected a string, not ${describe(bad)}`);
  return { ok: true, value: values.map((v) => (v as { value: string }).value) };
}

const describe = (v: Value) => (v.kind === 'relative' || v.kind === 'date' ? 'a date' : v.kind === 'number' ? 'a number' : v.kind === 'boolean' ? 'true or false' : 'a string');

/** email, domain: case-insensitive text; a domain is compared in the ASCII form contacts are stored in */
function addressField(n: Leaf, name: 'email' | 'domain'): Out {
  const col = name === 'email' ? 'c.email' : 'c.domain';
  const x: Operand = (eb) => eb.fn<string>('lower', [col]);
  if (n.type === 'set') return isSet(n, (eb) => eb.ref(col), true);
  const s = strings(n, n.type === 'in' ? n.values : [n.value]);
  if (!s.ok) return s;
  const values = name === 'domain' ? s.value.map((v) => domainToASCII(v) || v) : s.value;
  const lower = (eb: EB, v: string) => eb.fn<string>('lower', [eb.val(v)]);
  if (n.type === 'in') return ok((eb) => definite(eb, eb(x(eb), 'in', values.map((v) => lower(eb, v)))));
  if (isLike(n.op)) return ok(like(n.op, x, values[0]));
  if (n.op === '=' || n.op === '!=') return ok(ordered(n.op, x, (eb) => lower(eb, values[0])));
  return wrong(n, `"${n.op}" does not apply to an address; use =, !=, contains, starts_with, ends_with or in`);
}

/** source, opt_in: one of a few known words, so a typo is an error instead of an empty audience */
function enumField(n: Leaf, e: (typeof ENUMS)[keyof typeof ENUMS]): Out {
  const x: Operand = (eb) => eb.ref(e.column);
  if (n.type === 'set') return isSet(n, x, false);
  if (n.type === 'compare' && n.op !== '=' && n.op !== '!=') return wrong(n, `"${n.op}" does not apply here; use =, != or in`);
  const s = strings(n, n.type === 'in' ? n.values : [n.value]);
  if (!s.ok) return s;
  const unknown = s.value.find((v) => !(e.values as readonly string[]).includes(v));
  if (unknown !== undefined) return wrong(n, `${JSON.stringify(unknown.slice(0, 40))} is not one of ${e.values.join(', ')}`);
  if (n.type === 'in') return ok((eb) => eb(x(eb), 'in', s.value));
  return ok(ordered(n.op, x, (eb) => eb.val(s.value[0])));
}

/** list = "weekly": subscribed to that list of the tenant (whichever list the campaign targets) */
function listField(n: Leaf, tenantId: string): Out {
  if (n.type === 'set') return wrong(n, 'use list = "name" or list in ["a", "b"]');
  if (n.type === 'compare' && n.op !== '=' && n.op !== '!=') return wrong(n, `"${n.op}" does not apply to lists; use =, != or in`);
  const s = strings(n, n.type === 'in' ? n.values : [n.value]);
  if (!s.ok) return s;
  // list names are lower case (lists.ts), so "Weekly" means weekly
  const names = s.value.map((v) => v.toLowerCase());
  const invalid = names.find((v) => !LIST_NAME.test(v));
  if (invalid !== undefined) return wrong(n, `no list can be named ${JSON.stringify(invalid.slice(0, 70))}`);
  const member: SegmentFilter = (eb) => eb.exists(eb.selectFrom('subscriptions as ms')
    .innerJoin('lists as ml', 'ml.id', 'ms.list_id')
    .select(eb.lit(1).as('one'))
    .whereRef('ms.contact_id', '=', 'c.id')
    .where('ms.tenant_id', '=', tenantId)
    .where('ml.tenant_id', '=', tenantId)
    .where('ms.status', '=', 'subscribed')
    .where('ml.deleted_at', 'is', null)
    .where('ml.name', 'in', names));
  return ok(n.type === 'compare' && n.op === '!=' ? (eb) => eb.not(member(eb)) : member);
}

/**
 * Dates: epoch ms columns. A day written without a time (2026-01-31) is the
 * whole UTC day: `> 2026-01-31` starts the next day, `<= 2026-01-31` ends
 * with it, `= 2026-01-31` is within it.
 */
function dateField(n: Leaf, col: (typeof DATE_COLUMNS)[keyof typeof DATE_COLUMNS], now: number): Out {
  const x: Operand = (eb) => eb.ref(col);
  if (n.type === 'set') return isSet(n, x, false);
  if (n.type === 'in') return wrong(n, '"in" does not apply to dates; use < or > with a date');
  if (isLike(n.op)) return wrong(n, `"${n.op}" does not apply to dates; use <, <=, >, >=, = or !=`);
  const v = n.value;
  if (v.kind !== 'date' && v.kind !== 'relative') return wrong(n, `expected a date (2026-01-31, 2026-01-31T10:00:00Z or 30 days ago), not ${describe(v)}`);
  const start = v.kind === 'date' ? v.at : ago(v.amount, v.unit, now);
  if (!Number.isFinite(start)) return wrong(n, 'that date is out of range');
  const day = v.kind === 'date' && v.day;
  const end = day ? start + DAY : start;
  const at = (t: number): Operand => (eb) => eb.val(t);
  if (n.op === '=' || n.op === '!=') {
    if (!day) return wrong(n, '= and != take a day (2026-01-31); compare times with < or >');
    const within: SegmentFilter = (eb) => definite(eb, eb.and([eb(x(eb), '>=', start), eb(x(eb), '<', end)]));
    return ok(n.op === '=' ? within : (eb) => eb.not(within(eb)));
  }
  if (n.op === '<') return ok(ordered('<', x, at(start)));
  if (n.op === '>=') return ok(ordered('>=', x, at(start)));
  if (n.op === '<=') return ok(day ? ordered('<', x, at(end)) : ordered('<=', x, at(end)));
  return ok(day ? ordered('>=', x, at(end)) : ordered('>', x, at(end)));
}

/** `amount` units before `now`; months and years by the calendar, the day clamped to the month's last */
function ago(amount: number, unit: Extract<Value, { kind: 'relative' }>['unit'], now: number): number {
  if (unit !== 'month' && unit !== 'year') return now - amount * UNIT_MS[unit];
  const d = new Date(now);
  const month = d.getUTCMonth() - amount * (unit === 'year' ? 12 : 1);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  d.setUTCMonth(month);
  return d.getTime();
}

/**
 * fields.<name>: a string value compares the field's text, a number compares
 * numerically (fields holding a number or a numeric string such as an import
 * gives), true/false match the field's text "true"/"false" in any case.
 */
function customField(n: Leaf, name: string, ctx: CompileContext): Out {
  const { text, num } = fieldAccess(name, ctx.dialect);
  if (n.type === 'set') return isSet(n, text, true);
  const values = n.type === 'in' ? n.values : [n.value];
  const kinds = new Set(values.map((v) => v.kind));
  if (kinds.has('date') || kinds.has('relative')) return wrong(n, 'custom fields compare with strings, numbers or true/false, not dates');
  if (n.type === 'in') {
    if (kinds.size > 1 || kinds.has('boolean')) return wrong(n, 'the values of "in" must be all strings or all numbers');
    const list = values.map((v) => (v as { value: string | number }).value);
    const x = kinds.has('number') ? num : text;
    return ok((eb) => definite(eb, eb(x(eb), 'in', list)));
  }
  const v = n.value as Extract<Value, { kind: 'string' | 'number' | 'boolean' }>;
  if (isLike(n.op)) return v.kind === 'string' ? ok(like(n.op, text, v.value)) : wrong(n, `"${n.op}" takes a string`);
  const op = n.op as Exclude<Compare['op'], 'contains' | 'starts_with' | 'ends_with'>;
  if (v.kind === 'number') return ok(ordered(op, num, (eb) => eb.val(v.value)));
  if (v.kind === 'boolean') {
    if (op !== '=' && op !== '!=') return wrong(n, `"${op}" does not apply to true/false; use = or !=`);
    return ok(ordered(op, (eb) => eb.fn('lower', [text(eb)]), (eb) => eb.val(String(v.value))));
  }
  // byte order on both dialects: PostgreSQL would otherwise sort by the database's locale
  const ordering = op !== '=' && op !== '!=' && ctx.dialect === 'postgres';
  return ok(ordered(op, ordering ? (eb) => sql`${text(eb)} collate "C"` : text, (eb) => eb.val(v.value)));
}

/**
 * The field's text and numeric value, NULL when absent. PostgreSQL reads it
 * with jsonb_extract_path_text, the function form of `fields::jsonb ->> name`,
 * so the name, validated already, is still a bound parameter.
 */
function fieldAccess(name: string, dialect: DialectName): { text: Operand; num: Operand } {
  if (dialect === 'postgres') {
    const text: Operand = (eb) => eb.fn<string>('jsonb_extract_path_text', [eb.cast('c.fields', 'jsonb'), eb.val(name)]);
    const num: Operand = (eb) => eb.case().when(text(eb), '~', NUMERIC_TEXT).then(eb.cast(text(eb), 'numeric')).end();
    return { text, num };
  }
  const path = `$."${name}"`;
  const type = (eb: EB) => eb.fn<string>('json_type', ['c.fields', eb.val(path)]);
  const raw = (eb: EB) => eb.fn<unknown>('json_extract', ['c.fields', eb.val(path)]);
  // json_extract gives 1/0 for true/false: spell them as PostgreSQL's ->> does
  const text: Operand = (eb) => eb.case().when(type(eb), '=', 'true').then('true').when(type(eb), '=', 'false').then('false')
    .else(eb.cast(raw(eb), 'text')).end();
  const num: Operand = (eb) => eb.case().when(type(eb), 'in', ['integer', 'real']).then(raw(eb))
    .when(eb.and([eb(type(eb), '=', 'text'), sqliteNumeric(eb, raw(eb))])).then(eb.cast(raw(eb), 'real')).end();
  return { text, num };
}

/** NUMERIC_TEXT without a regexp function, which SQLite lacks: digits, one optional dot, an optional leading minus */
function sqliteNumeric(eb: EB, t: Expression<unknown>): Expression<SqlBool> {
  const glob = (pattern: string, yes: boolean) => eb(eb.fn('glob', [eb.val(pattern), t]), '=', yes ? 1 : 0);
  return eb.and([
    eb.or([glob('[0-9]*', true), glob('-[0-9]*', true)]),
    glob('*[0-9]', true),
    glob('*[^0-9.-]*', false),
    glob('?*-*', false),
    glob('*.*.*', false),
  ]);
}

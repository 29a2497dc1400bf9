// The segment language, text to syntax tree (issue 3): users describe an
// audience ("fields.country = "FR" and last_open > 90 days ago") and never
// write SQL. The tokenizer and the recursive-descent parser are written by
// hand: the grammar is a dozen productions, errors must name the exact column
// a user typed wrong, and a parser generator would be a dependency to audit.
//
// Hostile input is bounded before it can cost anything: the length is checked
// first, nesting is counted on the way down (so 10,000 "(" end in an error, not
// a stack overflow), and so are comparisons and the values of an `in` list.
//
//   expr       := or
//   or         := and ("or" and)*
//   and        := not ("and" not)*
//   not        := "not" not | primary
//   primary    := "(" expr ")" | comparison
//   comparison := field op value | field "is" ["not"] "set" | field "in" "[" value ("," value)* "]"
//   field      := email | domain | created | subscribed | confirmed | last_open | last_click
//               | last_engaged | source | opt_in | list | fields.<name>
//   op         := = | != | < | <= | > | >= | contains | starts_with | ends_with
//   value      := "string" | 'string' | number | true | false | date | N unit "ago" | now
export const LIMITS = { chars: 4000, depth: 20, comparisons: 100, inValues: 1000 } as const;

export const BUILTIN_FIELDS = ['email', 'domain', 'created', 'subscribed', 'confirmed', 'last_open', 'last_click', 'last_engaged', 'source', 'opt_in', 'list'] as const;
export type BuiltinField = (typeof BUILTIN_FIELDS)[number];
export type Field = { kind: 'builtin'; name: BuiltinField } | { kind: 'custom'; name: string };

export const OPS = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'starts_with', 'ends_with'] as const;
export type Op = (typeof OPS)[number];

export const UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type Unit = (typeof UNITS)[number];

export type Value =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  /** `day`: written without a time, so it stands for the whole UTC day starting at `at` */
  | { kind: 'date'; at: number; day: boolean }
  /** "30 days ago"; "now" is 0 minutes ago. Resolved by the compiler against its clock. */
  | { kind: 'relative'; amount: number; unit: Unit };

export type SegmentNode =
  | { type: 'and' | 'or'; items: SegmentNode[] }
  | { type: 'not'; item: SegmentNode }
  | { type: 'compare'; field: Field; op: Op; value: Value; column: number }
  | { type: 'in'; field: Field; values: Value[]; column: number }
  | { type: 'set'; field: Field; negated: boolean; column: number };

/** What went wrong and where: `column` is 1-based. */
export type SegmentError = { column: number; message: string };

export type SegmentResult<T> = { ok: true; value: T } | { ok: false; error: SegmentError };

export const segmentError = (column: number, message: string): { ok: false; error: SegmentError } => ({ ok: false, error: { column, message } });

const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_AGO = 100_000;

/** Parses a segment; never throws, whatever the input. */
export function parseSegment(text: unknown): SegmentResult<SegmentNode> {
  if (typeof text !== 'string') return segmentError(1, 'a segment is a text');
  if (text.length > LIMITS.chars) return segmentError(LIMITS.chars + 1, `a segment is at most ${LIMITS.chars} characters`);
  const tokens = scan(text);
  if (!tokens.ok) return tokens;
  return new Parser(tokens.value).parse();
}

// Each production returns its node, or null after recording the first error:
// failures stay values all the way up, without exceptions for control flow.
class Parser {
  #pos = 0;
  #comparisons = 0;
  #error: SegmentError | null = null;

  constructor(private readonly tokens: Token[]) {}

  parse(): SegmentResult<SegmentNode> {
    const node = this.or(0);
    if (node && this.peek().kind !== 'end') this.expected('"and", "or" or the end');
    if (this.#error || !node) return { ok: false, error: this.#error ?? { column: 1, message: 'invalid segment' } };
    return { ok: true, value: node };
  }

  private peek(): Token { return this.tokens[this.#pos]; }

  /** moves past the current token, which is never the end */
  private skip(): void { this.#pos++; }

  /** true (and consumed) when the next token is this keyword or punctuation */
  private accept(word: string): boolean {
    const t = this.peek();
    const hit = t.kind === 'punct' ? t.text === word : t.kind === 'word' && t.text.toLowerCase() === word;
    if (hit) this.#pos++;
    return hit;
  }

  private failAt(column: number, message: string): null {
    this.#error ??= { column, message };
    return null;
  }

  private expected(what: string): null {
    const t = this.peek();
    // quoted and clipped, with control characters escaped by JSON.stringify
    const shown = t.kind === 'end' ? 'end of input' : JSON.stringify(t.text.length > 24 ? t.text.slice(0, 24) + '…' : t.text);
    return this.failAt(t.column, `unexpected ${shown} at column ${t.column}; expected ${what}`);
  }

  private or(depth: number): SegmentNode | null {
    return this.chain('or', () => this.chain('and', () => this.not(depth)));
  }

  private chain(type: 'and' | 'or', operand: () => SegmentNode | null): SegmentNode | null {
    const first = operand();
    if (!first) return null;
    const items = [first];
    while (this.accept(type)) {
      const item = operand();
      if (!item) return null;
      items.push(item);
    }
    return items.length === 1 ? first : { type, items };
  }

  private not(depth: number): SegmentNode | null {
    const t = this.peek();
    if (!this.accept('not')) return this.primary(depth);
    if (depth >= LIMITS.depth) return this.failAt(t.column, `nesting deeper than ${LIMITS.depth} levels at column ${t.column}`);
    const item = this.not(depth + 1);
    return item && { type: 'not', item };
  }

  private primary(depth: number): SegmentNode | null {
    const t = this.peek();
    if (!this.accept('(')) return this.comparison();
    if (depth >= LIMITS.depth) return this.failAt(t.column, `nesting deeper than ${LIMITS.depth} levels at column ${t.column}`);
    const inner = this.or(depth + 1);
    return inner && (this.accept(')') ? inner : this.expected('")"'));
  }

  private comparison(): SegmentNode | null {
    const { column } = this.peek();
    const field = this.field();
    if (!field) return null;
    if (++this.#comparisons > LIMITS.comparisons) return this.failAt(column, `more than ${LIMITS.comparisons} comparisons at column ${column}`);
    if (this.accept('is')) {
      const negated = this.accept('not');
      return this.accept('set') ? { type: 'set', field, negated, column } : this.expected(negated ? '"set"' : '"set" or "not set"');
    }
    if (this.accept('in')) {
      const values = this.valueList();
      return values && { type: 'in', field, values, column };
    }
    const opTok = this.peek();
    const op = OPS.find((o) => (opTok.kind === 'punct' || opTok.kind === 'word') && opTok.text.toLowerCase() === o);
    if (!op) return this.expected('an operator (=, !=, <, <=, >, >=, contains, starts_with, ends_with, in, is)');
    this.skip();
    const value = this.value();
    return value && { type: 'compare', field, op, value, column };
  }

  private field(): Field | null {
    const t = this.peek();
    if (t.kind !== 'word') return this.expected('a field');
    const lower = t.text.toLowerCase();
    const builtin = BUILTIN_FIELDS.find((f) => f === lower);
    const name = t.text.slice('fields.'.length);
    if (!builtin && !lower.startsWith('fields.')) return this.expected('a field');
    if (!builtin && !FIELD_NAME.test(name)) return this.failAt(t.column, `invalid field name ${JSON.stringify(name.slice(0, 70))} at column ${t.column}; a-z, 0-9 and _, starting with a letter`);
    this.skip();
    return builtin ? { kind: 'builtin', name: builtin } : { kind: 'custom', name };
  }

  private valueList(): Value[] | null {
    if (!this.accept('[')) return this.expected('"["');
    const values: Value[] = [];
    do {
      const col = this.peek().column;
      if (values.length === LIMITS.inValues) return this.failAt(col, `more than ${LIMITS.inValues} values in a list at column ${col}`);
      const v = this.value();
      if (!v) return null;
      values.push(v);
    } while (this.accept(','));
    return this.accept(']') ? values : this.expected('"," or "]"');
  }

  private value(): Value | null {
    const t = this.peek();
    if (t.kind === 'number') return this.numberOrAgo(t);
    const word = t.kind === 'word' ? t.text.toLowerCase() : '';
    const v: Value | null = t.kind === 'string' ? { kind: 'string', value: t.value }
      : t.kind === 'date' ? { kind: 'date', at: t.at, day: t.day }
      : word === 'true' || word === 'false' ? { kind: 'boolean', value: word === 'true' }
      : word === 'now' ? { kind: 'relative', amount: 0, unit: 'minute' }
      : null;
    if (!v) return this.expected('a value');
    this.skip();
    return v;
  }

  /** 42, or "30 days ago" when a unit follows */
  private numberOrAgo(t: Token & { kind: 'number' }): Value | null {
    this.skip();
    const u = this.peek();
    const unit = u.kind === 'word' ? unitOf(u.text) : undefined;
    if (!unit) return { kind: 'number', value: t.value };
    this.skip();
    if (!this.accept('ago')) return this.expected('"ago"');
    if (!Number.isInteger(t.value) || t.value < 0 || t.value > MAX_AGO) return this.failAt(t.column, `the amount at column ${t.column} must be a whole number from 0 to ${MAX_AGO}`);
    return { kind: 'relative', amount: t.value, unit };
  }
}

/** "day", "days", "DAYS" → day */
function unitOf(word: string): Unit | undefined {
  const w = word.toLowerCase();
  return UNITS.find((u) => w === u || w === u + 's');
}

type Token =
  | { kind: 'word' | 'punct'; text: string; column: number }
  | { kind: 'string'; text: string; value: string; column: number }
  | { kind: 'number'; text: string; value: number; column: number }
  | { kind: 'date'; text: string; at: number; day: boolean; column: number }
  | { kind: 'end'; text: ''; column: number };

// Sticky patterns, tried at the current position only: each is linear, so no
// input can make the tokenizer backtrack for long.
const WORD = /[A-Za-z_][A-Za-z0-9_.]*/y;
const DATE = /(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?([Zz]|[+-]\d{2}:\d{2})?)?/y;
const NUMBER = /-?[0-9]+(?:\.[0-9]+)?/y;
const PUNCT = /<=|>=|!=|[=<>()[\],]/y;
const MAX_NUMBER = 1e15;

function scan(text: string): SegmentResult<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp) => ((re.lastIndex = i), re.exec(text));
  while (i < text.length) {
    const ch = text[i];
    const column = i + 1;
    let m: RegExpExecArray | null;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
    else if (ch === '"' || ch === "'") {
      const s = scanString(text, i);
      if (!s.ok) return s;
      tokens.push({ kind: 'string', text: text.slice(i, s.value.end), value: s.value.value, column });
      i = s.value.end;
    } else if ((m = match(DATE))) {
      const d = dateOf(m, column);
      if (!d.ok) return d;
      tokens.push({ kind: 'date', text: m[0], at: d.value, day: m[4] === undefined, column });
      i += m[0].length;
    } else if ((m = match(NUMBER))) {
      const value = Number(m[0]);
      if (!(Math.abs(value) <= MAX_NUMBER)) return segmentError(column, `number at column ${column} is too large (at most ${MAX_NUMBER})`);
      tokens.push({ kind: 'number', text: m[0], value, column });
      i += m[0].length;
    } else if ((m = match(WORD) ?? match(PUNCT))) {
      tokens.push({ kind: /\w/.test(m[0][0]) ? 'word' : 'punct', text: m[0], column });
      i += m[0].length;
    } else {
      const c = String.fromCodePoint(text.codePointAt(i)!);
      return segmentError(column, `unexpected character ${JSON.stringify(c)} at column ${column}`);
    }
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1 });
  return { ok: true, value: tokens };
}

/** A quoted string from `start`; a backslash takes the next character as it is. */
function scanString(text: string, start: number): SegmentResult<{ value: string; end: number }> {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    let ch = text[i];
    if (ch === quote) return { ok: true, value: { value, end: i + 1 } };
    if (ch === '\\' && i + 1 < text.length) ch = text[++i];
    // NUL and other controls: PostgreSQL rejects NUL in text, and none belongs in a field value
    if (ch < ' ' || ch === '\x7f') return segmentError(i + 1, `control character ${JSON.stringify(ch)} in a string at column ${i + 1}`);
    value += ch;
  }
  return segmentError(start + 1, `unterminated string starting at column ${start + 1}`);
}

/** 2026-01-31 is midnight UTC; a time needs its zone, so the server's own zone never decides. */
function dateOf(m: RegExpExecArray, column: number): SegmentResult<number> {
  const [, y, mo, d, h = '00', mi = '00', s = '00', ms = '0', zone] = m;
  if (m[4] !== undefined && zone === undefined) return segmentError(column, `the time at column ${column} needs a zone: Z or +02:00`);
  const n = [y, mo, d, h, mi, s].map(Number);
  const at = Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5], Number(ms.padEnd(3, '0')));
  // Date.UTC rolls 2026-02-30 over into March: printing it back catches impossible dates
  const real = new Date(at).toISOString().slice(0, 19) === `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  const [zh, zm] = zone && zone.length > 1 ? zone.slice(1).split(':').map(Number) : [0, 0];
  if (!real || zh > 23 || zm > 59) return segmentError(column, `invalid date ${JSON.stringify(m[0])} at column ${column}`);
  return { ok: true, value: at - (zone?.[0] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000 };
}

// The two Liquid engines templates use: one for HTML (every output escaped)
// and one for the subject and the text part (outputs as they are). Both are
// closed to the outside: no file lookups (include/render/layout refused at
// parse time, an empty in-memory template map besides), unknown filters and
// undefined variables are errors, prototype properties are invisible, and a
// render is bounded in time and memory so a template loop cannot stall a
// sending worker.
import { Liquid, Tag, toValue, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import { unsafeUrl } from './sanitize.ts';

/** The filter put on Liquid outputs that start a URL attribute (see body.ts). */
export const URL_GUARD = 'envoi_url_guard';

class Refused extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
    super(token, remain, liquid);
    throw new Error(`{% ${token.name} %} is not available: a template cannot read other templates or files`);
  }
  *render(): Generator<unknown, void, unknown> {}
}

function engine(escape: boolean): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    // `| default:` and `{% if %}` may test a variable that is not there
    lenientIf: true,
    strictFilters: true,
    ownPropertyOnly: true,
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    timezoneOffset: 0,
    ...(escape ? { outputEscape: 'escape' as const } : {}),
    // a normal render takes well under a millisecond
    renderLimit: 250,
    memoryLimit: 1e7,
  });
  for (const name of ['include', 'render', 'layout']) liquid.registerTag(name, Refused);
  if (escape) {
    // `| raw` would let contact data become markup ({% raw %} content is
    // template text, sanitised like the rest: see placeholders.ts)
    delete (liquid.filters as Record<string, unknown>).raw;
    // Checks, and returns, the very text the output will print: an array
    // ["javascript:…"] is printed joined, so checking strings only let it
    // through (found by test/hardening/fuzz-compose.test.ts).
    liquid.registerFilter(URL_GUARD, (value: unknown) => {
      const text = printed(value);
      if (unsafeUrl(text)) {
        throw new Error(`the value ${JSON.stringify(clipValue(text))} is a script or data URL`);
      }
      return text;
    });
  }
  return liquid;
}

let engines: { html: Liquid; plain: Liquid } | undefined;

/** Created on first use, not at import. */
export function liquid(): { html: Liquid; plain: Liquid } {
  engines ??= { html: engine(true), plain: engine(false) };
  return engines;
}

export interface LiquidProblem {
  message: string;
  /** offset in the parsed or rendered text */
  offset?: number;
  line?: number;
  column?: number;
}

/** The parts of a liquidjs error a failure detail needs. */
export function liquidProblem(err: unknown): LiquidProblem {
  if (!(err instanceof Error)) throw err;
  // anything else a render throws (a stack overflow on self-referencing data) is still this recipient's failure
  if (!('token' in err)) return { message: err.message };
  const e = err as Error & { token?: { begin: number; getPosition(): number[] }; originalError?: Error };
  let message = (e.originalError?.message ?? e.message).replace(/, line:\d+, col:\d+$/, '');
  if (/^undefined filter: raw$/.test(message)) {
    message = 'the raw filter is not allowed in HTML: personalised values are always HTML-escaped';
  }
  const [line, column] = e.token?.getPosition() ?? [];
  return { message, offset: e.token?.begin, line, column };
}

/** Parses a template, or says where it is wrong ("body line 3, column 5: …"). */
export function parse(engine: Liquid, source: string, field: string): { ok: true; value: Template[] } | { ok: false; detail: string } {
  try {
    return { ok: true, value: engine.parse(source) };
  } catch (err) {
    const p = liquidProblem(err);
    const at = p.line === undefined ? field : field === 'subject' ? `subject column ${p.column}` : `${field} line ${p.line}, column ${p.column}`;
    return { ok: false, detail: `${at}: ${p.message}` };
  }
}

/**
 * The scope a template sees: null, undefined and blank strings are left out,
 * so `| default:` applies to them and an output without one fails instead of
 * leaving an empty hole in the mail.
 */
export function present(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => present(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // a Date, a Drop: as it is
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = present(v, depth + 1);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}

/** What liquidjs prints for a value (its own stringify: arrays joined without a separator, nil as nothing). */
function printed(value: unknown): string {
  const v = toValue(value);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(printed).join('');
  return String(v);
}

const clipValue = (s: string) => (s.length > 40 ? s.slice(0, 37) + '…' : s);

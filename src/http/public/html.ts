// A tagged template that escapes every interpolated value unless it is itself
// a fragment built by this tag. Why not a template engine: the public pages
// are a handful of small forms and notices; a tag keeps escaping the default
// (a forgotten escape is impossible, a deliberate raw insert must call `raw`)
// with no dependency, no second syntax and the type checker over every page.
//
// Values land only in element content and in double-quoted attribute values;
// escaping & < > " ' is enough for both. URLs we put in attributes are built
// by envoi itself (public base URL + ids/tokens), never taken from input.

/** A piece of HTML that is already safe to insert. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(p: Part): string {
  if (p instanceof Html) return p.value;
  if (Array.isArray(p)) return p.map(render).join('');
  // null, undefined and false render as nothing, so `cond && html\`…\`` reads naturally
  if (p === null || p === undefined || p === false) return '';
  return escapeHtml(String(p));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Inserts trusted markup as is: only for constants written in our own source. */
export const raw = (s: string): Html => new Html(s);

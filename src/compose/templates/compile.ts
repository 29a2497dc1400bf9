// Compiling a template does all the per-template work once: Liquid parsing,
// MJML rendering (~2 ms), sanitising, and generating the text part. What is
// left per recipient is three Liquid renders (render.ts).
//
// Rules for template authors (each is checked here, with the line and column):
//   - Liquid may stand in text and in attribute values. With MJML, text means
//     the content of content elements (mj-text, mj-button, mj-raw, mj-table,
//     mj-navbar-link, mj-social-element, mj-title, mj-preview); MJML drops
//     anything between structural elements, so `{% if %}` around an
//     <mj-section> or <mj-column> is refused. Put the condition inside one
//     mj-text / mj-raw, or inside the element's content.
//   - A Liquid block ({% if %}, {% for %}, {% case %}, …) must wrap whole
//     elements in every branch: `{% if a %}<div>{% endif %}…</div>` is refused.
//   - Attributes MJML checks (colours, sizes, paddings) cannot hold Liquid.
//   - No include/render/layout, no mj-include: templates never read files.
//   - Outputs in the HTML are always HTML-escaped; `| raw` is refused.
//   - A variable without `| default:` must be present for every recipient:
//     undefined, null or blank is a render failure naming it.
//   - Active content (scripts, frames, forms, plugins, on* handlers,
//     javascript: URLs, meta refresh) is stripped and listed in `notices`.
import type { Template } from 'liquidjs';
import { fail, ok, type Result } from '../../errors.ts';
import { constantOutputs, type ConstantValue } from './constants.ts';
import { liquid, parse, present, URL_GUARD } from './liquid.ts';
import { renderMjml } from './mjml.ts';
import { checkPieces, protect, restore, sourcePosition, type Protected, type RestoredSpan } from './placeholders.ts';
import { sanitizeHtml, unsafeUrl, type TemplateNotice } from './sanitize.ts';
import { htmlToText } from './text.ts';

export interface TemplateSource {
  format: 'mjml' | 'html';
  subject: string;
  body: string;
  /** hand-written text part (Liquid); absent → generated from the HTML */
  text?: string;
}

export const DEFAULT_MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

/** A parsed Liquid template and how to point at its source when rendering it fails. */
export interface Part {
  tpl: Template[];
  /** the engine that parsed it, and must render it (escaping differs) */
  engine: 'html' | 'plain';
  field: 'subject' | 'body' | 'text';
  /** set when the rendered text is not the author's source (converted HTML) */
  spans?: RestoredSpan[];
}

export interface CompiledTemplate {
  readonly format: 'mjml' | 'html';
  /** what was stripped from the HTML, and why; other things an author should know */
  readonly notices: readonly TemplateNotice[];
  /** top-level variables each recipient's data is read for (contact, unsubscribe_url, …), constants left out */
  readonly variables: readonly string[];
  /** source: hand-written; html: generated once from the HTML; html-per-render: converted for each recipient (slow) */
  readonly textFrom: 'source' | 'html' | 'html-per-render';
  /** internal: the constants (cleaned), merged into every render's scope */
  readonly constants: Readonly<Record<string, unknown>>;
  /** internal: the parsed parts, rendered by renderTemplate */
  readonly parts: { subject: Part; html: Part; text?: Part };
}

const LOST_IN_MJML = 'does not survive MJML: Liquid may stand only inside content elements (mj-text, mj-button, mj-raw, ' +
  'mj-table, mj-navbar-link, mj-social-element) and in attribute values, not between elements such as mj-section or mj-column';
const LOST_IN_SANITISER = 'was inside an element that was stripped (script, form, iframe, object)';

export interface CompileOptions {
  /** default 10 MB; larger templates are refused */
  maxBytes?: number;
  /**
   * Values the same for every recipient (offer, campaign, sender…): outputs
   * reading only these are rendered once here, and every render sees them
   * (over a recipient's own value of the same name).
   */
  constants?: Record<string, unknown>;
}

export async function compileTemplate(src: TemplateSource, opts: CompileOptions = {}): Promise<Result<CompiledTemplate>> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TEMPLATE_BYTES;
  const size = Buffer.byteLength(src.subject) + Buffer.byteLength(src.body) + (src.text ? Buffer.byteLength(src.text) : 0);
  if (size > maxBytes) return fail('request.invalid', `the template is ${size} bytes; at most ${maxBytes} are accepted`, 'body');
  if (src.format !== 'mjml' && src.format !== 'html') return fail('request.invalid', 'format must be "mjml" or "html"', 'format');
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(src.subject)) {
    return fail('request.invalid', 'subject: contains a line break or control character', 'subject');
  }
  if (src.subject.trim() === '') return fail('request.invalid', 'subject: is empty', 'subject');

  const engines = liquid();
  const subject = parse(engines.plain, src.subject, 'subject');
  if (!subject.ok) return fail('request.invalid', subject.detail, 'subject');
  const body = parse(engines.html, src.body, 'body');
  if (!body.ok) return fail('request.invalid', body.detail, 'body');
  let handText: Template[] | undefined;
  if (src.text !== undefined) {
    const text = parse(engines.plain, src.text, 'text');
    if (!text.ok) return fail('request.invalid', text.detail, 'text');
    handText = text.value;
  }

  const prot = protect(src.body);
  let converted = prot.text;
  if (src.format === 'mjml') {
    const rendered = await renderMjml(prot);
    if (!rendered.ok) return rendered;
    converted = rendered.value;
  }
  // offsets in MJML's output mean nothing to the author; in plain HTML they map back
  const where = src.format === 'html' ? (offset: number) => `body line ${sourcePosition(prot, offset).line}` : () => '';
  const clean = sanitizeHtml(converted, where);
  clean.html = compact(clean.html);
  const problem = checkPieces(prot, clean.html, src.format === 'mjml' ? LOST_IN_MJML : LOST_IN_SANITISER);
  if (problem) return fail('request.invalid', problem, 'body');

  const constants = present(opts.constants ?? {}) as Record<string, unknown>;
  const fixed = constantOutputs(prot, constants);
  if (!fixed.ok) return fixed;
  const guarded = urlLeadingOutputs(prot, clean.urlValues);
  for (const i of guarded) {
    const value = fixed.value.get(i);
    if (value && unsafeUrl(value.text)) {
      const piece = prot.pieces[i];
      return fail('request.invalid', `body line ${piece.line}, column ${piece.column}: ${piece.text} is a script or data URL`, 'body');
    }
  }
  // CRLF already, as on the wire: the MIME encoder then has only long lines to touch
  const restored = restore(prot, literalBraces(clean.html.replace(/\r?\n/g, '\r\n')), (i, piece) => {
    const value = fixed.value.get(i);
    if (value) return literalBraces(value.html);
    return guarded.has(i) ? piece.text.replace(/\s*(-?\}\})$/, ` | ${URL_GUARD} $1`) : piece.text;
  });
  const html = parse(engines.html, restored.text, 'body');
  if (!html.ok) return fail('request.invalid', `${html.detail} (after ${src.format === 'mjml' ? 'MJML' : 'sanitising'})`, 'body');

  const notices = [...clean.notices];
  let text: Part | undefined;
  let textFrom: CompiledTemplate['textFrom'] = 'source';
  if (handText) text = { tpl: handText, engine: 'plain', field: 'text' };
  else {
    text = textFromHtml(prot, clean.html, fixed.value);
    textFrom = text ? 'html' : 'html-per-render';
    if (!text) {
      notices.push({ code: 'text_per_render', detail: 'the text part is converted from each personalised HTML (slower): a Liquid tag sits where the text conversion drops it (an image, a hidden block); give a hand-written text part to avoid this' });
    }
  }

  const parts = {
    subject: { tpl: subject.value, engine: 'plain' as const, field: 'subject' as const },
    html: { tpl: html.value, engine: 'html' as const, field: 'body' as const, spans: restored.spans },
    text,
  };
  const variables = new Set<string>();
  for (const part of [parts.subject, parts.html, text]) {
    if (part) for (const name of engines.html.globalVariablesSync(part.tpl)) if (!(name in constants)) variables.add(name);
  }
  return ok({ format: src.format, notices, variables: [...variables].sort(), textFrom, constants, parts });
}

/** The text part as a Liquid template, if html-to-text kept every Liquid tag in place. */
function textFromHtml(prot: Protected, html: string, fixed: Map<number, ConstantValue>): Part | undefined {
  const converted = htmlToText(html);
  if (checkPieces(prot, converted, 'lost', { text: true }) !== null) return undefined;
  const restored = restore(prot, literalBraces(converted), (i, piece) => {
    const value = fixed.get(i);
    return value ? literalBraces(value.text) : piece.text;
  });
  const parsed = parse(liquid().plain, restored.text, 'body');
  return parsed.ok ? { tpl: parsed.value, engine: 'plain', field: 'body', spans: restored.spans } : undefined;
}

/**
 * Liquid outputs that begin the value of a URL attribute (`href="{{ url }}"`)
 * get a filter that refuses javascript: and data: values at render time: the
 * sanitiser saw only the template, not what a contact's data makes of it.
 */
function urlLeadingOutputs(prot: Protected, urlValues: string[]): Set<number> {
  const leading = new RegExp(`^\\s*(?:${prot.pattern.source}\\s*)+`);
  const found = new Set<number>();
  for (const value of urlValues) {
    const run = leading.exec(value)?.[0];
    if (!run) continue;
    for (const m of run.matchAll(prot.pattern)) {
      const i = Number(m[1]);
      if (prot.pieces[i].kind === 'output') found.add(i);
    }
  }
  return found;
}

/**
 * "{{" or "{%" that a converter produced from the author's entities (&#123;)
 * is text, not Liquid: written as an output of a literal "{" so it stays text.
 */
function literalBraces(text: string): string {
  return text.replace(/\{(?=[{%])/g, "{{ '{' }}");
}

/**
 * Drops the indentation MJML writes (a fifth of its output): leading
 * whitespace on a line only ever renders as the line break before it, except
 * in preformatted text, where the HTML is left as it is. Every recipient's
 * copy is that much smaller to encode, sign and send.
 */
function compact(html: string): string {
  if (/<(pre|textarea|plaintext|xmp)\b|white-space\s*:\s*pre/i.test(html)) return html;
  return html.replace(/\n[ \t]+/g, '\n');
}

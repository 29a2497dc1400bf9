// From the converted HTML (MJML's output, or the author's HTML) to what is
// personalised per recipient: the HTML Liquid template and, unless the author
// wrote one, the text part generated from it. The HTML is sanitised, compacted
// and checked for Liquid that the conversion lost or broke; constant outputs
// are rendered in; outputs that start a URL get the URL guard.
import { fail, ok, type Result } from '../../errors.ts';
import type { Part } from './compile.ts';
import { constantOutputs, type ConstantValue } from './constants.ts';
import { liquid, parse, URL_GUARD } from './liquid.ts';
import { checkPieces, restore, sourcePosition, type Protected } from './placeholders.ts';
import { sanitizeHtml, unsafeUrl, type TemplateNotice } from './sanitize.ts';
import { htmlToText } from './text.ts';

const LOST_IN_MJML = 'does not survive MJML: Liquid may stand only inside content elements (mj-text, mj-button, mj-raw, ' +
  'mj-table, mj-navbar-link, mj-social-element) and in attribute values, not between elements such as mj-section or mj-column';
const LOST_IN_SANITISER = 'was inside something that was stripped (a script, form, frame or object element, an on* handler, a javascript: URL)';

export interface BodyParts {
  html: Part;
  /** absent when not asked for, or when it must be converted per recipient */
  text?: Part;
  notices: TemplateNotice[];
}

export function bodyParts(prot: Protected, converted: string, format: 'mjml' | 'html', constants: Record<string, unknown>, wantText: boolean): Result<BodyParts> {
  // offsets in MJML's output mean nothing to the author; in plain HTML they map back
  const where = format === 'html' ? (offset: number) => `body line ${sourcePosition(prot, offset).line}` : () => '';
  // what MJML lost is told apart from what the sanitiser removed: the fixes differ
  const lostInMjml = format === 'mjml' ? checkPieces(prot, converted, LOST_IN_MJML) : null;
  if (lostInMjml) return fail('request.invalid', lostInMjml, 'body');
  const clean = sanitizeHtml(converted, where);
  const html = compact(clean.html);
  const problem = checkPieces(prot, html, LOST_IN_SANITISER);
  if (problem) return fail('request.invalid', problem, 'body');

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
  const restored = restore(prot, literalBraces(html.replace(/\r?\n/g, '\r\n')), (i, piece) => {
    const value = fixed.value.get(i);
    if (value) return literalBraces(value.html);
    return guarded.has(i) ? piece.text.replace(/\s*(-?\}\})$/, ` | ${URL_GUARD} $1`) : piece.text;
  });
  const parsed = parse(liquid().html, restored.text, 'body');
  if (!parsed.ok) return fail('request.invalid', `${parsed.detail} (after ${format === 'mjml' ? 'MJML' : 'sanitising'})`, 'body');

  const notices = [...clean.notices];
  const text = wantText ? textFromHtml(prot, html, fixed.value) : undefined;
  if (wantText && !text) {
    notices.push({ code: 'text_per_render', detail: 'the text part is converted from each personalised HTML (slower): a Liquid tag sits where the text conversion drops it (an image, a hidden block); give a hand-written text part to avoid this' });
  }
  return ok({ html: { tpl: parsed.value, engine: 'html', field: 'body', spans: restored.spans }, text, notices });
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
 * "{{" or "{%" left in the converted text, from the author's entities
 * (&#123;) or from {% raw %} content, is text, not Liquid: written as an
 * output of a literal "{" so it stays text.
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

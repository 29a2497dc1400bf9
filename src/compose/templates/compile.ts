// Compiling a template does all the per-template work once: Liquid parsing,
// MJML rendering (~2 ms), sanitising, generating the text part, and rendering
// the outputs that read only campaign constants. What is left per recipient
// is three Liquid renders (render.ts).
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
//   - Attributes MJML checks (colours, sizes, paddings) cannot hold Liquid;
//     tags ({% %}) cannot sit where MJML copies or moves them (background-url,
//     mj-attributes); outputs ({{ }}) may.
//   - No include/render/layout, no mj-include: templates never read files.
//   - Outputs in the HTML are always HTML-escaped; `| raw` is refused. An
//     output that starts a URL attribute must not render a javascript: or
//     data: URL (checked per recipient).
//   - A variable without `| default:` must be present for every recipient:
//     undefined, null or blank is a render failure naming it.
//   - Active content (scripts, frames, forms, plugins, on* handlers,
//     javascript: URLs, meta refresh) is stripped and listed in `notices`.
import type { Template } from 'liquidjs';
import { fail, ok, type Result } from '../../errors.ts';
import { bodyParts } from './body.ts';
import { liquid, parse, present } from './liquid.ts';
import { renderMjml } from './mjml.ts';
import { templateVariables } from './variables.ts';
import { protect, type RestoredSpan } from './placeholders.ts';
import type { TemplateNotice } from './sanitize.ts';

export interface TemplateSource {
  format: 'mjml' | 'html';
  subject: string;
  body: string;
  /** hand-written text part (Liquid); absent → generated from the HTML */
  text?: string;
}

export const DEFAULT_MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;
export const MAX_LIQUID_TAGS = 20_000;

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
  const checked = checkSource(src, opts.maxBytes ?? DEFAULT_MAX_TEMPLATE_BYTES);
  if (!checked.ok) return checked;
  const engines = liquid();
  const subject = parse(engines.plain, src.subject, 'subject');
  if (!subject.ok) return fail('request.invalid', subject.detail, 'subject');
  const body = parse(engines.html, src.body, 'body');
  if (!body.ok) return fail('request.invalid', body.detail, 'body');
  const handText = src.text === undefined ? undefined : parse(engines.plain, src.text, 'text');
  if (handText && !handText.ok) return fail('request.invalid', handText.detail, 'text');

  const prot = protect(src.body);
  let converted = prot.text;
  if (src.format === 'mjml') {
    const rendered = await renderMjml(prot);
    if (!rendered.ok) return rendered;
    converted = rendered.value;
  }
  const constants = present(opts.constants ?? {}) as Record<string, unknown>;
  const made = bodyParts(prot, converted, src.format, constants, handText === undefined);
  if (!made.ok) return made;

  const { html, notices } = made.value;
  let text = made.value.text;
  let textFrom: CompiledTemplate['textFrom'] = text ? 'html' : 'html-per-render';
  if (handText) {
    text = { tpl: handText.value, engine: 'plain', field: 'text' };
    textFrom = 'source';
  }
  const parts = { subject: { tpl: subject.value, engine: 'plain' as const, field: 'subject' as const }, html, text };
  const pieces = [...protect(src.subject).pieces, ...prot.pieces, ...(src.text === undefined ? [] : protect(src.text).pieces)];
  const variables = [...templateVariables(pieces)].filter((name) => !(name in constants)).sort();
  return ok({ format: src.format, notices, variables, textFrom, constants, parts });
}

/** What can be refused before parsing anything. */
function checkSource(src: TemplateSource, maxBytes: number): Result<void> {
  const size = Buffer.byteLength(src.subject) + Buffer.byteLength(src.body) + (src.text ? Buffer.byteLength(src.text) : 0);
  if (size > maxBytes) return fail('request.invalid', `the template is ${size} bytes; at most ${maxBytes} are accepted`, 'body');
  // liquidjs parses in time growing with the square of the tag count (~1.6 s at 20,000)
  const tags = [src.subject, src.body, src.text ?? ''].reduce((n, s) => n + (s.match(/\{[{%]/g)?.length ?? 0), 0);
  if (tags > MAX_LIQUID_TAGS) return fail('request.invalid', `the template has ${tags} Liquid tags and outputs; at most ${MAX_LIQUID_TAGS} are accepted`, 'body');
  if (src.format !== 'mjml' && src.format !== 'html') return fail('request.invalid', 'format must be "mjml" or "html"', 'format');
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(src.subject)) {
    return fail('request.invalid', 'subject: contains a line break or control character', 'subject');
  }
  if (src.subject.trim() === '') return fail('request.invalid', 'subject: is empty', 'subject');
  return ok(undefined);
}

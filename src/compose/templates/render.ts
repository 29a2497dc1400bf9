// Per-recipient rendering: three Liquid renders on templates compiled once.
// A failure names the field, the author's line and column, and the Liquid
// that failed, so a campaign report can say which contacts lack which field.
import { fail, ok, type Result } from '../../errors.ts';
import { liquid, liquidProblem, present } from './liquid.ts';
import { pieceAt } from './placeholders.ts';
import { htmlToText } from './text.ts';
import { planOf, renderPlan } from './fast-render.ts';
import type { CompiledTemplate, Part } from './compile.ts';

export interface RenderedTemplate {
  /** one line: line breaks and control characters from personalised values become spaces */
  subject: string;
  /** CRLF line ends, as sent */
  html: string;
  text: string;
}

export function renderTemplate(t: CompiledTemplate, vars: Record<string, unknown>): Result<RenderedTemplate> {
  const scope = { ...(present(vars) as Record<string, unknown>), ...t.constants };
  const subject = run(t.parts.subject, scope);
  if (!subject.ok) return subject;
  // A header can only be made from one line: a personalised value holding
  // "\r\nBcc: …" must stay text in the subject, never become a header.
  const line = subject.value.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ').trim();
  if (line === '') return fail('message.invalid', 'subject: empty after personalisation', 'subject');
  const html = run(t.parts.html, scope);
  if (!html.ok) return html;
  const text = t.parts.text ? run(t.parts.text, scope) : ok(htmlToText(html.value));
  if (!text.ok) return text;
  // Liquid tags converted from HTML leave the lines they stood on empty
  const tidy = t.textFrom === 'html' ? text.value.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n') : text.value;
  return ok({ subject: line, html: html.value, text: tidy });
}

/** each part's plan (fast-render.ts), made on its first render; null: liquidjs renders it */
const plans = new WeakMap<Part, ReturnType<typeof planOf>>();

function run(part: Part, scope: Record<string, unknown>): Result<string> {
  let plan = plans.get(part);
  if (plan === undefined) plans.set(part, (plan = planOf(part.tpl, part.engine)));
  if (plan) {
    const fast = renderPlan(plan, scope);
    if (fast !== undefined) return ok(fast);
  }
  return runLiquid(part, scope);
}

function runLiquid(part: Part, scope: Record<string, unknown>): Result<string> {
  // With strictVariables, liquidjs tests for a missing variable under
  // `| default:` by throwing and catching an error: a stack trace captured
  // for nothing, several times per recipient. No stack is needed here (the
  // failure detail comes from the token), so none is captured while rendering.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    // the engine decides escaping: HTML outputs escaped, subject and text as they are
    return ok(String(liquid()[part.engine].renderSync(part.tpl, scope)));
  } catch (err) {
    const p = liquidProblem(err);
    const piece = part.spans && p.offset !== undefined ? pieceAt(part.spans, p.offset) : undefined;
    const line = piece?.line ?? p.line;
    const column = piece?.column ?? p.column;
    const at = line === undefined ? part.field
      : part.field === 'subject' ? `subject column ${column}` : `${part.field} line ${line}, column ${column}`;
    const undefinedVar = /^undefined variable: (.+)$/.exec(p.message);
    const detail = undefinedVar
      ? `${at}: "${undefinedVar[1]}" is not set${piece ? ` in ${piece.text}` : ''}; give it a default (| default: "…") or a value for every recipient`
      : `${at}: ${p.message}`;
    return fail('message.invalid', detail, part.field);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

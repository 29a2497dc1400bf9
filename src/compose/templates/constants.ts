// Values that are the same for every recipient of a campaign (the offer, the
// campaign's slug, the sender's address) are rendered into the template once,
// at compile time, like the MJML: each is a Liquid output fewer per recipient.
// Only outputs that read nothing but constants qualify, and only where their
// value cannot depend on the recipient: not inside a for/tablerow loop (the
// loop variable may shadow a constant), and not for names the template
// assigns or captures itself.
import { fail, ok, type Result } from '../../errors.ts';
import { liquid, liquidProblem } from './liquid.ts';
import type { Protected } from './placeholders.ts';

export interface ConstantValue {
  /** HTML-escaped, for the HTML part */
  html: string;
  /** as it is, for the text part */
  text: string;
}

const DEFINES = /^\{%-?\s*(?:assign|capture|increment|decrement)\s+([\w-]+)/;
const LOOPS = /^\{%-?\s*(for|tablerow)\b/;
const LOOP_ENDS = /^\{%-?\s*end(for|tablerow)\b/;

/** Pre-rendered values by piece index. `constants` is already cleaned (present()). */
export function constantOutputs(p: Protected, constants: Record<string, unknown>): Result<Map<number, ConstantValue>> {
  const values = new Map<number, ConstantValue>();
  const keys = new Set(Object.keys(constants));
  for (const piece of p.pieces) {
    const defined = DEFINES.exec(piece.text);
    if (defined) keys.delete(defined[1]);
  }
  if (keys.size === 0) return ok(values);
  const { html, plain } = liquid();
  let loops = 0;
  for (let i = 0; i < p.pieces.length; i++) {
    const piece = p.pieces[i];
    if (LOOPS.test(piece.text)) loops++;
    else if (LOOP_ENDS.test(piece.text)) loops--;
    if (piece.kind !== 'output' || loops > 0) continue;
    const tpl = html.parse(piece.text); // parsed before as part of the body: cannot fail here
    const names = html.globalVariablesSync(tpl);
    if (names.length === 0 || !names.every((name) => keys.has(name))) continue;
    try {
      values.set(i, { html: String(html.renderSync(tpl, constants)), text: String(plain.parseAndRenderSync(piece.text, constants)) });
    } catch (err) {
      const detail = liquidProblem(err).message;
      return fail('request.invalid', `body line ${piece.line}, column ${piece.column}: ${piece.text}: ${detail} in the campaign's constant values`, 'body');
    }
  }
  return ok(values);
}

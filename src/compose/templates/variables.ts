// The top-level variables a template reads, for the caller to check against
// its contact fields before sending. liquidjs can analyse a whole template,
// but its analysis grows with the square of the number of Liquid nodes
// (minutes for a large template); here each tag is analysed on its own, and
// names the template defines itself (assign, capture, loop variables) are
// left out.
import { liquid } from './liquid.ts';
import type { Piece } from './placeholders.ts';

const TAG = /^\{%-?\s*([\w#]+)([\s\S]*?)-?%\}$/;
/** How to make a lone block part parseable: the text to put around it. */
const WRAP: Record<string, [string, string]> = {
  if: ['', '{% endif %}'], unless: ['', '{% endunless %}'], case: ['', '{% endcase %}'],
  for: ['', '{% endfor %}'], tablerow: ['', '{% endtablerow %}'], capture: ['', '{% endcapture %}'],
  elsif: ['{% if true %}', '{% endif %}'], when: ['{% case 0 %}', '{% endcase %}'],
};

export function templateVariables(pieces: readonly Piece[]): Set<string> {
  const { html } = liquid();
  const read = new Set<string>();
  const defined = new Set(['forloop', 'tablerowloop']);
  for (const piece of pieces) {
    let source = piece.text;
    if (piece.kind === 'opaque' || piece.kind === 'close') continue;
    if (piece.kind !== 'output') {
      const m = TAG.exec(piece.text);
      if (!m) continue;
      const [, name, rest] = m;
      if (name === 'else' || name === 'raw' || name === 'block') continue;
      const target = /^\s*([\w-]+)/.exec(rest)?.[1];
      if (target && ['assign', 'capture', 'increment', 'decrement', 'for', 'tablerow'].includes(name)) defined.add(target);
      const wrap = WRAP[name];
      if (wrap) source = wrap[0] + piece.text + wrap[1];
    }
    try {
      for (const v of html.globalVariablesSync(html.parse(source))) read.add(v);
    } catch {
      // a part that does not parse alone names nothing we can report
    }
  }
  for (const name of defined) read.delete(name);
  return read;
}

// Liquid has to survive two converters that do not know it: MJML (which drops
// text between its elements and validates attribute values) and html-to-text
// (which upper-cases headings, wraps lines and decodes entities). Each Liquid
// tag is swapped for an inert token before they run and swapped back after;
// the tokens also tell where each tag ended up, so a tag MJML dropped,
// duplicated or moved is a compile error with the author's line and column
// instead of a mail that renders wrong.
//
// Tokens are upper-case letters and digits (unchanged by upper-casing, never
// wrapped, never escaped) with a random nonce, so text cannot forge one.
import crypto from 'node:crypto';
import { Tokenizer, TypeGuards, type TopLevelToken } from 'liquidjs';
import { unbalancedTag } from './html-scan.ts';

/**
 * output: {{ … }}; inline: a tag that stands alone ({% assign %}, {% echo %});
 * open/mid/close: the parts of a block ({% if %} {% else %} {% endif %});
 * opaque: a comment, which renders nothing and may be lost.
 */
export type PieceKind = 'output' | 'inline' | 'open' | 'mid' | 'close' | 'opaque';

export interface Piece {
  kind: PieceKind;
  /** the Liquid text as the author wrote it */
  text: string;
  /** offsets in the source */
  begin: number;
  end: number;
  line: number;
  column: number;
  /** restored as nothing: the {% raw %} delimiters */
  dropped?: boolean;
}

export interface Protected {
  /** the source with every piece replaced by its token */
  text: string;
  pieces: Piece[];
  /** tokens: pieces[i] ↔ token(i) */
  token: (i: number) => string;
  /** matches any token; group 1 is the piece index */
  pattern: RegExp;
  /** offset of each token in `text` */
  at: number[];
  /** line start offsets of the source */
  sourceStarts: number[];
}

const BLOCKS = new Set(['if', 'unless', 'case', 'for', 'tablerow', 'capture', 'block']);
const MIDS = new Set(['else', 'elsif', 'when']);

/** Splits a source that liquidjs has already parsed without error. */
export function protect(source: string): Protected {
  const nonce = Array.from(crypto.randomBytes(8), (b) => String.fromCharCode(65 + (b % 26))).join('');
  const token = (i: number) => `LQ${nonce}N${i}Z`;
  const lines = lineStarts(source);
  const pieces: Piece[] = [];
  const add = (kind: PieceKind, begin: number, end: number, dropped = false) => {
    const { line, column } = position(lines, begin);
    pieces.push({ kind, text: source.slice(begin, end), begin, end, line, column, ...(dropped ? { dropped } : {}) });
  };
  const tokens = new Tokenizer(source).readTopLevelTokens();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (TypeGuards.isOutputToken(t)) add('output', t.begin, t.end);
    if (!TypeGuards.isTagToken(t)) continue;
    if (t.name === 'raw') {
      // The content of {% raw %} is text, and stays in place for MJML and the
      // sanitiser to see (hidden in a token, it would carry a <script> past
      // them); the delimiters go, and braces in it are kept literal later
      // (literalBraces), which is what raw means.
      const close = matchingEnd(tokens, i, 'raw');
      add('opaque', t.begin, t.end, true);
      add('opaque', tokens[close].begin, tokens[close].end, true);
      i = close;
    } else if (t.name === 'comment') {
      // renders nothing: one piece up to the matching end tag
      const close = matchingEnd(tokens, i, t.name);
      add('opaque', t.begin, tokens[close].end);
      i = close;
    } else if (t.name === '#') add('opaque', t.begin, t.end);
    else if (BLOCKS.has(t.name)) add('open', t.begin, t.end);
    else if (MIDS.has(t.name)) add('mid', t.begin, t.end);
    else if (t.name.startsWith('end')) add('close', t.begin, t.end);
    else add('inline', t.begin, t.end);
  }
  let text = '';
  let copied = 0;
  const at: number[] = [];
  pieces.forEach((p, i) => {
    text += source.slice(copied, p.begin);
    at.push(text.length);
    text += token(i);
    copied = p.end;
  });
  text += source.slice(copied);
  return { text, pieces, token, pattern: new RegExp(`LQ${nonce}N(\\d+)Z`, 'g'), at, sourceStarts: lines };
}

function matchingEnd(tokens: TopLevelToken[], from: number, name: string): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (!TypeGuards.isTagToken(t)) continue;
    if (t.name === name) depth++;
    else if (t.name === 'end' + name && --depth === 0) return i;
  }
  return tokens.length - 1; // unreachable after a successful parse
}

/** Where each token occurs in a converted text. */
function occurrences(p: Protected, text: string): Map<number, number[]> {
  const found = new Map<number, number[]>();
  for (const m of text.matchAll(p.pattern)) {
    const i = Number(m[1]);
    const list = found.get(i);
    if (list) list.push(m.index!);
    else found.set(i, [m.index!]);
  }
  return found;
}

/**
 * Checks that the converted HTML still holds every piece where Liquid needs
 * it: tags exactly once and in source order, outputs at least once (MJML
 * repeats some attributes, e.g. background-url for Outlook), and each block
 * branch wrapping whole elements. With `text`, the converted text part: tags
 * in place, outputs optional, no elements. Returns the problem, or null.
 */
export function checkPieces(p: Protected, html: string, lost: string, opts: { field?: string; text?: boolean } = {}): string | null {
  const field = opts.field ?? 'body';
  const found = occurrences(p, html);
  const vanished = opts.text ? vanishedBlocks(p, found) : new Set<number>();
  let last = -1;
  for (let i = 0; i < p.pieces.length; i++) {
    const piece = p.pieces[i];
    const n = found.get(i)?.length ?? 0;
    if (vanished.has(i)) continue;
    const where = `${field} line ${piece.line}, column ${piece.column}`;
    if (piece.kind === 'opaque') {
      if (n > 1) return `${where}: ${clip(piece.text)} was repeated by the conversion`;
      continue;
    }
    // in a text conversion an output may go with its image or hidden block; a tag may not
    if (piece.kind === 'output' && opts.text) continue;
    if (n === 0) return `${where}: ${clip(piece.text)} ${lost}`;
    if (piece.kind === 'output') continue;
    if (n > 1) return `${where}: ${clip(piece.text)} was repeated by the conversion; Liquid tags may not sit in attributes MJML copies (background-url)`;
    const pos = found.get(i)![0];
    if (pos < last) return `${where}: ${clip(piece.text)} was moved by the conversion (it is in mj-head or an attribute MJML relocates)`;
    last = pos;
  }
  // text has no elements to balance
  return opts.text ? null : unbalancedBlock(p, html, found, field);
}

/**
 * Blocks that left no trace in a text conversion, all their parts and all
 * they enclose (`class="{% if vip %}gold{% endif %}"`): as if never written.
 */
function vanishedBlocks(p: Protected, found: Map<number, number[]>): Set<number> {
  const gone = new Set<number>();
  const open: number[] = [];
  for (let i = 0; i < p.pieces.length; i++) {
    if (p.pieces[i].kind === 'open') open.push(i);
    else if (p.pieces[i].kind === 'close' && open.length > 0) {
      const first = open.pop()!;
      let none = true;
      for (let k = first; k <= i && none; k++) none = !found.has(k);
      if (none) for (let k = first; k <= i; k++) gone.add(k);
    }
  }
  return gone;
}

function unbalancedBlock(p: Protected, html: string, found: Map<number, number[]>, field: string): string | null {
  const open: number[][] = []; // per open block: the indices of its parts so far
  for (let i = 0; i < p.pieces.length; i++) {
    const kind = p.pieces[i].kind;
    if (kind === 'open') open.push([i]);
    else if (kind === 'mid' && open.length > 0) open[open.length - 1].push(i);
    else if (kind === 'close' && open.length > 0) {
      const parts = [...open.pop()!, i];
      for (let k = 0; k + 1 < parts.length; k++) {
        const from = found.get(parts[k])![0] + p.token(parts[k]).length;
        const bad = unbalancedTag(html, from, found.get(parts[k + 1])![0]);
        if (bad === null) continue;
        const first = p.pieces[parts[0]];
        const end = p.pieces[i];
        return `${field} line ${first.line}, column ${first.column}: the Liquid block ${clip(first.text)} … ${clip(end.text)} ` +
          `(line ${end.line}) does not wrap whole elements: ${bad} crosses its edge, so one branch would leave broken HTML. ` +
          'Put the whole element inside the block (with MJML: inside one mj-text, mj-button or mj-raw)';
      }
    }
  }
  return null;
}

export interface RestoredSpan {
  begin: number;
  end: number;
  piece: Piece;
}

/**
 * Puts the Liquid back. `rewrite` may change a piece's text at restore time
 * (the URL guard filter); returns the spans, for mapping render errors back.
 */
export function restore(p: Protected, text: string, rewrite?: (i: number, piece: Piece) => string): { text: string; spans: RestoredSpan[] } {
  let out = '';
  let copied = 0;
  const spans: RestoredSpan[] = [];
  for (const m of text.matchAll(p.pattern)) {
    const i = Number(m[1]);
    const piece = p.pieces[i];
    out += text.slice(copied, m.index);
    const replacement = piece.dropped ? '' : rewrite ? rewrite(i, piece) : piece.text;
    spans.push({ begin: out.length, end: out.length + replacement.length, piece });
    out += replacement;
    copied = m.index! + m[0].length;
  }
  return { text: out + text.slice(copied), spans };
}

/** The piece whose restored text holds `offset`, if any. */
export function pieceAt(spans: RestoredSpan[], offset: number): Piece | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid].end <= offset) lo = mid + 1;
    else if (spans[mid].begin > offset) hi = mid - 1;
    else return spans[mid].piece;
  }
  return undefined;
}

/** Position in the source of an offset in the protected text (a token maps to its tag's start). */
export function sourcePosition(p: Protected, offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = p.at.length - 1;
  let i = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (p.at[mid] <= offset) {
      i = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  let source = offset;
  if (i >= 0) {
    const tokenEnd = p.at[i] + p.token(i).length;
    source = offset < tokenEnd ? p.pieces[i].begin : p.pieces[i].end + (offset - tokenEnd);
  }
  return position(p.sourceStarts, source);
}

/** Line (1-based) in the source of a line of the protected text: tags may span lines. */
export function sourceLine(p: Protected, protectedLine: number): number {
  const starts = lineStarts(p.text);
  return sourcePosition(p, starts[Math.max(0, Math.min(protectedLine, starts.length) - 1)]).line;
}

export function lineStarts(s: string): number[] {
  const starts = [0];
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

export const clip = (s: string) => (s.length > 60 ? s.slice(0, 57) + '…' : s);

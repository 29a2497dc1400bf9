// A small HTML tag lexer, enough for the two questions templates ask of their
// HTML: "what elements and attributes are there" (the sanitiser) and "does
// this stretch between two Liquid tags open and close the same elements" (the
// block check). It follows the HTML tokenizer where that matters for safety:
// "/" separates attributes like whitespace (`<a/onclick=…>`), quoted values may
// hold ">", and the content of script/style/textarea/title is raw text, so a
// "<p>" inside a script is not an element.

export interface Attr {
  /** lower case */
  name: string;
  /** the value as written (entities not decoded); '' for a bare attribute */
  value: string;
}

export interface Tag {
  kind: 'tag';
  /** lower case */
  name: string;
  closing: boolean;
  selfClosing: boolean;
  attrs: Attr[];
  start: number;
  /** offset just after the ">" */
  end: number;
}

export interface Skipped {
  /** a comment, doctype or processing instruction: copied through, never looked into */
  kind: 'other';
  start: number;
  end: number;
}

/** Elements whose content is text up to their closing tag. */
export const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes']);
/** Elements without content: never closed. */
export const VOID = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr',
]);

const NAME_START = /[A-Za-z]/;

/**
 * The next tag or comment at or after `from`, or null at the end. Text between
 * tags is not returned: callers copy it by offset.
 */
export function nextTag(html: string, from: number): Tag | Skipped | null {
  let lt = html.indexOf('<', from);
  while (lt !== -1) {
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      return { kind: 'other', start: lt, end: close === -1 ? html.length : close + 3 };
    }
    const c = html[lt + 1];
    if (c === '!' || c === '?') {
      const close = html.indexOf('>', lt + 2);
      return { kind: 'other', start: lt, end: close === -1 ? html.length : close + 1 };
    }
    const closing = c === '/';
    const nameAt = closing ? lt + 2 : lt + 1;
    if (nameAt < html.length && NAME_START.test(html[nameAt])) return readTag(html, lt, nameAt, closing);
    lt = html.indexOf('<', lt + 1); // a lone "<" is text
  }
  return null;
}

function readTag(html: string, start: number, nameAt: number, closing: boolean): Tag {
  let i = nameAt;
  while (i < html.length && !/[\s/>]/.test(html[i])) i++;
  const name = html.slice(nameAt, i).toLowerCase();
  const attrs: Attr[] = [];
  let selfClosing = false;
  while (i < html.length) {
    const ch = html[i];
    if (ch === '>') return { kind: 'tag', name, closing, selfClosing, attrs, start, end: i + 1 };
    if (ch === '/') {
      selfClosing = html[i + 1] === '>';
      i++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    selfClosing = false;
    const nameStart = i;
    i++; // the first character may be "=", as the HTML tokenizer allows
    while (i < html.length && !/[\s/>=]/.test(html[i])) i++;
    const attrName = html.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < html.length && /\s/.test(html[j])) j++;
    if (html[j] !== '=') {
      attrs.push({ name: attrName, value: '' });
      continue;
    }
    j++;
    while (j < html.length && /\s/.test(html[j])) j++;
    const q = html[j];
    if (q === '"' || q === "'") {
      const close = html.indexOf(q, j + 1);
      const stop = close === -1 ? html.length : close;
      attrs.push({ name: attrName, value: html.slice(j + 1, stop) });
      i = close === -1 ? html.length : close + 1;
    } else {
      let k = j;
      while (k < html.length && !/[\s>]/.test(html[k])) k++;
      attrs.push({ name: attrName, value: html.slice(j, k) });
      i = k;
    }
  }
  return { kind: 'tag', name, closing, selfClosing, attrs, start, end: html.length };
}

/** Offset of the closing tag of a raw-text element opened before `from` (or the end of the input). */
export function rawTextEnd(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}[\\s/>]`, 'gi');
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index : html.length;
}

/** Elements whose end tag HTML lets an author leave out (`<li>a<li>b`). */
const OPTIONAL_END = new Set(['li', 'p', 'td', 'th', 'tr', 'thead', 'tbody', 'tfoot', 'option', 'optgroup', 'dt', 'dd', 'colgroup', 'rt', 'rp']);

/**
 * Whether a stretch of HTML closes only what it opened: no end tag reaches
 * outside it and no element is left open, except those with optional end tags.
 * Returns the first offending tag's name, or null when balanced.
 */
export function unbalancedTag(html: string, from: number, to: number): string | null {
  const stack: string[] = [];
  let pos = from;
  for (let t = nextTag(html, pos); t && t.start < to; t = nextTag(html, pos)) {
    pos = t.end;
    if (t.kind === 'other') continue;
    if (t.closing) {
      while (stack.length > 0 && stack[stack.length - 1] !== t.name && OPTIONAL_END.has(stack[stack.length - 1])) stack.pop();
      if (stack.pop() !== t.name) return `</${t.name}>`;
      continue;
    }
    if (VOID.has(t.name) || t.selfClosing) continue;
    stack.push(t.name);
    if (RAW_TEXT.has(t.name)) pos = rawTextEnd(html, t.name, t.end); // its closing tag is read next
  }
  const open = stack.find((name) => !OPTIONAL_END.has(name));
  return open === undefined ? null : `<${open}>`;
}

// Text helpers for the lint: folding for case- and accent-insensitive
// matching, with a map back to the original so excerpts keep the sender's
// own spelling; excerpts and clipping.

/** Folded text and, for each of its UTF-16 units, the offset in the original. */
export interface Folded {
  text: string;
  /** map[i] = offset in the original of folded unit i; map[text.length] = original length */
  map: number[];
}

// Letters NFD does not decompose, and punctuation variants a word processor
// puts in ("l’offre" must match a lexicon's "l'offre").
const SPECIAL: Record<string, string> = {
  'œ': 'oe', 'æ': 'ae', 'ß': 'ss', 'ø': 'o', 'ł': 'l', 'đ': 'd', 'ı': 'i',
  '’': "'", '‘': "'", 'ʼ': "'", '´': "'", '\u00a0': ' ', '\u202f': ' ',
  '‐': '-', '‑': '-', '–': '-', '—': '-',
};

/** Lower case, without diacritics: "Médicaments" → "medicaments". */
export function fold(s: string): Folded {
  let text = '';
  const map: number[] = [];
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    let f: string;
    if (cp < 0x80) f = cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : s[i];
    else {
      const lower = String.fromCodePoint(cp).toLowerCase();
      f = SPECIAL[lower] ?? lower.normalize('NFD').replace(/\p{M}/gu, '');
    }
    for (let k = 0; k < f.length; k++) map.push(i);
    text += f;
    i += width;
  }
  map.push(s.length);
  return { text, map };
}

export function foldText(s: string): string {
  return fold(s).text;
}

/** Words of a folded text (letters and digits; apostrophes and hyphens split). */
export function words(folded: string): string[] {
  return folded.match(/[\p{L}\p{N}]+/gu) ?? [];
}

export function clip(s: string, max = 120): string {
  const one = s.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  return safeSlice(one, 0, max - 1) + '…';
}

/** The text around [start, end) of the original, whitespace collapsed, ≤ max chars. */
export function excerptAround(s: string, start: number, end: number, max = 120): string {
  const hit = Math.min(end - start, max - 2);
  const side = Math.max(0, Math.floor((max - 2 - hit) / 2));
  const a = Math.max(0, start - side);
  const b = Math.min(s.length, start + hit + side);
  let out = safeSlice(s, a, b).replace(/\s+/g, ' ').trim();
  if (a > 0) out = '…' + out;
  if (b < s.length) out += '…';
  return clip(out, max);
}

// Never cut a surrogate pair in two: the excerpt goes to JSON and to a UI.
function safeSlice(s: string, a: number, b: number): string {
  if (a > 0 && isLow(s.charCodeAt(a))) a--;
  if (b < s.length && isLow(s.charCodeAt(b))) b--;
  return s.slice(a, b);
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

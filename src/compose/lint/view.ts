// The message as every check sees it, built once: the HTML scanned once, the
// texts folded once, the links of both parts in one list.
import { scanHtml, type HtmlImage } from './html.ts';
import { fold, type Folded } from './text.ts';
import type { LintInput, Where } from './types.ts';

export interface Link {
  href: string;
  /** the text a reader sees for the link ('' for URLs written out in the text part) */
  text: string;
  where: 'html' | 'text';
}

/** A piece of text the lexicons read, with where it comes from. */
export interface Source {
  where: Where;
  text: string;
  folded: Folded;
}

export interface MessageView {
  input: LintInput;
  /** UTF-8 size of the HTML part, 0 without one */
  htmlBytes: number;
  /** visible text of the HTML part */
  htmlText: string;
  /** the text part, '' without one */
  text: string;
  links: Link[];
  images: HtmlImage[];
  /** subject, text part, HTML text, image alts, link hosts and paths */
  sources: Source[];
}

// URLs written out in a text part; trailing sentence punctuation is not part of them
const TEXT_URL = /\bhttps?:\/\/[^\s<>"]+/gi;

export function buildView(input: LintInput): MessageView {
  const html = input.html ?? '';
  const scan = html.trim() ? scanHtml(html) : { text: '', links: [], images: [] };
  const text = input.text ?? '';
  const links: Link[] = scan.links.map((l) => ({ ...l, where: 'html' as const }));
  for (const m of text.matchAll(TEXT_URL)) {
    links.push({ href: m[0].replace(/[.,;:!?)\]'’]+$/, ''), text: '', where: 'text' });
  }
  const sources: Source[] = [];
  const add = (where: Where, s: string) => {
    if (s.trim()) sources.push({ where, text: s, folded: fold(s) });
  };
  add('subject', input.subject);
  add('text', text);
  add('html', scan.text);
  add('html', scan.images.map((i) => i.alt ?? '').filter(Boolean).join('\n'));
  // "best-casino.example/poker-tips" says as much as the text around it; one
  // source per address, so that an excerpt shows that address alone
  const seen = new Set<string>();
  for (const l of links) {
    const words = urlWords(l.href);
    if (!seen.has(words)) add(l.where, words);
    seen.add(words);
  }
  return {
    input,
    htmlBytes: Buffer.byteLength(html, 'utf8'),
    htmlText: scan.text,
    text,
    links,
    images: scan.images,
    sources,
  };
}

/** Host and path of a web link (the query is tracking noise); '' for anything else. */
function urlWords(href: string): string {
  if (!/^https?:/i.test(href)) return '';
  try {
    const u = new URL(href);
    return u.hostname + safeDecode(u.pathname);
  } catch {
    return '';
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

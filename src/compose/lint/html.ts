// What the lint reads from an HTML part: the visible text, the links with
// their text, the images with their alt.
//
// Why no HTML parser dependency: html-to-text (already a dependency, built on
// htmlparser2) gives the visible text with every entity decoded; links and
// images need only the attributes of two tags, which a tolerant scan finds.
// The scan never throws on the broken markup templates produce, runs in
// linear time whatever the input (a tenant's preview cannot stall it), and
// does not turn a transitive dependency into a direct one.
import { compile } from 'html-to-text';

export interface HtmlLink {
  /** the href, entities decoded, not trimmed of anything but surrounding spaces */
  href: string;
  /** the link's text; when it has none, the alt of an image inside it */
  text: string;
}

export interface HtmlImage {
  src: string;
  /** undefined when the attribute is absent; '' marks a decorative image */
  alt?: string;
  width?: string;
  height?: string;
}

export interface HtmlScan {
  text: string;
  links: HtmlLink[];
  images: HtmlImage[];
}

let converter: ((html: string) => string) | undefined;

/** The visible text, as a reader sees it: no markup, no hrefs, no alt, headings in their own case. */
export function visibleText(html: string): string {
  converter ??= compile({
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } }, { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } }, { selector: 'h4', options: { uppercase: false } },
      { selector: 'h5', options: { uppercase: false } }, { selector: 'h6', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  });
  // html-to-text reads only <body>, but mail clients also show what follows
  // </body> or </html>: unwrap the document, leaving the head out
  const unwrapped = html
    .replace(/<head\b[\s\S]*?(?:<\/head\s*>|(?=<body\b))/i, ' ')
    .replace(/<\/?(?:html|body)\b[^>]*>/gi, ' ');
  return converter(unwrapped);
}

export function scanHtml(html: string): HtmlScan {
  const links: HtmlLink[] = [];
  const images: HtmlImage[] = [];
  const markup = stripInvisible(html);
  let open: { href: string; from: number; alt: string } | undefined;
  const closeLink = (at: number) => {
    if (!open) return;
    const text = decodeEntities(markup.slice(open.from, at).replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
    links.push({ href: open.href, text: text || open.alt });
    open = undefined;
  };
  for (const tag of tags(markup)) {
    if (tag.name === 'a') {
      // a new <a> closes an unclosed one, as browsers do
      closeLink(tag.start);
      if (tag.close) continue;
      const href = attributes(tag.attrs).get('href');
      if (href !== undefined) open = { href: href.trim(), from: tag.end, alt: '' };
    } else if (tag.name === 'img' && !tag.close) {
      const a = attributes(tag.attrs);
      const image: HtmlImage = { src: (a.get('src') ?? '').trim(), alt: a.get('alt') };
      if (a.has('width')) image.width = a.get('width');
      if (a.has('height')) image.height = a.get('height');
      images.push(image);
      if (open && image.alt) open.alt ||= image.alt.trim();
    }
  }
  closeLink(markup.length);
  return { text: visibleText(html), links, images };
}

// Comments (Outlook's <!--[if mso]> blocks included: the other branch carries
// the same links), scripts, styles and the title are not part of the message
// a reader sees. An unclosed one runs to the end, as in a browser.
function stripInvisible(html: string): string {
  return html.replace(/<!--[\s\S]*?(?:-->|$)|<(script|style|title)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ');
}

interface Tag {
  name: string;
  close: boolean;
  attrs: string;
  start: number;
  end: number;
}

const OPEN = /<(\/?)([a-zA-Z][\w:-]*)/y;

// One pass, each character read once: a quote opens only right after "=" (as
// in the HTML tokenizer), and an unclosed quote ends the scan.
function* tags(html: string): Generator<Tag> {
  for (let i = html.indexOf('<'); i !== -1; i = html.indexOf('<', i)) {
    OPEN.lastIndex = i;
    const m = OPEN.exec(html);
    if (!m) {
      i++;
      continue;
    }
    let j = i + m[0].length;
    let quote = '';
    let afterEquals = false;
    for (; j < html.length; j++) {
      const c = html[j];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '>') break;
      else if ((c === '"' || c === "'") && afterEquals) quote = c;
      else if (c === '=') afterEquals = true;
      else if (!/\s/.test(c)) afterEquals = false;
    }
    yield { name: m[2].toLowerCase(), close: m[1] === '/', attrs: html.slice(i + m[0].length, j), start: i, end: Math.min(j + 1, html.length) };
    i = j + 1;
  }
}

const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s>]*)))?/g;

function attributes(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of s.matchAll(ATTR)) {
    const name = m[1].toLowerCase();
    // the first occurrence wins, as in browsers
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * Enough of HTML's character references for attributes and link text (URLs,
 * domains): numeric ones and the five XML names plus nbsp. Visible text goes
 * through html-to-text, which knows them all.
 */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));?/g, (all, dec, hex, name) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? all;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex, 16);
    return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  });
}

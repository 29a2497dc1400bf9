// Active content in a template's HTML is stripped, and each removal is listed
// as a notice. Stripped rather than refused, consistently for every kind:
// no mail client runs scripts, submits forms or loads frames, so removing
// them never changes what a reader sees, while their presence gets mail
// filtered as suspicious. HTML exported from editors and landing-page tools
// often carries an analytics script or a form; refusing would make the author
// hand-edit a file for no visible difference, and the notices say exactly
// what went. What is stripped:
//   - script, iframe/frame/frameset, object/embed/applet, form and its
//     controls (input, button, select, textarea): the element and its content
//   - on* event-handler attributes
//   - javascript:/vbscript: URLs and data: URLs other than images, in any
//     URL attribute (entity-encoded and whitespace-split spellings included)
//   - <meta http-equiv="refresh">
import { nextTag, RAW_TEXT, rawTextEnd, type Attr, type Tag } from './html-scan.ts';

export type NoticeCode = 'script' | 'frame' | 'object' | 'form' | 'event_handler' | 'unsafe_url' | 'meta_refresh' | 'text_per_render';

export interface TemplateNotice {
  code: NoticeCode;
  detail: string;
}

const REMOVE_WITH_CONTENT: Record<string, NoticeCode> = {
  script: 'script', iframe: 'frame', frame: 'frame', frameset: 'frame', object: 'object', applet: 'object',
  form: 'form', button: 'form', select: 'form', textarea: 'form',
};
const REMOVE_TAG: Record<string, NoticeCode> = { embed: 'object', input: 'form' };
const WHY: Record<NoticeCode, string> = {
  script: 'mail clients never run scripts',
  frame: 'mail clients do not load frames',
  object: 'mail clients do not run plugins',
  form: 'forms do not work in mail clients',
  event_handler: 'mail clients never run scripts',
  unsafe_url: 'a script URL in a mail is a phishing marker',
  meta_refresh: 'a redirecting mail is a phishing marker',
  text_per_render: '',
};

export const URL_ATTRS = new Set([
  'href', 'src', 'action', 'formaction', 'background', 'poster', 'cite', 'longdesc', 'lowsrc', 'dynsrc', 'xlink:href', 'srcset', 'data',
]);

export interface Sanitized {
  html: string;
  notices: TemplateNotice[];
  /** URL attribute values, as kept: the caller checks those that start with Liquid */
  urlValues: string[];
}

/** `where(offset)` names a place for notices ("body line 3"), or '' when offsets mean nothing to the author. */
export function sanitizeHtml(html: string, where: (offset: number) => string): Sanitized {
  const notices: TemplateNotice[] = [];
  const urlValues: string[] = [];
  const note = (code: NoticeCode, what: string, offset: number) => {
    const at = where(offset);
    notices.push({ code, detail: `${at ? at + ': ' : ''}removed ${what} (${WHY[code]})` });
  };
  let out = '';
  let copied = 0;
  let pos = 0;
  for (let t = nextTag(html, pos); t; t = nextTag(html, pos)) {
    pos = t.end;
    if (t.kind === 'other') continue;
    const cut = (to: number) => {
      out += html.slice(copied, t.start);
      copied = to;
      pos = to;
    };
    const whole = REMOVE_WITH_CONTENT[t.name];
    if (whole && !t.closing) {
      cut(elementEnd(html, t));
      note(whole, describe(t), t.start);
      continue;
    }
    if (whole || REMOVE_TAG[t.name]) {
      // a stray end tag, or a void element: only the tag goes
      cut(t.end);
      if (!t.closing) note(REMOVE_TAG[t.name], describe(t), t.start);
      continue;
    }
    if (t.closing) continue;
    if (t.name === 'meta' && t.attrs.some((a) => a.name === 'http-equiv' && /^\s*refresh\s*$/i.test(decode(a.value)))) {
      cut(t.end);
      note('meta_refresh', describe(t), t.start);
      continue;
    }
    const kept = t.attrs.filter((a) => {
      if (/^on/.test(a.name)) {
        note('event_handler', `the ${a.name} attribute of <${t.name}>`, t.start);
        return false;
      }
      if (URL_ATTRS.has(a.name)) {
        if (unsafeUrlAttr(a)) {
          note('unsafe_url', `${a.name}="${clip(a.value)}" from <${t.name}>`, t.start);
          return false;
        }
        urlValues.push(a.value);
      }
      return true;
    });
    if (kept.length !== t.attrs.length) {
      cut(t.end);
      out += rebuild(t, kept);
    }
    if (RAW_TEXT.has(t.name)) pos = rawTextEnd(html, t.name, t.end);
  }
  return { html: out + html.slice(copied), notices, urlValues };
}

/** End of an element with its content: the matching end tag, or just the start tag when there is none. */
function elementEnd(html: string, start: Tag): number {
  if (RAW_TEXT.has(start.name)) {
    const close = rawTextEnd(html, start.name, start.end);
    const gt = html.indexOf('>', close);
    return close === html.length ? html.length : gt === -1 ? html.length : gt + 1;
  }
  let depth = 1;
  let pos = start.end;
  for (let t = nextTag(html, pos); t; t = nextTag(html, pos)) {
    pos = t.end;
    if (t.kind !== 'tag' || t.name !== start.name) continue;
    depth += t.closing ? -1 : t.selfClosing ? 0 : 1;
    if (depth === 0) return t.end;
  }
  return start.end;
}

function rebuild(t: Tag, attrs: Attr[]): string {
  const parts = attrs.map((a) => {
    if (a.value === '') return a.name;
    const q = a.value.includes('"') ? "'" : '"';
    return `${a.name}=${q}${a.value}${q}`;
  });
  return `<${t.name}${parts.length ? ' ' + parts.join(' ') : ''}${t.selfClosing ? ' /' : ''}>`;
}

function unsafeUrlAttr(a: Attr): boolean {
  const values = a.name === 'srcset' ? a.value.split(',') : [a.value];
  return values.some((v) => unsafeUrl(decode(v)));
}

/**
 * A URL that runs code or carries a document: javascript:, vbscript:, and
 * data: other than raster images. Browsers ignore ASCII whitespace and
 * controls inside the scheme, so those are removed before looking.
 */
export function unsafeUrl(url: string): boolean {
  const compact = url.replace(/[\u0000-\u0020]+/g, '').toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(compact)?.[1];
  if (scheme === 'javascript' || scheme === 'vbscript' || scheme === 'livescript') return true;
  return scheme === 'data' && !/^data:image\/(png|gif|jpe?g|webp)[;,]/.test(compact);
}

const NAMED: Record<string, string> = { colon: ':', tab: '\t', newline: '\n', lpar: '(', rpar: ')', amp: '&', quot: '"', apos: "'" };

/** Decodes the character references that can hide a scheme (`jav&#x61;script&colon;`). */
function decode(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]+)|#([0-9]+)|([a-z]+));?/gi, (m, hex: string, dec: string, name: string) => {
    if (name) return NAMED[name.toLowerCase()] ?? m;
    const code = parseInt(hex ?? dec, hex ? 16 : 10);
    return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
  });
}

function describe(t: Tag): string {
  const src = t.attrs.find((a) => a.name === 'src' || a.name === 'action' || a.name === 'data');
  return `<${t.name}${src ? ` ${src.name}="${clip(src.value)}"` : ''}>`;
}

const clip = (s: string) => (s.length > 60 ? s.slice(0, 57) + '…' : s);

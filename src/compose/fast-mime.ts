// Campaign MIME: one multipart/alternative (text, then HTML) per recipient.
//
// Hand-written instead of MailComposer because of where it runs: a campaign
// builds the same shape millions of times with only a few headers and the
// bodies changing. MailComposer builds a tree of MIME nodes, parses and
// re-encodes every header and streams each part, per message (~1,200
// messages/s/core for a 12 KB message); here the constant headers are encoded
// once in prepareMime, and buildMime only encodes what changes and joins
// strings. Header encoded-words are nodemailer's (mime-funcs); the body's
// quoted-printable is our own for speed (see quotedPrintable). The tests parse
// the output and compare it with MailComposer's for the same content.
//
// Output: CRLF line ends, header lines folded at whitespace to ≤ 78
// characters (≤ 998 or an error), bodies quoted-printable in lines ≤ 76.
// A line starting with "From " or "." is encoded (=46rom, =2E): mbox-style
// relays rewrite the first to ">From" and careless ones eat the dot, and
// either would break the DKIM body hash.
import crypto from 'node:crypto';
import { encodeWord, encodeWords } from 'nodemailer/lib/mime-funcs';

export interface Mailbox {
  name?: string;
  /** an ASCII address (IDN domains in punycode): SMTPUTF8 mail is not built here */
  email: string;
}

/**
 * A header value. Address headers (From, To, Cc, Reply-To, Sender) take
 * mailboxes, or an ASCII string already formatted. Other values are text:
 * non-ASCII becomes RFC 2047 encoded-words, except in structured headers
 * (Message-ID, References, List-*, Feedback-ID, …), which must be ASCII.
 * Line breaks and other control characters become spaces, always: no value
 * can start another header.
 */
export type HeaderValue = string | Mailbox | Mailbox[];
export type HeaderList = [name: string, value: HeaderValue][];

export interface MimeShape {
  /** headers every message of the campaign carries (From, Reply-To, List-Id, Feedback-ID…) */
  headers: HeaderList;
  /** boundary start, default "envoi"; a random part is added */
  boundaryPrefix?: string;
}

export interface Prepared {
  /** the encoded constant header lines */
  readonly head: string;
  /** lower-case names in `head`, which a message may not repeat */
  readonly names: ReadonlySet<string>;
  /** one boundary per campaign: it cannot occur in quoted-printable output ("=_" is always encoded as =3D_) */
  readonly boundary: string;
}

export interface MimeContent {
  /** per-recipient headers, in order: To, Subject, Message-ID, List-Unsubscribe… */
  headers: HeaderList;
  text: string;
  html: string;
  date: Date;
}

const ADDRESS = new Set(['from', 'to', 'cc', 'reply-to', 'sender']);
const STRUCTURED = new Set([
  'message-id', 'in-reply-to', 'references', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-help',
  'list-subscribe', 'list-post', 'list-owner', 'list-archive', 'feedback-id', 'precedence', 'auto-submitted',
  'return-path', 'received', 'dkim-signature', 'content-language',
]);
/** written by buildMime itself; Bcc must never travel in a header */
const RESERVED = new Set(['date', 'mime-version', 'content-type', 'content-transfer-encoding', 'bcc']);
const HEADER_NAME = /^[!-9;-~]+$/;
const BOUNDARY_PREFIX = /^[0-9A-Za-z'()+_,\-./:?]{0,40}$/;
const MAX_LINE = 78;

export function prepareMime(shape: MimeShape): Prepared {
  const prefix = shape.boundaryPrefix ?? 'envoi';
  if (!BOUNDARY_PREFIX.test(prefix)) throw new TypeError(`boundary prefix ${JSON.stringify(prefix)} has characters a boundary may not hold`);
  const names = new Set<string>();
  let head = '';
  for (const [name, value] of shape.headers) {
    head += encodeHeader(name, value);
    names.add(name.toLowerCase());
  }
  return { head, names, boundary: `${prefix}=_${crypto.randomBytes(15).toString('base64url')}` };
}

export function buildMime(p: Prepared, m: MimeContent): Buffer {
  let head = p.head;
  for (const [name, value] of m.headers) {
    if (p.names.has(name.toLowerCase())) throw new TypeError(`header ${name} is already among the campaign's constant headers`);
    head += encodeHeader(name, value);
  }
  if (Number.isNaN(m.date.getTime())) throw new TypeError('invalid Date');
  const text = quotedPrintable(m.text);
  const html = quotedPrintable(m.html);
  let boundary = p.boundary;
  // cannot happen with quoted-printable, checked all the same: a boundary inside a body would cut it short
  while (text.includes(boundary) || html.includes(boundary)) boundary = `envoi=_${crypto.randomBytes(15).toString('base64url')}`;
  const out = head +
    `Date: ${m.date.toUTCString().replace('GMT', '+0000')}\r\n` +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n` +
    '\r\n' +
    `--${boundary}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
    text +
    `\r\n--${boundary}\r\n` +
    'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
    html +
    `\r\n--${boundary}--\r\n`;
  // every character is ASCII by now: latin1 is the cheapest exact conversion
  return Buffer.from(out, 'latin1');
}

/** One header field, encoded and folded, with its CRLF. Throws on a value that cannot be a header (a programming error). */
export function encodeHeader(name: string, value: HeaderValue): string {
  if (!HEADER_NAME.test(name)) throw new TypeError(`not a header name: ${JSON.stringify(name)}`);
  const key = name.toLowerCase();
  if (RESERVED.has(key)) throw new TypeError(`header ${name} is written by the MIME builder, not passed in`);
  let encoded: string;
  if (typeof value !== 'string') {
    if (!ADDRESS.has(key)) throw new TypeError(`header ${name} does not take mailboxes`);
    encoded = (Array.isArray(value) ? value : [value]).map(mailbox).join(', ');
  } else {
    const clean = oneLine(value);
    if (ADDRESS.has(key) || STRUCTURED.has(key)) {
      if (/[^\x20-\x7e]/.test(clean)) throw new TypeError(`header ${name} must be ASCII (encoded-words are not allowed there)`);
      encoded = clean;
    } else encoded = unstructured(clean);
  }
  return fold(`${name}: ${encoded}`);
}

/** C0 controls, DEL and Unicode line separators become spaces. */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, ' ');

/** Unstructured text (Subject, X-…): encoded-words when needed, or when a word is too long to fold. */
function unstructured(value: string): string {
  // a literal "=?…?=" would be decoded by readers: encoded whole, it reads as written
  if (value.includes('=?')) return encodeWord(value, encoding(value), 52);
  if (/[^\x20-\x7e]/.test(value)) return encodeWords(value, encoding(value), 52, true);
  if (/\S{900}/.test(value)) return encodeWord(value, 'Q', 52);
  return value;
}

/** Q for mostly-ASCII text (readable, shorter), B when most characters need escaping. */
function encoding(value: string): 'Q' | 'B' {
  const nonAscii = value.replace(/[\x20-\x7e]/g, '').length;
  return nonAscii * 2 > value.length ? 'B' : 'Q';
}

const ADDR = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+$/;
const ATOMS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$/;

function mailbox(m: Mailbox): string {
  if (!ADDR.test(m.email)) throw new TypeError(`not an ASCII address: ${JSON.stringify(m.email)}`);
  const name = oneLine(m.name ?? '').trim();
  if (name === '') return m.email;
  let phrase: string;
  if (ATOMS.test(name) && !name.includes('=?')) phrase = name;
  else if (/^[\x20-\x7e]*$/.test(name)) phrase = `"${name.replace(/["\\]/g, '\\$&')}"`;
  else phrase = encodeWord(name, encoding(name), 52);
  return `${phrase} <${m.email}>`;
}

/**
 * Folds at whitespace (CRLF inserted before a space, so unfolding restores
 * the value exactly) into lines of ≤ 78 characters. A run without
 * whitespace longer than that stays on one line; over 998 is an error.
 */
export function fold(line: string): string {
  if (line.length <= MAX_LINE) return line + '\r\n';
  // the first fold may come right after the colon (a value may start with FWS), never inside the name
  const valueStart = line.indexOf(':') + 1;
  let out = '';
  let start = 0;
  while (line.length - start > MAX_LINE) {
    let cut = line.lastIndexOf(' ', start + MAX_LINE);
    // the piece before the cut must hold more than whitespace
    while (cut > start && line[cut - 1] === ' ') cut = line.lastIndexOf(' ', cut - 1);
    if (cut <= start || cut < valueStart) {
      cut = line.indexOf(' ', Math.max(start + MAX_LINE, valueStart));
      while (cut !== -1 && line[cut - 1] === ' ') cut = line.indexOf(' ', cut + 1);
      if (cut === -1) break;
    }
    out += checkLength(line.slice(start, cut)) + '\r\n';
    start = cut;
  }
  return out + checkLength(line.slice(start)) + '\r\n';
}

function checkLength(piece: string): string {
  if (piece.length > 998) throw new TypeError(`header line of ${piece.length} characters cannot be folded under 998: ${piece.slice(0, 40)}…`);
  return piece;
}

/**
 * Quoted-printable (RFC 2045 §6.7) with CRLF line ends and lines ≤ 76.
 *
 * Our own encoder, not nodemailer's qp: for a 40 KB MJML body, qp.encode +
 * qp.wrap took ~350 µs, a third of the per-message budget. Here the escapes
 * are three native replaces with simple character classes, and one pass over
 * the line ends fixes what only lines have (long lines, trailing whitespace,
 * a leading "." or "From ", bare CR or LF). The tests decode the output
 * against the input, and against MailComposer's for the same content.
 */
export function quotedPrintable(body: string): string {
  // "=" first: the escapes added next start with "="
  let s = body.replace(/=/g, '=3D').replace(/[\x7f-\uffff]+/g, escapeRun);
  if (CONTROL.test(s)) s = s.replace(CONTROLS, escapeRun);
  let out = '';
  let copied = 0;
  let cr = s.indexOf('\r');
  for (let start = 0; start <= s.length; ) {
    const lf = s.indexOf('\n', start);
    let end = lf === -1 ? s.length : lf;
    let next = lf === -1 ? s.length + 1 : lf + 1;
    let canonical = lf === -1 || (lf > start && s.charCodeAt(lf - 1) === 13);
    if (canonical && lf !== -1) end = lf - 1;
    while (cr !== -1 && cr < start) cr = s.indexOf('\r', cr + 1);
    if (cr !== -1 && cr < end) {
      // a bare CR ends the line first
      end = cr;
      next = cr + 1;
      canonical = false;
    }
    const last = s.charCodeAt(end - 1);
    const fix = end - start > 76 || last === 32 || last === 9 || riskyStart(s, start);
    if (fix || !canonical) {
      out += s.slice(copied, start) + (fix ? fixLine(s.slice(start, end)) : s.slice(start, end)) + (next <= s.length ? '\r\n' : '');
      copied = Math.min(next, s.length);
    }
    start = next;
  }
  return copied === 0 ? s : out + s.slice(copied);
}

const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f]+/g;

/** A line start that relays alter: "." (dot-stuffing gone wrong) or "From " (mbox quoting). */
const riskyStart = (s: string, at: number) => s.charCodeAt(at) === 46 || (s.charCodeAt(at) === 70 && s.startsWith('From ', at));

function fixLine(line: string): string {
  if (riskyStart(line, 0)) line = (line[0] === '.' ? '=2E' : '=46') + line.slice(1);
  const last = line.charCodeAt(line.length - 1);
  if (last === 32 || last === 9) line = line.slice(0, -1) + (last === 32 ? '=20' : '=09');
  if (line.length <= 76) return line;
  let out = '';
  let pos = 0;
  while (line.length - pos > 76) {
    const cut = softBreak(line, pos);
    out += line.slice(pos, cut) + '=\r\n';
    pos = cut;
  }
  return out + line.slice(pos);
}

/** Where to end a soft-broken line starting at `pos`: ≤ 75 characters (plus "="), not inside an =XX escape, and not before a "." or "From ". */
function softBreak(s: string, pos: number): number {
  let cut = pos + 75;
  for (;;) {
    if (s[cut - 1] === '=') cut -= 1;
    else if (s[cut - 2] === '=') cut -= 2;
    if (!riskyStart(s, cut) || cut - pos < 40) return cut;
    cut -= 1;
  }
}

const HEX = '0123456789ABCDEF';
const escaped = new Map<string, string>();

/** =XX for each UTF-8 byte of a run; runs repeat (é, €, nbsp) so short ones are cached. */
function escapeRun(run: string): string {
  const hit = escaped.get(run);
  if (hit !== undefined) return hit;
  let out = '';
  for (const b of Buffer.from(run, 'utf8')) out += '=' + HEX[b >> 4] + HEX[b & 15];
  if (escaped.size < 4096 && run.length < 16) escaped.set(run, out);
  return out;
}

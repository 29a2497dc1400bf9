// The one place that reads MIME. postal-mime walks the structure and decodes
// the parts; around it: a cap on how much is read (a 30 MB bounce carries
// the same report in its first kilobytes), our own read of the top header
// block (8-bit bytes in legacy charsets stay readable), and fallbacks for
// what postal-mime cannot make sense of (a multipart whose boundary never
// comes, a part it throws on), so the caller always gets some text.
import PostalMime from 'postal-mime';
import { bodyOffset, decodeBytes, parseHeaderBlock, type HeaderField } from './headers.ts';

/** How much of a message is read: reports and the returned headers come
 * first, and postal-mime spends ~10 µs a line, so both bytes and lines are
 * capped (a 30 MB bounce costs what its first 256 KB cost). */
export const MAX_READ_BYTES = 256 * 1024;
export const MAX_READ_LINES = 10_000;
/** How much readable text is kept for the pattern scans. */
const MAX_TEXT = 256 * 1024;

export interface Part {
  /** lower-cased MIME type */
  type: string;
  content: Uint8Array;
}

export interface MessageView {
  /** the top-level header fields */
  headers: HeaderField[];
  /** the readable text: the text/plain parts, else the HTML as text, else the raw body */
  text: string;
  /** the attached parts, report parts and returned messages among them */
  parts: Part[];
}

const MBOX_FROM = /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) /;

function isMbox(raw: Uint8Array): boolean {
  return MBOX_FROM.test(Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 200)).toString('latin1'));
}

/** Where each message of an mbox file starts. */
function mboxStarts(raw: Uint8Array): number[] {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  return [...text.matchAll(/^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [^\n]*\n/gm)].map((m) => m.index!);
}

/** The messages of an mbox file, "From " lines removed; any other input is
 * one message, returned as it is. */
export function splitMbox(raw: Buffer): Buffer[] {
  if (!isMbox(raw)) return [raw];
  const starts = mboxStarts(raw);
  return starts.map((s, i) => {
    const chunk = raw.subarray(s, starts[i + 1] ?? raw.length);
    const nl = chunk.indexOf(0x0a);
    return nl < 0 ? Buffer.alloc(0) : chunk.subarray(nl + 1);
  });
}

/** Cheap HTML to text for pattern scans: blocks become lines, tags go. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d|\/table)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ').replace(/&lt;/gi, '<').replace(/&gt;/gi, '>').replace(/&quot;/gi, '"').replace(/&#39;|&apos;/gi, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n) % 0x110000))
    .replace(/&amp;/gi, '&')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n\s*\n+/g, '\n\n');
}

function capped(raw: Buffer, problems: string[]): Buffer {
  let input = raw;
  if (isMbox(raw)) {
    const starts = mboxStarts(raw.subarray(0, Math.min(raw.length, MAX_READ_BYTES)));
    if (starts.length > 1) problems.push(`an mbox of ${starts.length} or more messages: only the first was read`);
    input = raw.subarray(raw.indexOf(0x0a) + 1, starts[1] ?? raw.length);
  }
  let end = Math.min(input.length, MAX_READ_BYTES);
  let at = -1;
  for (let lines = 0; lines < MAX_READ_LINES; lines++) {
    at = input.indexOf(0x0a, at + 1);
    if (at < 0 || at >= end) break;
    if (lines === MAX_READ_LINES - 1) end = at + 1;
  }
  if (end < input.length) {
    const cut = end === MAX_READ_BYTES ? input.lastIndexOf(0x0a, end - 1) + 1 || end : end;
    problems.push(`message of ${input.length} bytes: only the first ${cut} bytes (at most ${MAX_READ_LINES} lines) were read`);
    input = input.subarray(0, cut);
  }
  return input;
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/** Reads a raw message into headers, text and parts. Never throws: what
 * fails is listed in `problems`. */
export async function readMessage(raw: Buffer, problems: string[]): Promise<MessageView> {
  const input = capped(raw, problems);
  const bodyAt = bodyOffset(input);
  const headers = parseHeaderBlock(decodeBytes(input.subarray(0, Math.min(bodyAt, 256 * 1024))));
  if (!headers.length) problems.push('no header fields');
  let text = '';
  let parts: Part[] = [];
  try {
    const email = await PostalMime.parse(input, { attachmentEncoding: 'arraybuffer', forceRfc822Attachments: true, maxNestingDepth: 64 });
    text = email.text?.trim() ? email.text : email.html ? htmlToText(email.html) : '';
    parts = email.attachments.map((a) => ({ type: a.mimeType.toLowerCase(), content: bytesOf(a.content) }));
  } catch (e) {
    problems.push(`MIME structure not readable (${(e as Error).message}): the body was read as text`);
  }
  if (!text.trim() && !parts.length && bodyAt < input.length) {
    if (!problems.some((p) => p.startsWith('MIME'))) problems.push('no readable MIME part: the body was read as text');
    text = decodeBytes(input.subarray(bodyAt, bodyAt + MAX_TEXT));
  }
  if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
  return { headers, text, parts };
}

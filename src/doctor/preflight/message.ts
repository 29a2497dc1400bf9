// RFC 5322 validity of a raw message as a receiver reads it (Gmail requires
// RFC 5322 formatting of bulk mail): a header block, each field once where
// the RFC says once, a From with one address, a Date, a Message-ID, no line
// over 998 octets. Pure.
import { fail, ok, type Result } from '../../errors.ts';

export interface HeaderField {
  name: string;
  /** unfolded value */
  value: string;
}

export interface ParsedMessage {
  headers: HeaderField[];
  body: Buffer;
  problems: string[];
}

/** RFC 5322 §3.6: fields that must appear exactly once / at most once. */
const ONCE = ['from', 'date'];
const AT_MOST_ONCE = ['sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to', 'references', 'subject'];

export function header(m: ParsedMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/** Splits and checks; an input with no header field at all is not a message (a failure, not a finding). */
export function parseMessage(raw: Buffer): Result<ParsedMessage> {
  const text = raw.toString('latin1');
  const sep = /\r?\n\r?\n/.exec(text);
  const head = sep ? text.slice(0, sep.index) : text;
  const body = sep ? raw.subarray(sep.index + sep[0].length) : Buffer.alloc(0);
  const lines = head.split(/\r?\n/);
  if (!/^[!-9;-~]+:/.test(lines[0] ?? '')) return fail('message.invalid', 'this is not an email message: it does not start with a header field (Name: value)');
  const problems: string[] = [];
  if (!sep) problems.push('no empty line separates the header from the body');
  const headers: HeaderField[] = [];
  for (const [i, line] of lines.entries()) {
    if (Buffer.byteLength(line, 'latin1') > 998) problems.push(`header line ${i + 1} is longer than 998 octets (RFC 5322 §2.1.1)`);
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1].value += ' ' + line.trim();
      continue;
    }
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!m) {
      problems.push(`header line ${i + 1} is not a field: "${line.slice(0, 40)}"`);
      continue;
    }
    headers.push({ name: m[1], value: m[2] });
  }
  if (body.toString('latin1').split(/\r?\n/).some((l) => Buffer.byteLength(l, 'latin1') > 998)) problems.push('a body line is longer than 998 octets (RFC 5322 §2.1.1)');
  if (/(^|[^\r])\n/.test(text)) problems.push('bare LF line endings: SMTP needs CRLF (relays rewrite them, which can break DKIM)');
  const count = (n: string) => headers.filter((h) => h.name.toLowerCase() === n).length;
  for (const n of ONCE) if (count(n) !== 1) problems.push(`${count(n)} ${n} fields (exactly one required, RFC 5322 §3.6)`);
  for (const n of AT_MOST_ONCE) if (count(n) > 1) problems.push(`${count(n)} ${n} fields (at most one allowed, RFC 5322 §3.6)`);
  const date = headers.find((h) => h.name.toLowerCase() === 'date')?.value;
  if (date !== undefined && Number.isNaN(Date.parse(date))) problems.push(`the Date "${date.slice(0, 40)}" cannot be read`);
  if (count('message-id') === 0) problems.push('no Message-ID (Gmail refuses messages without one)');
  const from = headers.find((h) => h.name.toLowerCase() === 'from')?.value;
  if (from !== undefined && fromAddresses(from).length !== 1) problems.push('From must name exactly one address (else a Sender field is needed)');
  return ok({ headers, body, problems });
}

/** The addr-specs of an address-list header value (display names and comments dropped). */
export function fromAddresses(value: string): string[] {
  const noComments = value.replace(/\([^()]*\)/g, '');
  const angle = [...noComments.matchAll(/<([^<>@\s]+@[^<>\s]+)>/g)].map((m) => m[1]);
  if (angle.length) return angle;
  return noComments.split(',').map((s) => s.trim()).filter((s) => /^[^\s@"]+@[^\s@]+$/.test(s));
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

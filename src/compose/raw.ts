// Messages submitted whole (SMTP submission): envoi reads their header block,
// checks it, and adds what it owes the receivers (Message-ID, Date,
// Feedback-ID) without rebuilding the MIME body the client made.
import addressparser from 'nodemailer/lib/addressparser';
import { fail, ok, type Result } from '../errors.ts';
import { parseAddress } from './address.ts';

export interface RawHeader {
  name: string;
  /** unfolded value */
  value: string;
}

export interface ParsedRaw {
  headers: RawHeader[];
  /** end of the header block (before the blank line) */
  headEnd: number;
  /** offset of the body (after the blank line) in the CRLF-normalised message */
  bodyOffset: number;
  /** the message with CRLF line ends */
  message: Buffer;
}

/** Splits the header block. Refuses what a receiver would refuse (MC-3): lines over 998 octets, malformed header lines. */
export function parseRaw(raw: Buffer): Result<ParsedRaw> {
  const message = toCrlf(raw);
  const sep = message.indexOf('\r\n\r\n');
  const headEnd = sep === -1 ? message.length : sep;
  const head = message.subarray(0, headEnd).toString('latin1');
  const headers: RawHeader[] = [];
  for (const line of head.split('\r\n')) {
    if (line.length > 998) return fail('message.invalid', 'a header line is longer than 998 octets (RFC 5322 2.1.1)');
    if (/^[ \t]/.test(line)) {
      if (!headers.length) return fail('message.invalid', 'the message starts with a continuation line');
      headers[headers.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 1 || !/^[!-9;-~]+$/.test(line.slice(0, colon))) return fail('message.invalid', `malformed header line: "${line.slice(0, 60)}"`);
    headers.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
  }
  if (!headers.length) return fail('message.invalid', 'the message has no header');
  for (let pos = headEnd; pos < message.length; ) {
    let nl = message.indexOf(0x0a, pos);
    if (nl === -1) nl = message.length;
    // 998 octets plus the CR before the LF
    if (nl - pos > 999) return fail('message.invalid', 'a body line is longer than 998 octets (RFC 5322 2.1.1)');
    pos = nl + 1;
  }
  return ok({ headers, headEnd, bodyOffset: sep === -1 ? message.length : sep + 4, message });
}

export function headerValue(p: ParsedRaw, name: string): string | undefined {
  return p.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The single From address of a submitted message. */
export function rawFrom(p: ParsedRaw): Result<{ email: string; domain: string }> {
  const froms = p.headers.filter((h) => h.name.toLowerCase() === 'from');
  if (froms.length !== 1) return fail('message.invalid', 'the message must have exactly one From header (RFC 5322 3.6)');
  const list = addressparser(froms[0].value, { flatten: true });
  if (list.length !== 1) return fail('message.invalid', 'From must name exactly one mailbox');
  const parsed = parseAddress(list[0].address, 'From');
  if (!parsed.ok) return parsed;
  return ok({ email: parsed.value.email, domain: parsed.value.domain });
}

/** Removes headers by name (Bcc must never travel) and prepends new ones. */
export function rewriteHeaders(p: ParsedRaw, drop: string[], prepend: Record<string, string>): Buffer {
  const dropSet = new Set(drop.map((d) => d.toLowerCase()));
  const head = p.message.subarray(0, p.headEnd).toString('latin1');
  const kept: string[] = [];
  let skipping = false;
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line)) {
      if (!skipping) kept.push(line);
      continue;
    }
    skipping = dropSet.has(line.slice(0, line.indexOf(':')).toLowerCase());
    if (!skipping) kept.push(line);
  }
  const added = Object.entries(prepend).map(([k, v]) => `${k}: ${v}`);
  const newHead = [...added, ...kept].join('\r\n') + '\r\n\r\n';
  return Buffer.concat([Buffer.from(newHead, 'latin1'), p.message.subarray(p.bodyOffset)]);
}

/** Bare LF and bare CR become CRLF: what goes on the wire, and what DKIM signs, is CRLF. */
export function toCrlf(raw: Buffer): Buffer {
  // No shortcut on "has no LF": a message without any LF may still hold bare
  // CRs, which would otherwise stay inside a header line (test/hardening).
  if ((!raw.includes(0x0a) && !raw.includes(0x0d)) || !/(^|[^\r])\n|\r(?!\n)/.test(raw.toString('latin1'))) return raw;
  return Buffer.from(raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

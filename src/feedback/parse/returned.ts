// The returned message (or its headers) a report carries: the key that ties
// a bounce or a complaint to the message we sent.
import { decodeWords } from 'postal-mime';
import { findAddress } from './address.ts';
import { decodeBytes, firstValues, parseHeaderBlock, type HeaderField } from './headers.ts';
import type { ReturnedMessage } from './types.ts';

export const MAX_RAW_HEADERS = 64 * 1024;
const FIELD_START = /^[!-9;-~]+[ \t]*:/;

function decoded(value: string): string {
  try {
    return decodeWords(value);
  } catch {
    return value;
  }
}

export function returnedFromFields(fields: HeaderField[], rawHeaders: string): ReturnedMessage | null {
  if (!fields.length) return null;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(firstValues(fields))) headers[k] = decoded(v);
  return { headers, rawHeaders };
}

/** From text that starts with (or soon reaches) a header block: the content
 * of a message/rfc822 or text/rfc822-headers part, or the copy below a text
 * bounce. Leading lines that are not fields are skipped. */
export function returnedFromText(text: string): ReturnedMessage | null {
  const head = text.slice(0, MAX_RAW_HEADERS * 2);
  const lines = head.split(/\r?\n/);
  const first = lines.findIndex((l) => FIELD_START.test(l));
  if (first < 0) return null;
  let end = lines.findIndex((l, i) => i > first && l.trim() === '');
  if (end < 0) end = lines.length;
  let raw = lines.slice(first, end).join('\n');
  if (raw.length > MAX_RAW_HEADERS) raw = raw.slice(0, raw.lastIndexOf('\n', MAX_RAW_HEADERS) + 1 || MAX_RAW_HEADERS);
  return returnedFromFields(parseHeaderBlock(raw), raw);
}

export function returnedFromBytes(bytes: Uint8Array): ReturnedMessage | null {
  return returnedFromText(decodeBytes(bytes.subarray(0, MAX_RAW_HEADERS * 2)));
}

/** The single recipient a returned message was addressed to, if it names one. */
export function singleTo(r: ReturnedMessage | null): string | null {
  const to = r?.headers.to;
  if (!to || to.split(',').length !== 1) return null;
  return findAddress(to);
}

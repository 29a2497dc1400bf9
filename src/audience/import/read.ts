// Reading an import file, in two streaming passes with constant memory.
//
// Pass 1 (scanFile) hashes the bytes and checks the encoding before anything
// is written: the hash is the import's identity (the same file for the same
// list is recognised before any work, so re-importing changes nothing and a
// crashed import resumes), and an encoding problem is better refused up front
// than discovered at row 600,000 with half the file committed. Hashing costs
// well under a second for a million rows.
//
// Pass 2 (readRecords) parses the CSV and numbers each record by the physical
// line it starts on, counted here from the cells because csv-parse counts a
// CRLF inside a quoted field as two lines. Records come out a chunk at a
// time: one await per chunk rather than per row.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { isAscii, isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse';

export type Encoding = 'utf-8' | 'windows-1252';

export interface FileScan {
  sha256: string;
  bytes: number;
  /** valid UTF-8 (a UTF-8 BOM is fine) */
  utf8: boolean;
  /** some byte above 0x7f: a UTF-8 file that windows-1252 would garble */
  nonAscii: boolean;
  utf16: boolean;
  /** where the first invalid UTF-8 sequence is, when not utf8 */
  firstInvalid?: { line: number; byte: number };
}

export async function scanFile(file: string): Promise<FileScan> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let lines = 1;
  let carry = Buffer.alloc(0);
  let head: Buffer | null = null;
  let firstInvalid: FileScan['firstInvalid'];
  let nonAscii = false;
  let nul = false;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    head ??= Buffer.from(chunk.subarray(0, 4));
    if (firstInvalid) continue;
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    // a multi-byte character cut by the chunk boundary is checked with the next chunk
    const cut = incompleteTail(buf);
    const body = buf.subarray(0, buf.length - cut);
    carry = Buffer.from(buf.subarray(buf.length - cut));
    if (!isUtf8(body)) {
      firstInvalid = locateInvalid(body, lines);
      continue;
    }
    nonAscii ||= !isAscii(body);
    nul ||= body.includes(0);
    lines += countByte(body, 0x0a);
  }
  if (!firstInvalid && carry.length) firstInvalid = { line: lines, byte: carry[0] };
  const utf16 = nul || (head !== null && head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)));
  return { sha256: hash.digest('hex'), bytes, utf8: !firstInvalid && !utf16, nonAscii, utf16, ...(firstInvalid && !utf16 ? { firstInvalid } : {}) };
}

function incompleteTail(buf: Buffer): number {
  for (let i = 1; i <= Math.min(3, buf.length); i++) {
    const b = buf[buf.length - i];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return 0;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return need > i ? i : 0;
  }
  return 0;
}

// The slow path, only for a chunk known to be invalid: find the first bad sequence.
function locateInvalid(body: Buffer, lineAtStart: number): { line: number; byte: number } {
  let i = 0;
  while (i < body.length) {
    const b = body[i];
    const need = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let good = need > 0 && i + need <= body.length;
    for (let k = 1; good && k < need; k++) good = (body[i + k] & 0xc0) === 0x80;
    if (!good || !isUtf8(body.subarray(i, i + need))) break;
    i += need;
  }
  const at = Math.min(i, body.length - 1);
  return { line: lineAtStart + countByte(body.subarray(0, at), 0x0a), byte: body[at] };
}

function countByte(buf: Buffer, byte: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i !== -1; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

export interface CsvRecord {
  cells: string[];
  /** the physical line the record starts on, and the one it ends on (quoted line breaks) */
  line: number;
  endLine: number;
}

export type ReadItem =
  /** the records parsed from one chunk of the file, in order */
  | { kind: 'records'; records: CsvRecord[] }
  /** the parser gave up: `line` is where the record it choked on starts */
  | { kind: 'problem'; line: number; code: 'quote_not_closed' | 'record_too_large'; detail: string };

export interface ReadOptions {
  encoding: Encoding;
  /** bytes; a larger record (often an unclosed quote swallowing the file) stops the read */
  maxRecordBytes: number;
  /** file bytes read so far, for progress */
  onBytes?: (bytesRead: number) => void;
  /** fed every byte read, to check the file did not change since the first pass */
  hash?: crypto.Hash;
}

export async function* readRecords(file: string, o: ReadOptions): AsyncGenerator<ReadItem> {
  // The parser is written to one chunk at a time and flows into `queue`: a
  // flowing stream hands each record to its 'data' listener as it parses it,
  // so after write() the chunk's records are all here, memory stays at one
  // chunk's worth, and when the parser fails every record before the failure
  // has been taken (an async iterator would drop its buffer on error).
  let queue: string[][] = [];
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, max_record_size: o.maxRecordBytes, skip_empty_lines: false });
  let failure: unknown = null;
  parser.on('data', (record: string[]) => queue.push(record));
  parser.on('error', (e) => { failure ??= e; });
  // 256 KiB: a chunk's records stay alive while their batches commit; bigger chunks only grow the heap
  // 256 KiB: a chunk's records stay alive while their batches commit; bigger chunks only grow the heap
  const input = fs.createReadStream(file, { highWaterMark: 1 << 18 });
  let read = 0;
  let nextLine = 1;
  const take = (): ReadItem => {
    const records: CsvRecord[] = new Array(queue.length);
    for (let i = 0; i < queue.length; i++) {
      const cells = queue[i];
      const line = nextLine;
      let breaks = 0;
      for (const c of cells) if (c.includes('\n') || c.includes('\r')) breaks += lineBreaks(c);
      nextLine = line + breaks + 1;
      records[i] = { cells, line, endLine: line + breaks };
    }
    queue = [];
    return { kind: 'records', records };
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      read += chunk.length;
      o.hash?.update(chunk);
      o.onBytes?.(read);
      parser.write(o.encoding === 'windows-1252' ? decode1252(chunk) : chunk);
      if (queue.length) yield take();
      failure ??= parser.errored;
      if (failure) break;
    }
    if (!failure) {
      await new Promise<void>((resolve) => {
        parser.once('finish', resolve);
        parser.once('error', () => resolve());
        parser.end();
      });
    }
    if (queue.length) yield take();
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (!failure) return;
  const e = failure as { code?: string };
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') yield { kind: 'problem', line: nextLine, code: 'quote_not_closed', detail: 'a quoted field is not closed before the end of the file' };
  else if (e.code === 'CSV_MAX_RECORD_SIZE') yield { kind: 'problem', line: nextLine, code: 'record_too_large', detail: `a row is larger than ${o.maxRecordBytes} bytes (often a quote that is never closed)` };
  else throw failure;
}

const lineBreaks = (s: string) => (s.match(/\r\n|\r|\n/g) ?? []).length;

// windows-1252 is one byte per character, Latin-1 except 0x80-0x9F, which
// hold € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ (the WHATWG
// Encoding table; the five unassigned bytes map to the C1 controls). Node 20's
// TextDecoder('windows-1252') decodes plain Latin-1, so the table is here.
const HIGH_1252 = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function decode1252(chunk: Buffer): string {
  return chunk.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => HIGH_1252[c.charCodeAt(0) - 0x80]);
}

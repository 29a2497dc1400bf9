// Header blocks as they come: the top of the bounce, the fields of a
// message/delivery-status or message/feedback-report part, the headers of a
// returned message. Tolerant by design: 8-bit bytes, stray lines and missing
// colons are skipped, never thrown at.

export interface HeaderField {
  /** lower-cased */
  name: string;
  /** unfolded, trimmed */
  value: string;
}

const FIELD = /^([!-9;-~]+)[ \t]*:[ \t]*(.*)$/;

/** Bytes to text: UTF-8 when they are valid UTF-8, else Latin-1 (each byte
 * one character), so 8-bit headers in legacy charsets still read. */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/** Where the header block of `raw` ends: the offset of the body (after the
 * first empty line), or raw.length when there is none. */
export function bodyOffset(raw: Uint8Array): number {
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return i + 2;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return i + 3;
  }
  return raw.length;
}

/** Fields of one header block; stops at the first empty line. Lines before
 * the first field (an mbox "From " line, the tail of a cut Received header)
 * and lines that are not fields are skipped. */
export function parseHeaderBlock(text: string): HeaderField[] {
  return parseFieldLines(text.split(/\r?\n/), true)[0] ?? [];
}

/** Blank-line separated groups of fields (the body of a report part). */
export function parseFieldGroups(text: string): HeaderField[][] {
  return parseFieldLines(text.split(/\r?\n/), false);
}

function parseFieldLines(lines: string[], firstOnly: boolean): HeaderField[][] {
  const groups: HeaderField[][] = [];
  let group: HeaderField[] = [];
  let current: HeaderField | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      if (group.length) {
        groups.push(group);
        if (firstOnly) return groups;
      }
      group = [];
      current = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (current) current.value = (current.value + ' ' + line.trim()).trim();
      continue;
    }
    const m = FIELD.exec(line);
    if (!m) {
      current = undefined;
      continue;
    }
    current = { name: m[1].toLowerCase(), value: m[2].trim() };
    group.push(current);
  }
  if (group.length) groups.push(group);
  return groups;
}

/** First value of each field, by lower-cased name. */
export function firstValues(fields: HeaderField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) if (!Object.hasOwn(out, f.name)) out[f.name] = f.value;
  return out;
}

export function allValues(fields: HeaderField[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}

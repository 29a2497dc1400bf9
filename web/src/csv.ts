// What the import page needs to know of a CSV file before it is sent: its
// first rows (to map columns on) and its line count (the progress bar's
// end). Pure: text or bytes in, values out; the server reads the file again
// with its own strict reader (src/audience/import/read.ts) and is the judge.

/** The first `max` records of CSV text: comma-separated with RFC 4180 quotes, as the server reads them. */
export function previewRecords(text: string, max: number): string[][] {
  const sep = ',';
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length && out.length < max; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.some((x) => x.trim() !== '')) out.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  // the last line without a newline, unless the sample ended inside it
  if (out.length < max && i >= text.length && (cell !== '' || row.length) && !quoted) out.push([...row, cell]);
  return out;
}

/**
 * The number of the file's last line, as the server numbers them (its
 * checkpoint is the last line committed): newlines, plus one for a last
 * line without one. Counted on the bytes as they stream, so a big file is
 * never held in memory.
 */
export function lineCounter(): { add(chunk: Uint8Array): void; total(): number } {
  let newlines = 0;
  let last = 10;
  return {
    add(chunk) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) newlines++;
      if (chunk.length) last = chunk[chunk.length - 1];
    },
    total: () => newlines + (last === 10 ? 0 : 1),
  };
}

/** A header cell as a contact field name the API accepts (a-z, 0-9, _; starting with a letter), or '' when none can be made. */
export function fieldName(column: string): string {
  const s = column.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^[^a-z]+|_+$/g, '');
  return s.slice(0, 64);
}

export const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** What a column becomes: ignored, the address, a contact field, or a per-row provenance value. */
export type ColumnUse = { use: 'ignore' } | { use: 'email' } | { use: 'field'; name: string } | { use: 'provenance'; key: string };

/** The first guess for a column: the address by its name, ignored otherwise (the person chooses what to keep). */
export function guessUse(column: string, emailTaken: boolean): ColumnUse {
  if (!emailTaken && /^e-?mail(\s*address)?$|^courriel$|^adresse\s*e-?mail$/i.test(column.trim())) return { use: 'email' };
  return { use: 'ignore' };
}

/**
 * The import API's own column mapping (POST /v1/imports: emailColumn,
 * fields=name=column,…, provenanceColumns=key=column,…), so the file is sent
 * as it is. Its pairs are comma- and equals-separated: a column whose name
 * holds either cannot be named there, and is reported as a problem.
 */
export function mappingQuery(header: string[], uses: ColumnUse[]): { ok: true; params: Record<string, string> } | { ok: false; problem: string } {
  const email = header.filter((_, i) => uses[i]?.use === 'email');
  if (email.length !== 1) return { ok: false, problem: email.length ? 'choose one email column only' : 'choose which column holds the email address' };
  const fields: string[] = [];
  const prov: string[] = [];
  const names = new Set<string>();
  for (const [i, col] of header.entries()) {
    const u = uses[i];
    if (!u || u.use === 'ignore' || u.use === 'email') continue;
    if (/[,=]/.test(col)) return { ok: false, problem: `column "${col}" has a comma or an equals sign in its name: rename it in the file, or ignore it` };
    if (u.use === 'field') {
      if (!FIELD_NAME.test(u.name)) return { ok: false, problem: `field name "${u.name}" for column "${col}": a-z, 0-9 and _, starting with a letter` };
      if (names.has(u.name)) return { ok: false, problem: `two columns go to the field "${u.name}"` };
      names.add(u.name);
      fields.push(`${u.name}=${col}`);
    } else prov.push(`${u.key}=${col}`);
  }
  const params: Record<string, string> = { emailColumn: email[0] };
  if (fields.length) params.fields = fields.join(',');
  if (prov.length) params.provenanceColumns = prov.join(',');
  return { ok: true, params };
}

// From CSV cells to a candidate contact or a refusal, one row at a time.
// Pure: the mapping is checked against the header once, then every row goes
// through the same checklist — blank? oversized cell? email? syntax?
// trap-like? fields? provenance? — and carries the flags the quarantine
// verdict counts (role account, invalid, trap-like).
import { fail, ok, type Result } from '../../errors.ts';
import { contactAddress, type ContactAddress } from '../address.ts';
import { checkFields, type Fields } from '../contacts.ts';
import { isRoleAccount, spamtrapPattern } from './policy.ts';
import { checkProvenance, PROVENANCE_KEYS, type Provenance, type ProvenanceKey, type RawProvenance } from './provenance.ts';

/** Which CSV column holds what. */
export interface Mapping {
  email: string;
  /** contact field name → column */
  fields?: Record<string, string>;
  /** per-row provenance: provenance key → column */
  provenance?: Partial<Record<ProvenanceKey, string>>;
}

export interface Columns {
  email: number;
  fields: [name: string, index: number][];
  provenance: [key: ProvenanceKey, index: number][];
}

/** A cell longer than this refuses its row: contact fields stop at the same length (contacts.ts). */
export const MAX_CELL_CHARS = 10_000;

const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Resolves the mapping against the header; a column that is not there fails the whole import up front. */
export function resolveColumns(header: string[], mapping: Mapping): Result<Columns> {
  const names = header.map((h) => h.trim().toLowerCase());
  const missing: string[] = [];
  const find = (col: string): number => {
    const i = names.indexOf(col.trim().toLowerCase());
    if (i < 0) missing.push(col);
    return i;
  };
  const email = find(mapping.email);
  const fields: Columns['fields'] = [];
  for (const [name, col] of Object.entries(mapping.fields ?? {})) {
    if (!FIELD_NAME.test(name)) return fail('request.invalid', `field name "${name.slice(0, 40)}": a-z, 0-9 and _, starting with a letter`, 'mapping.fields');
    fields.push([name, find(col)]);
  }
  const provenance: Columns['provenance'] = [];
  for (const [key, col] of Object.entries(mapping.provenance ?? {})) {
    if (!(PROVENANCE_KEYS as readonly string[]).includes(key)) return fail('request.invalid', `unknown provenance key "${key}" (one of ${PROVENANCE_KEYS.join(', ')})`, 'mapping.provenance');
    if (col) provenance.push([key as ProvenanceKey, find(col)]);
  }
  if (missing.length) {
    const shown = header.slice(0, 30).map((h) => JSON.stringify(h.slice(0, 40))).join(', ');
    return fail('request.invalid', `line 1: missing column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')} (the header has: ${shown})`, 'mapping');
  }
  return ok({ email, fields, provenance });
}

export type RefusalCode =
  | 'missing_email' | 'invalid_address' | 'spamtrap_like' | 'field_too_long' | 'invalid_field' | 'missing_provenance' | 'invalid_provenance'
  | 'no_mail_domain' | 'suppressed' | 'unsubscribed' | 'erased' | 'malformed_row';

export interface Flags {
  role: boolean;
  invalid: boolean;
  trap: boolean;
}

export interface Refused {
  kind: 'refused';
  line: number;
  email: string | null;
  code: RefusalCode;
  detail: string;
  flags: Flags;
}

export interface Candidate {
  kind: 'candidate';
  line: number;
  address: ContactAddress;
  fields: Fields;
  provenance: Provenance;
  flags: Flags;
}

export type RowOutcome = { kind: 'blank' } | Refused | Candidate;

export interface RowContext {
  columns: Columns;
  /** the file-wide provenance, as strings */
  fileProvenance: RawProvenance;
  /** the file-wide provenance checked once, when no row can override it */
  fixedProvenance: Provenance | null;
  now: number;
}

const NO_FLAGS: Flags = { role: false, invalid: false, trap: false };

export function checkRow(cells: string[], line: number, ctx: RowContext): RowOutcome {
  if (cells.every((c) => c.trim() === '')) return { kind: 'blank' };
  const emailCell = (cells[ctx.columns.email] ?? '').trim();
  const refuse = (code: RefusalCode, detail: string, flags = NO_FLAGS): Refused => ({ kind: 'refused', line, email: emailCell ? emailCell.slice(0, 254) : null, code, detail, flags });

  const long = cells.findIndex((c) => c.length > MAX_CELL_CHARS);
  if (long >= 0) return refuse('field_too_long', `column ${long + 1} has ${cells[long].length} characters (at most ${MAX_CELL_CHARS})`);
  if (!emailCell) return refuse('missing_email', 'no address in the email column');

  const a = contactAddress(emailCell);
  if (!a.ok) return refuse('invalid_address', a.error.detail, { ...NO_FLAGS, invalid: true });
  const flags: Flags = { role: isRoleAccount(a.value.email), invalid: false, trap: false };
  const trap = spamtrapPattern(a.value.email);
  if (trap) return refuse('spamtrap_like', `looks like a spam trap (${trap})`, { ...flags, trap: true });

  const values: Record<string, string> = {};
  for (const [name, i] of ctx.columns.fields) {
    const v = cells[i];
    // an empty cell leaves the stored value alone rather than blanking it
    if (v !== undefined && v !== '') values[name] = v;
  }
  const f = checkFields(values);
  if (!f.ok) return refuse('invalid_field', f.error.detail, flags);

  let provenance = ctx.fixedProvenance;
  if (!provenance) {
    const raw: RawProvenance = { ...ctx.fileProvenance };
    for (const [key, i] of ctx.columns.provenance) {
      const v = cells[i]?.trim();
      if (v) raw[key] = v;
    }
    const p = checkProvenance(raw, ctx.now);
    if (!p.ok) return refuse(p.code, p.detail, flags);
    provenance = p.value;
  }
  return { kind: 'candidate', line, address: a.value, fields: f.value, provenance, flags };
}

// What an import is asked to do, checked before the file is read: a mapping
// for the email, and provenance for every row — given for the whole file,
// mapped to columns, or both (a row's own value wins). An import without
// provenance is refused outright (MJ-4).
import { fail, ok, type Result } from '../../errors.ts';
import type { Encoding } from './read.ts';
import type { Mapping } from './rows.ts';
import { checkProvenance, fileProvenanceRaw, type FileProvenance, type Provenance, type RawProvenance } from './provenance.ts';

export interface ImportOptions {
  mapping: Mapping;
  provenance?: FileProvenance;
  /** default utf-8; windows-1252 must be asked for (see read.ts and docs) */
  encoding?: Encoding;
}

export interface CheckedOptions {
  fileRaw: RawProvenance;
  /** the file-wide provenance, checked once, when no column can override it */
  fixed: Provenance | null;
  encoding: Encoding;
  /** per-row collected_at is mapped: identical timestamps are a signal */
  perRowTimestamps: boolean;
}

// Valid stand-ins for values a row will supply, so the file's own values can
// be checked alone with the same function that checks rows.
const STAND_INS: RawProvenance = { source: 'other', collected_at: '2000-01-01', method: 'single', consent_text: '-', relationship: '-', informed_how: '-' };

export function checkOptions(o: ImportOptions, now: number): Result<CheckedOptions> {
  if (!o.mapping?.email?.trim()) return fail('request.invalid', 'the email column is required', 'mapping.email');
  const encoding = o.encoding ?? 'utf-8';
  if (encoding !== 'utf-8' && encoding !== 'windows-1252') return fail('request.invalid', 'encoding is utf-8 or windows-1252', 'encoding');
  const fileRaw = fileProvenanceRaw(o.provenance);
  const columns = Object.fromEntries(Object.entries(o.mapping.provenance ?? {}).filter(([, c]) => !!c?.trim()));
  if (!Object.keys(fileRaw).length && !Object.keys(columns).length) {
    return fail('request.invalid', 'provenance is mandatory (MJ-4): give the source, collected-at, method and consent text of the file, or map provenance columns', 'provenance');
  }
  const has = (k: keyof RawProvenance) => k in fileRaw || k in columns;
  const missing: string[] = (['source', 'collected_at', 'method'] as const).filter((k) => !has(k));
  if (fileRaw.method === 'none' && !('method' in columns)) {
    for (const k of ['relationship', 'informed_how'] as const) if (!has(k)) missing.push(k);
  } else if (!('method' in columns) && !has('consent_text')) missing.push('consent_text');
  if (missing.length) {
    return fail('request.invalid', `provenance: ${missing.join(', ')} neither given for the file nor mapped to a column`, 'provenance');
  }
  const perRow = Object.keys(columns).length > 0;
  // with columns, stand-ins fill what rows will supply; without, the file's values must hold alone
  const checked = checkProvenance(perRow ? { ...STAND_INS, ...fileRaw } : fileRaw, now);
  if (!checked.ok) return fail('request.invalid', `file provenance: ${checked.detail.replace(/^(invalid|missing) provenance: /, '')}`, 'provenance');
  return ok({ fileRaw, fixed: perRow ? null : checked.value, encoding, perRowTimestamps: 'collected_at' in columns });
}

/** The options as stored on the import row; a resumed import must be asked the same thing. */
export function canonicalOptions(o: ImportOptions): string {
  return JSON.stringify(sortKeys({ mapping: o.mapping, provenance: o.provenance ?? null, encoding: o.encoding ?? 'utf-8' }));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
  }
  return v;
}

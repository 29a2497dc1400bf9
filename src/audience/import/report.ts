// The import report: what happened to every row, in counts and reasons, and
// why the import was or was not quarantined. Stored as JSON on the import row
// after every batch, so a resumed import continues its counts.
import type { Import } from '../../store/schema.ts';
import type { QuarantineStats, Verdict } from './policy.ts';
import type { RefusalCode } from './rows.ts';

export type MergeCode =
  /** the address is already a contact of the tenant, not yet subscribed to this list: subscribed now */
  | 'existing_contact'
  /** already subscribed to this list: kept as it was, fields merged */
  | 'existing_subscriber'
  /** the same address earlier in the file */
  | 'duplicate_in_file'
  /** subscribed by another import that waits for (or failed) an operator's review: left to that review */
  | 'held_for_review';

export interface ImportCounts {
  /** data rows, blank lines not counted */
  rows: number;
  /** rows that created a contact */
  accepted: number;
  refused: number;
  /** rows merged into a contact that already existed (see merges) */
  merged: number;
  /** accepted or merged rows whose domain could not be checked (DNS timeout, SERVFAIL) */
  unverifiedDomains: number;
  /** subscriptions this import created or changed, by resulting status */
  pending: number;
  subscribed: number;
}

export interface ImportReport {
  importId: string;
  status: Import['status'];
  list: { id: string; name: string };
  fileName: string;
  sha256: string;
  counts: ImportCounts;
  refusals: Partial<Record<RefusalCode, number>>;
  merges: Partial<Record<MergeCode, number>>;
  stats: QuarantineStats;
  quarantine: Verdict;
  /** the first domains that could not be checked, for the operator to look at */
  unverifiedDomainNames: string[];
  notes: string[];
  /** why the import stopped, with the CSV line, when it failed */
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** set on the answer (not stored) when the file had been imported before and nothing changed */
  alreadyImported?: boolean;
}

export const MAX_UNVERIFIED_NAMES = 20;

export function emptyReport(base: Pick<ImportReport, 'importId' | 'list' | 'fileName' | 'sha256'>, now: number): ImportReport {
  return {
    ...base, status: 'running',
    counts: { rows: 0, accepted: 0, refused: 0, merged: 0, unverifiedDomains: 0, pending: 0, subscribed: 0 },
    refusals: {}, merges: {},
    stats: { rows: 0, roleAccounts: 0, invalidAddresses: 0, noMailDomains: 0, spamtrapLike: 0, maxRowsSameTimestamp: 0 },
    quarantine: { quarantine: false, signals: [] },
    unverifiedDomainNames: [], notes: [], error: null,
    startedAt: new Date(now).toISOString(), finishedAt: null,
  };
}

/** Adds a batch's tally to the running report (a new object; the batch's tally is computed before its transaction commits). */
export function addTally(r: ImportReport, t: Tally): ImportReport {
  const out: ImportReport = structuredClone(r);
  for (const k of Object.keys(t.counts) as (keyof ImportCounts)[]) out.counts[k] += t.counts[k];
  for (const [k, n] of Object.entries(t.refusals)) out.refusals[k as RefusalCode] = (out.refusals[k as RefusalCode] ?? 0) + n!;
  for (const [k, n] of Object.entries(t.merges)) out.merges[k as MergeCode] = (out.merges[k as MergeCode] ?? 0) + n!;
  for (const k of ['rows', 'roleAccounts', 'invalidAddresses', 'noMailDomains', 'spamtrapLike'] as const) out.stats[k] += t.stats[k];
  for (const d of t.unverified) {
    if (out.unverifiedDomainNames.length >= MAX_UNVERIFIED_NAMES) break;
    if (!out.unverifiedDomainNames.includes(d)) out.unverifiedDomainNames.push(d);
  }
  return out;
}

/** One batch's contribution to the report. */
export interface Tally {
  counts: ImportCounts;
  refusals: Partial<Record<RefusalCode, number>>;
  merges: Partial<Record<MergeCode, number>>;
  stats: Omit<QuarantineStats, 'maxRowsSameTimestamp'>;
  unverified: Set<string>;
}

export function emptyTally(): Tally {
  return {
    counts: { rows: 0, accepted: 0, refused: 0, merged: 0, unverifiedDomains: 0, pending: 0, subscribed: 0 },
    refusals: {}, merges: {},
    stats: { rows: 0, roleAccounts: 0, invalidAddresses: 0, noMailDomains: 0, spamtrapLike: 0 },
    unverified: new Set(),
  };
}

// MJ-4: does an import look like a bought, rented or scraped list? Pure: the
// importer counts, this file judges. Role accounts and spam-trap-like
// patterns are data (policy/data/*.json); the thresholds are the named
// constants below, each with the reason for its value.
import roleData from '../../policy/data/role-accounts.json' with { type: 'json' };
import trapData from '../../policy/data/spamtrap-patterns.json' with { type: 'json' };

/** Share signals are meaningless on tiny files: one typo in a 5-row file is 20 %. */
export const MIN_ROWS_FOR_SHARES = 100;
/** Opt-in lists of people hold a few percent of role accounts (small businesses); a scraped contact-page list holds mostly those. */
export const ROLE_SHARE_MAX = 0.2;
/** Real sign-ups bounce rarely (typos); a bought list carries many dead or made-up domains and addresses. */
export const INVALID_SHARE_MAX = 0.1;
/** One trap is enough: a trap never signs up, so its presence proves the list was not collected with consent. */
export const SPAMTRAP_MAX = 0;
/** People sign up one at a time; thousands of rows stamped with one instant were stamped by whoever sold the list. */
export const SAME_TIMESTAMP_ROWS_MAX = 999;

const ROLES = new Set(roleData.local_parts);

export interface TrapPattern {
  name: string;
  part: 'local' | 'domain' | 'address';
  regex: RegExp;
  why: string;
}

export const TRAP_PATTERNS: TrapPattern[] = trapData.patterns.map((p) => ({
  name: p.name, part: p.part as TrapPattern['part'], regex: new RegExp(p.regex), why: p.why,
}));

const localOf = (email: string) => email.slice(0, email.lastIndexOf('@')).toLowerCase();

/** info@, sales@, contact@…: a function, not a person (the +tag is ignored). */
export function isRoleAccount(email: string): boolean {
  const local = localOf(email);
  const plus = local.indexOf('+');
  return ROLES.has(plus > 0 ? local.slice(0, plus) : local);
}

/** The name of the first spam-trap-like pattern the address matches, or null. */
export function spamtrapPattern(email: string): string | null {
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf('@');
  const parts = { local: lower.slice(0, at), domain: lower.slice(at + 1), address: lower };
  for (const p of TRAP_PATTERNS) if (p.regex.test(parts[p.part])) return p.name;
  return null;
}

/** What the importer counts, over the whole file (kept across a resume). */
export interface QuarantineStats {
  /** rows with something in the email column */
  rows: number;
  roleAccounts: number;
  /** bad syntax (a@b, two @, …) */
  invalidAddresses: number;
  /** domain does not exist, or has neither MX nor A/AAAA, or a null MX */
  noMailDomains: number;
  spamtrapLike: number;
  /** the most rows sharing one per-row collected_at; 0 when provenance is file-wide */
  maxRowsSameTimestamp: number;
}

export interface Signal {
  name: 'role_accounts' | 'invalid_or_mxless' | 'spamtrap_like' | 'identical_timestamps';
  value: number;
  threshold: number;
}

export interface Verdict {
  quarantine: boolean;
  /** the signals that fired, each with its measured value and the threshold it crossed */
  signals: Signal[];
}

const share = (n: number, of: number) => (of === 0 ? 0 : Math.round((n / of) * 10_000) / 10_000);

export function quarantineVerdict(s: QuarantineStats): Verdict {
  const signals: Signal[] = [];
  if (s.rows >= MIN_ROWS_FOR_SHARES) {
    const role = share(s.roleAccounts, s.rows);
    if (role > ROLE_SHARE_MAX) signals.push({ name: 'role_accounts', value: role, threshold: ROLE_SHARE_MAX });
    const bad = share(s.invalidAddresses + s.noMailDomains, s.rows);
    if (bad > INVALID_SHARE_MAX) signals.push({ name: 'invalid_or_mxless', value: bad, threshold: INVALID_SHARE_MAX });
  }
  if (s.spamtrapLike > SPAMTRAP_MAX) signals.push({ name: 'spamtrap_like', value: s.spamtrapLike, threshold: SPAMTRAP_MAX });
  if (s.maxRowsSameTimestamp > SAME_TIMESTAMP_ROWS_MAX) {
    signals.push({ name: 'identical_timestamps', value: s.maxRowsSameTimestamp, threshold: SAME_TIMESTAMP_ROWS_MAX });
  }
  return { quarantine: signals.length > 0, signals };
}

const SIGNAL_TEXT: Record<Signal['name'], (s: Signal) => string> = {
  role_accounts: (s) => `${pct(s.value)} of the rows are role accounts (info@, sales@…), more than ${pct(s.threshold)}`,
  invalid_or_mxless: (s) => `${pct(s.value)} of the rows have an invalid address or a domain that receives no mail, more than ${pct(s.threshold)}`,
  spamtrap_like: (s) => `${s.value} address(es) look like spam traps or harvesting debris`,
  identical_timestamps: (s) => `${s.value} rows share one identical collection timestamp`,
};

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

/** One line per signal, for reports and the operator's review. */
export function explainSignal(s: Signal): string {
  return SIGNAL_TEXT[s.name](s);
}

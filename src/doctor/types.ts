// The doctor's vocabulary. A check is a value (STYLE 2): what was looked at,
// pass | warn | fail, what was found and the exact fix. Lookups produce facts
// (Lookup values); the checks are pure functions of facts.

export type Status = 'pass' | 'warn' | 'fail';

export interface Check {
  /** stable id, e.g. 'spf.lookups', 'ptr.forward' */
  id: string;
  /** what was checked: a domain, a DNS name, an IP address, a mailbox */
  subject: string;
  status: Status;
  /** requirement IDs of REQUIREMENTS.md this check serves */
  requirements: string[];
  /** what was found, in plain words */
  found: string;
  /** the exact DNS record or setting that fixes it (absent on a pass) */
  fix?: string;
  /** a failure of this check stops marketing outside the sandbox (doctorGate) */
  blocking: boolean;
}

export interface DomainReport {
  domainId: string;
  domain: string;
  /** epoch ms */
  checkedAt: number;
  checks: Check[];
  summary: { pass: number; warn: number; fail: number };
  /** at least one blocking check failed: no marketing outside the sandbox */
  blocked: boolean;
}

/**
 * One DNS answer as a fact: found (with values), none (NXDOMAIN / NODATA: there
 * is no such record) or error (SERVFAIL, timeout…: could not check, never
 * read as an absence).
 */
export type Lookup<T> =
  | { kind: 'found'; value: T }
  | { kind: 'none' }
  | { kind: 'error'; code: string };

export const found = <T>(value: T): Lookup<T> => ({ kind: 'found', value });
export const none: Lookup<never> = { kind: 'none' };

/** A check with its blocking flag derived: only a fail of a blocking kind blocks. */
export function check(c: Omit<Check, 'blocking'> & { blocking?: boolean }): Check {
  const { fix, ...rest } = c;
  // a fix is shown for what needs one; an absent fix has no key (reports round-trip through JSON)
  return { ...rest, ...(fix !== undefined && c.status !== 'pass' ? { fix } : {}), blocking: c.status === 'fail' && (c.blocking ?? false) };
}

/** The usual "could not check" warning for a lookup that errored. */
export function couldNotCheck(id: string, subject: string, requirements: string[], what: string, code: string): Check {
  return check({ id, subject, status: 'warn', requirements, found: `could not check: looking up ${what} failed (${code}); run the doctor again later` });
}

export function summarise(domainId: string, domain: string, checkedAt: number, checks: Check[]): DomainReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { domainId, domain, checkedAt, checks, summary, blocked: checks.some((c) => c.blocking) };
}

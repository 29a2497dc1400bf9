// Retry policy (issue 5): exponential backoff from minutes to hours, and
// expiry after a configurable age. Pure, like KumoMTA's delay_for_attempt:
// the clock and the randomness are passed in, so tests are exact.

export const DEFAULT_BACKOFF = { baseMinutes: 5, maxMinutes: 240 } as const;
export const DEFAULT_EXPIRY_DAYS = { marketing: 3, transactional: 5 } as const;

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface BackoffOptions {
  /** the delay after the first failed attempt */
  baseMinutes?: number;
  /** the ceiling the doubling stops at */
  maxMinutes?: number;
  /** returns a number in [0, 1); spreads retries by ±10 % so a provider that
   * deferred a whole batch is not hit by the whole batch again at once */
  jitter?: () => number;
  /** the wait a reply or a provider reaction asked for; wins when longer */
  retryAfterMinutes?: number;
}

/** Milliseconds to wait after failed attempt number `attempt` (1 for the
 * first failure): 5, 10, 20, 40 min, 1h20, 2h40, then 4 h each time. */
export function nextAttemptDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMinutes ?? DEFAULT_BACKOFF.baseMinutes;
  const max = opts.maxMinutes ?? DEFAULT_BACKOFF.maxMinutes;
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2 ** n is Infinity past n = 1023; Math.min keeps the ceiling.
  let minutes = Math.min(max, base * 2 ** (n - 1));
  if (opts.jitter) {
    const j = Math.min(Math.max(Number(opts.jitter()) || 0, 0), 1);
    minutes *= 0.9 + 0.2 * j;
  }
  const after = opts.retryAfterMinutes;
  if (after !== undefined && Number.isFinite(after) && after > minutes) minutes = after;
  return Math.round(minutes * MINUTE);
}

export interface ExpiryOptions {
  marketingDays?: number;
  transactionalDays?: number;
}

/** Has a message been retried long enough? Then it bounces with reason
 * "expired". Transactional mail gets longer: a receipt late is better than
 * none, a promotion late is worth little. */
export function expired(firstAttemptAt: number, now: number, kind: 'marketing' | 'transactional', opts: ExpiryOptions = {}): boolean {
  const days = kind === 'marketing' ? (opts.marketingDays ?? DEFAULT_EXPIRY_DAYS.marketing) : (opts.transactionalDays ?? DEFAULT_EXPIRY_DAYS.transactional);
  return now - firstAttemptAt >= days * DAY;
}

// When a failed webhook POST is tried again (pure, table-tested). Receivers
// are usually down for seconds (a deploy) or hours (an outage): start at
// 30 s, double up to an hour, and keep trying hourly until the retry window
// (24 h by default, counted from the delivery's creation) is over. The last
// attempt is placed at the end of the window, so "retried for 24 h" holds.

export const WEBHOOK_BACKOFF = { baseMs: 30_000, maxMs: 3_600_000 } as const;

/** Milliseconds to wait after failed attempt number `attempt` (1 for the first
 * failure): 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h. `jitter` in [0, 1) spreads
 * ±10 % so the retries of an endpoint that was down do not all come at once. */
export function webhookRetryDelay(attempt: number, jitter?: () => number): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  let ms = Math.min(WEBHOOK_BACKOFF.maxMs, WEBHOOK_BACKOFF.baseMs * 2 ** (n - 1));
  if (jitter) ms *= 0.9 + 0.2 * Math.min(Math.max(Number(jitter()) || 0, 0), 1);
  return Math.round(ms);
}

export type AfterFailure = { status: 'pending'; nextAttemptAt: number } | { status: 'failed' };

/** What a failed attempt leaves: another try, or failed once the window is over. */
export function afterFailure(o: { attempts: number; createdAt: number; now: number; windowMs: number; jitter?: () => number }): AfterFailure {
  const deadline = o.createdAt + o.windowMs;
  if (o.now >= deadline) return { status: 'failed' };
  return { status: 'pending', nextAttemptAt: Math.min(o.now + webhookRetryDelay(o.attempts, o.jitter), deadline) };
}

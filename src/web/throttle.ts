// Sign-in attempts, counted per client address and per account in fixed
// windows: a password guesser is slowed whether it tries many passwords on
// one account or one password on many. Failures count; a success clears the
// account's count. In process memory: with several `envoi up` processes
// behind a balancer each counts its own, which multiplies the budget by the
// number of processes but still bounds it.

export interface Limit {
  max: number;
  windowMs: number;
}

export const LOGIN_LIMITS: { perIp: Limit; perAccount: Limit } = {
  perIp: { max: 20, windowMs: 15 * 60_000 },
  perAccount: { max: 5, windowMs: 15 * 60_000 },
};

interface Window {
  count: number;
  resetAt: number;
}

const MAX_KEYS = 50_000;

export function createLoginThrottle(now: () => number, limits = LOGIN_LIMITS) {
  const windows = new Map<string, Window>();
  const current = (key: string, t: number): Window | undefined => {
    const w = windows.get(key);
    if (w && w.resetAt <= t) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  const bump = (key: string, limit: Limit, t: number) => {
    const w = current(key, t);
    if (w) w.count++;
    else windows.set(key, { count: 1, resetAt: t + limit.windowMs });
    if (windows.size > MAX_KEYS) for (const [k, v] of windows) if (v.resetAt <= t) windows.delete(k);
  };
  const ipKey = (ip: string) => `ip:${ip}`;
  const accountKey = (email: string) => `acct:${email.trim().toLowerCase()}`;

  return {
    /** Milliseconds until another attempt is allowed, or 0 when it is now. */
    retryAfter(ip: string, email: string): number {
      const t = now();
      let wait = 0;
      for (const [key, limit] of [[ipKey(ip), limits.perIp], [accountKey(email), limits.perAccount]] as const) {
        const w = current(key, t);
        if (w && w.count >= limit.max) wait = Math.max(wait, w.resetAt - t);
      }
      return wait;
    },
    failed(ip: string, email: string): void {
      const t = now();
      bump(ipKey(ip), limits.perIp, t);
      bump(accountKey(email), limits.perAccount, t);
    },
    succeeded(email: string): void {
      windows.delete(accountKey(email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

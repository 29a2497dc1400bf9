// Domain age (MJ-8): the registration date of the organizational domain from
// RDAP (RFC 9083), through an injectable fetch so tests serve RDAP JSON from
// loopback and nothing here reaches the internet by itself. Unknown is a
// warning, never a failure; a domain younger than 30 days warns.
import { check, type Check, type Lookup } from './types.ts';

/** The part of fetch the client uses. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string>; redirect?: 'follow' }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export const YOUNG_DOMAIN_DAYS = 30;
const DAY = 86_400_000;

/** The registration date (epoch ms) of a domain, as a fact. */
export async function registrationDate(fetchFn: FetchLike, baseUrl: string, domain: string, timeoutMs: number): Promise<Lookup<number>> {
  const url = `${baseUrl.replace(/\/$/, '')}/domain/${encodeURIComponent(domain)}`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/rdap+json, application/json' }, redirect: 'follow' });
    if (res.status === 404) return { kind: 'none' };
    if (!res.ok) return { kind: 'error', code: `HTTP ${res.status}` };
    const at = registrationOf(await res.json());
    return at === null ? { kind: 'none' } : { kind: 'found', value: at };
  } catch (e) {
    return { kind: 'error', code: (e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message.slice(0, 80) };
  }
}

/** The "registration" event of an RDAP domain object (RFC 9083 §4.5), or null. */
export function registrationOf(body: unknown): number | null {
  const events = (body as { events?: unknown })?.events;
  if (!Array.isArray(events)) return null;
  for (const e of events) {
    if (e && typeof e === 'object' && (e as { eventAction?: unknown }).eventAction === 'registration') {
      const t = Date.parse(String((e as { eventDate?: unknown }).eventDate));
      if (Number.isFinite(t)) return t;
    }
  }
  return null;
}

export function judgeAge(domain: string, registered: Lookup<number> | undefined, now: number): Check {
  const req = ['MJ-8'];
  if (!registered) return check({ id: 'domain.age', subject: domain, status: 'warn', requirements: req, found: 'not looked up (doctor.rdapBaseUrl is empty); receivers distrust domains younger than a month' });
  if (registered.kind !== 'found') {
    return check({ id: 'domain.age', subject: domain, status: 'warn', requirements: req, found: `the registration date is unknown (${registered.kind === 'error' ? `RDAP: ${registered.code}` : 'no registration event in RDAP'}); receivers distrust domains younger than a month` });
  }
  const days = Math.floor((now - registered.value) / DAY);
  const date = new Date(registered.value).toISOString().slice(0, 10);
  if (days < YOUNG_DOMAIN_DAYS) {
    return check({ id: 'domain.age', subject: domain, status: 'warn', requirements: req, found: `registered ${date}, ${Math.max(0, days)} days ago: receivers distrust domains younger than ${YOUNG_DOMAIN_DAYS} days; keep volumes low (the warm-up ramp starts small) until it is older` });
  }
  return check({ id: 'domain.age', subject: domain, status: 'pass', requirements: req, found: `registered ${date} (${days} days ago)` });
}

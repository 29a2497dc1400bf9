// MTA-STS (RFC 8461), the IO part: is there a `_mta-sts` TXT record for the
// recipient domain (through the platform resolver), then its policy from
// https://mta-sts.<domain>/.well-known/mta-sts.txt (certificate verified, no
// redirects, at most 64 KB, a short timeout), cached for its max_age. The
// TXT record is looked at again every few minutes; a new id fetches the
// policy again. When a fetch fails, or the TXT record is gone or cannot be
// read, a cached policy that has not expired is kept (§5: that is what
// protects against an attacker who strips the record or blocks the fetch);
// with none cached the domain is treated as having no policy. Parsing and
// matching are pure (policy/mta-sts.ts).
import https from 'node:https';
import type { Logger } from 'pino';
import type { Resolver } from '../../net/resolver.ts';
import type { Clock } from '../../clock.ts';
import { singleFlight } from '../../single-flight.ts';
import { parsePolicy, parseStsRecord, type StsPolicy } from '../../policy/mta-sts.ts';

export type StsState =
  | { kind: 'none'; note?: string }
  | { kind: 'policy'; domain: string; id: string; policy: StsPolicy; note?: string };

export type FetchedPolicy = { ok: true; text: string } | { ok: false; problem: string };
/** Fetches a domain's policy file: the seam tests point at their own HTTPS server */
export type FetchPolicy = (domain: string) => Promise<FetchedPolicy>;

export interface PolicyFetchOptions {
  /** 443 (RFC 8461); tests serve the policy on another port */
  port?: number;
  /** CA certificates to trust instead of Node's bundle (tests) */
  ca?: string;
  timeoutMs?: number;
  /** a policy file larger than this is refused (64 KB: RFC 8461 §3.3 suggests senders cap it) */
  maxBytes?: number;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
const absent = (c: string) => c === 'ENOTFOUND' || c === 'ENODATA';

/**
 * The RFC's fetch: `mta-sts.<domain>` looked up through the platform
 * resolver, HTTPS on `port` with the certificate checked against that name,
 * status 200 only (a redirect is a failure, §3.3), the body capped.
 */
export function httpsPolicyFetcher(resolver: Resolver, o: PolicyFetchOptions = {}): FetchPolicy {
  const port = o.port ?? 443;
  const maxBytes = o.maxBytes ?? 64 * 1024;
  const timeoutMs = o.timeoutMs ?? 10_000;
  return async (domain) => {
    const name = `mta-sts.${domain}`;
    let ips: string[] = [];
    try {
      ips = await resolver.a(name).catch(async (e) => (absent(code(e)) ? resolver.aaaa(name) : Promise.reject(e)));
    } catch (e) {
      return { ok: false, problem: `${name}: DNS ${code(e)}` };
    }
    if (!ips.length) return { ok: false, problem: `${name} has no address` };
    return new Promise<FetchedPolicy>((resolve) => {
      let settled = false;
      const done = (r: FetchedPolicy) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(r);
      };
      const req = https.request({
        host: ips[0], port, path: '/.well-known/mta-sts.txt', method: 'GET', agent: false,
        servername: name, headers: { host: name, accept: 'text/plain' },
        rejectUnauthorized: true, ...(o.ca ? { ca: o.ca } : {}),
      }, (res) => {
        if (res.statusCode !== 200) {
          const redirect = res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
          return done({ ok: false, problem: `https://${name}/.well-known/mta-sts.txt answered HTTP ${res.statusCode}${redirect}` });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) return done({ ok: false, problem: `the policy of ${domain} is larger than ${maxBytes} bytes` });
          chunks.push(c);
        });
        res.on('end', () => done({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => done({ ok: false, problem: `https://${name}/: ${err.message}` }));
      });
      const timer = setTimeout(() => done({ ok: false, problem: `https://${name}/ did not answer within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (err) => done({ ok: false, problem: `https://${name}/: ${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim() }));
      req.end();
    });
  };
}

export interface MtaStsOptions {
  resolver: Resolver;
  clock: Clock;
  fetchPolicy: FetchPolicy;
  logger?: Pick<Logger, 'warn'>;
  /** how long the TXT record's answer is trusted before it is looked at again (default 5 min) */
  recheckMs?: number;
}

interface Cached {
  id: string;
  policy: StsPolicy;
  expiresAt: number;
}

export function createMtaSts(o: MtaStsOptions) {
  const recheckMs = o.recheckMs ?? 5 * 60_000;
  const policies = new Map<string, Cached>();
  /** when the TXT record of a domain was last looked at, and what it said then */
  const checked = new Map<string, { at: number; state: StsState }>();
  const refreshes = singleFlight<StsState>();

  const fromCache = (domain: string, c: Cached, note?: string): StsState => ({ kind: 'policy', domain, id: c.id, policy: c.policy, ...(note ? { note } : {}) });

  async function refresh(domain: string, now: number): Promise<StsState> {
    const cached = policies.get(domain);
    let records: string[];
    try {
      records = (await o.resolver.txt(`_mta-sts.${domain}`)).map((r) => r.join(''));
    } catch (e) {
      if (!absent(code(e))) {
        const note = `_mta-sts.${domain}: DNS ${code(e)}`;
        return cached ? fromCache(domain, cached, `${note}; the cached policy applies`) : { kind: 'none', note };
      }
      records = [];
    }
    const record = parseStsRecord(records);
    // no record (any more): a cached policy still holds until it expires (§5)
    if (!record) return cached ? fromCache(domain, cached) : { kind: 'none' };
    if (cached && cached.id === record.id) return fromCache(domain, cached);
    const fetched = await o.fetchPolicy(domain);
    const parsed = fetched.ok ? parsePolicy(fetched.text) : undefined;
    if (parsed?.ok) {
      const c = { id: record.id, policy: parsed.policy, expiresAt: now + parsed.policy.maxAge * 1000 };
      policies.set(domain, c);
      if (policies.size > 50_000) policies.delete(policies.keys().next().value!);
      return fromCache(domain, c);
    }
    const problem = fetched.ok ? `the policy of ${domain} is invalid: ${(parsed as { problem: string }).problem}` : fetched.problem;
    o.logger?.warn({ domain, problem, cached: !!cached }, 'MTA-STS: could not fetch the policy');
    return cached ? fromCache(domain, cached, `${problem}; the cached policy applies`) : { kind: 'none', note: problem };
  }

  return {
    /** The policy that applies to mail for `domain` now. Never throws. */
    async policyFor(domainName: string): Promise<StsState> {
      const domain = domainName.toLowerCase().replace(/\.$/, '');
      const now = o.clock.now();
      const c = policies.get(domain);
      if (c && c.expiresAt <= now) policies.delete(domain);
      const seen = checked.get(domain);
      if (seen && now - seen.at < recheckMs && (seen.state.kind === 'none' || policies.has(domain))) return seen.state;
      return refreshes.run(domain, () => refresh(domain, now)
        .catch((err): StsState => ({ kind: 'none', note: `MTA-STS lookup failed: ${(err as Error).message}` })), (state) => {
        checked.set(domain, { at: now, state });
        if (checked.size > 50_000) checked.delete(checked.keys().next().value!);
      });
    },
  };
}

export type MtaSts = ReturnType<typeof createMtaSts>;

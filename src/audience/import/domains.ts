// Can a domain receive mail? MX first, then the implicit MX of RFC 5321
// §5.1 (an A or AAAA record). Answers come from the platform's resolver,
// cached per domain (a bounded cache: a scraped list can hold a million
// distinct domains) and asked with bounded concurrency.
//
// Only a definite answer refuses a row: NXDOMAIN, no MX and no address, or a
// null MX (RFC 7505, "this domain accepts no mail"). A timeout or SERVFAIL
// says nothing about the domain; such rows are accepted as "unverified".
import type { Resolver } from '../../net/resolver.ts';

export type DomainVerdict = 'mail' | 'no_mail' | 'nxdomain' | 'unverified';

const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);
const code = (e: unknown) => (e as { code?: string })?.code ?? '';

export async function checkDomain(r: Resolver, domain: string): Promise<DomainVerdict> {
  try {
    const mx = await r.mx(domain);
    if (mx.length === 0) return addressFallback(r, domain);
    // RFC 7505: a single MX with an empty exchange ("." ) means no mail
    if (mx.every((m) => m.exchange === '' || m.exchange === '.')) return 'no_mail';
    return 'mail';
  } catch (e) {
    if (code(e) === 'ENOTFOUND') return 'nxdomain';
    if (code(e) === 'ENODATA') return addressFallback(r, domain);
    return 'unverified';
  }
}

async function addressFallback(r: Resolver, domain: string): Promise<DomainVerdict> {
  for (const lookup of [() => r.a(domain), () => r.aaaa(domain)]) {
    try {
      if ((await lookup()).length > 0) return 'mail';
    } catch (e) {
      if (!ABSENT.has(code(e))) return 'unverified';
    }
  }
  return 'no_mail';
}

export interface DomainChecker {
  /** verdicts for these domains, looked up with at most `concurrency` queries in flight */
  verdicts(domains: Iterable<string>): Promise<Map<string, DomainVerdict>>;
}

export function createDomainChecker(r: Resolver, opts: { concurrency?: number; cacheSize?: number } = {}): DomainChecker {
  const concurrency = opts.concurrency ?? 32;
  const cacheSize = opts.cacheSize ?? 50_000;
  // insertion-ordered Map as an LRU: a hit is moved to the end, the oldest goes first.
  // "unverified" is cached too: a server that timed out once would cost a
  // timeout per batch for the rest of the file.
  const cache = new Map<string, DomainVerdict>();
  const remember = (d: string, v: DomainVerdict) => {
    cache.set(d, v);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };
  return {
    async verdicts(domains) {
      const out = new Map<string, DomainVerdict>();
      const todo: string[] = [];
      for (const d of new Set(domains)) {
        const hit = cache.get(d);
        if (hit) {
          cache.delete(d);
          cache.set(d, hit);
          out.set(d, hit);
        } else todo.push(d);
      }
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const d = todo[next++];
          const v = await checkDomain(r, d);
          remember(d, v);
          out.set(d, v);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
      return out;
    },
  };
}

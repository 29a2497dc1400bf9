// Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference,
// or, without MX, the domain itself (implicit MX, its A/AAAA); a null MX
// (RFC 7505: one MX "." ) means the domain accepts no mail at all. Answers
// are cached for a while so a campaign to 10,000 gmail.com recipients asks
// once. DNS failures are outcomes, not exceptions: "try later" differs from
// "no such domain". A host's addresses are its A and AAAA records: which
// family is used depends on the IP pool sending (`forFamily`), decided at
// delivery since the route is shared by every pool.
//
// A DNS failure ("could not check": a timeout, SERVFAIL) of a domain already
// known keeps its last route for a while and asks again soon, as resolvers
// serving stale data do (RFC 8767): a campaign to 2,000 recipients of one
// domain saw every one of them deferred for minutes by one lost UDP reply
// while the last answer was a minute old. A domain never answered is retried
// after a few seconds, and one lookup per domain is in flight at a time (a
// cache miss under load started one per waiting recipient).
import { isIP } from 'node:net';
import type { Resolver } from '../../net/resolver.ts';
import type { Clock } from '../../clock.ts';
import { singleFlight } from '../../single-flight.ts';

export interface MxHost {
  host: string;
  priority: number;
  /** addresses of the host: IPv4 (A) first, then IPv6 (AAAA) */
  ips: string[];
}

export type Route =
  | { kind: 'hosts'; hosts: MxHost[]; implicit: boolean }
  | { kind: 'no-mail'; reason: 'null-mx' | 'nxdomain' | 'no-address' }
  | { kind: 'dns-error'; code: string };

const TTL_MS = 5 * 60_000;
/** a domain that has no mail (null MX, NXDOMAIN, no address) */
const NEGATIVE_TTL_MS = 60_000;
/** a lookup that failed: asked again after this long */
const ERROR_TTL_MS = 10_000;
/** how long past its TTL a route stands in for lookups that fail (RFC 8767 suggests 1 to 3 days) */
const MAX_STALE_MS = 60 * 60_000;

const code = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
const absent = (c: string) => c === 'ENOTFOUND' || c === 'ENODATA';

export function createMxRouter(resolver: Resolver, clock: Clock) {
  /** `at`: when the route was answered; `until`: when to ask again */
  const cache = new Map<string, { at: number; until: number; route: Route }>();
  const lookups = singleFlight<Route>();

  /** A and AAAA together; a failure of one family only counts when the other has nothing either */
  async function addresses(host: string): Promise<string[] | string> {
    const ask = (q: Promise<string[]>) => q.then((ips): string[] | string => ips, (e) => (absent(code(e)) ? [] : code(e)));
    const [v4, v6] = await Promise.all([ask(resolver.a(host)), ask(resolver.aaaa(host))]);
    const ips = [...(typeof v4 === 'string' ? [] : v4), ...(typeof v6 === 'string' ? [] : v6)];
    if (ips.length) return ips;
    return typeof v4 === 'string' ? v4 : typeof v6 === 'string' ? v6 : [];
  }

  async function lookup(domain: string): Promise<Route> {
    let mx: { exchange: string; priority: number }[];
    try {
      mx = await resolver.mx(domain);
    } catch (e) {
      const c = code(e);
      if (c === 'ENOTFOUND') return { kind: 'no-mail', reason: 'nxdomain' };
      if (c !== 'ENODATA') return { kind: 'dns-error', code: c };
      mx = [];
    }
    if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) return { kind: 'no-mail', reason: 'null-mx' };
    if (!mx.length) {
      const ips = await addresses(domain);
      if (typeof ips === 'string') return { kind: 'dns-error', code: ips };
      return ips.length ? { kind: 'hosts', hosts: [{ host: domain, priority: 0, ips }], implicit: true } : { kind: 'no-mail', reason: 'no-address' };
    }
    const hosts: MxHost[] = [];
    let lastError: string | undefined;
    for (const m of [...mx].sort((a, b) => a.priority - b.priority)) {
      const ips = await addresses(m.exchange.replace(/\.$/, ''));
      if (typeof ips === 'string') lastError = ips;
      else if (ips.length) hosts.push({ host: m.exchange.replace(/\.$/, '').toLowerCase(), priority: m.priority, ips });
    }
    if (hosts.length) return { kind: 'hosts', hosts, implicit: false };
    return lastError ? { kind: 'dns-error', code: lastError } : { kind: 'no-mail', reason: 'no-address' };
  }

  return {
    async route(domain: string): Promise<Route> {
      const key = domain.toLowerCase();
      const hit = cache.get(key);
      const now = clock.now();
      if (hit && now < hit.until) return hit.route;
      return lookups.run(key, async () => {
        const route = await lookup(key);
        const at = clock.now();
        if (route.kind === 'dns-error') {
          // the last good answer, while not too old, stands in for this one
          const stale = cache.get(key);
          const good = stale && stale.route.kind === 'hosts' && at - stale.at < TTL_MS + MAX_STALE_MS ? stale : undefined;
          cache.set(key, { at: good ? good.at : at, until: at + ERROR_TTL_MS, route: good ? good.route : route });
          return good ? good.route : route;
        }
        cache.set(key, { at, until: at + (route.kind === 'hosts' ? TTL_MS : NEGATIVE_TTL_MS), route });
        if (cache.size > 50_000) cache.delete(cache.keys().next().value!);
        return route;
      });
    },
  };
}

export type MxRouter = ReturnType<typeof createMxRouter>;

/**
 * The hosts reachable from a source address: only its family's addresses
 * (a pool bound to an IPv4 address cannot reach an IPv6-only MX, and the
 * other way round); hosts left with none are skipped. No source address
 * (the system's choice): every address, IPv4 first.
 */
export function forFamily(hosts: MxHost[], source: string | undefined): MxHost[] {
  const family = source ? isIP(source) : 0;
  if (!family) return hosts;
  return hosts.map((h) => ({ ...h, ips: h.ips.filter((ip) => isIP(ip) === family) })).filter((h) => h.ips.length > 0);
}

// The platform's DNS resolver: one narrow interface, passed in wherever DNS is
// read (DKIM/SPF/DMARC checks, MX lookups, the doctor), so tests point it at a
// real DNS server on loopback instead of mocking.
//
// Errors are node's own, with err.code kept: ENOTFOUND (no such name) and
// ENODATA (name exists, no record of that type) mean "there is no record";
// ESERVFAIL, ETIMEOUT, ECONNREFUSED… mean "could not check" and must not be
// read as an absence.
import { Resolver as NodeResolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface Resolver {
  /** TXT records, each as its list of character-strings (join them to read the value) */
  txt(name: string): Promise<string[][]>;
  mx(name: string): Promise<{ exchange: string; priority: number }[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** reverse lookup: the PTR names of an IPv4 or IPv6 address */
  ptr(ip: string): Promise<string[]>;
}

export interface ResolverOptions {
  /** "ip" or "ip:port" ("[v6]:port"); default: the system's resolv.conf servers */
  servers?: string[];
  /**
   * per-try timeout; default 2000 ms. c-ares waits longer than this and backs
   * off between tries: measured on loopback, 1000 ms × 1 try gives up after
   * 2 s, 2000 ms × 2 tries after 6 s, 50 ms × 1 try after 0.25 s.
   */
  timeoutMs?: number;
  /** tries per server before giving up; default 2 */
  tries?: number;
}

export function createResolver(opts: ResolverOptions = {}): Resolver {
  const r = new NodeResolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  if (opts.servers && opts.servers.length > 0) r.setServers(opts.servers);
  return {
    txt: (name) => r.resolveTxt(name),
    mx: (name) => r.resolveMx(name),
    a: (name) => r.resolve4(name),
    aaaa: (name) => r.resolve6(name),
    ptr: (ip) => r.reverse(ip),
  };
}

/**
 * Adapter to the resolver(name, rrtype) function mailauth takes: results shaped
 * like node's dns.resolve, errors with node's codes (mailauth tells "no record"
 * from "temperror" by ENOTFOUND/ENODATA).
 */
export function mailauthResolver(r: Resolver): (name: string, rrtype: string) => Promise<any> {
  return async (name, rrtype) => {
    switch (rrtype.toUpperCase()) {
      case 'TXT': return r.txt(name);
      case 'MX': return r.mx(name);
      case 'A': return r.a(name);
      case 'AAAA': return r.aaaa(name);
      case 'PTR': {
        // mailauth asks for the PTR of a reverse name it built from the IP
        const ip = ipFromReverseName(name);
        if (!ip) throw dnsError('EBADNAME', name, `not a reverse DNS name: ${name}`);
        return r.ptr(ip);
      }
      default:
        throw dnsError('ENOTIMP', name, `record type ${rrtype} is not supported`);
    }
  };
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; 32-nibble ".ip6.arpa" names → IPv6; otherwise null. */
export function ipFromReverseName(name: string): string | null {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.endsWith('.in-addr.arpa')) {
    const ip = lower.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
    return isIP(ip) === 4 ? ip : null;
  }
  if (lower.endsWith('.ip6.arpa')) {
    const nibbles = lower.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return null;
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(nibbles.slice(i, i + 4).join(''));
    return groups.join(':');
  }
  return null;
}

function dnsError(code: string, hostname: string, message: string): Error {
  return Object.assign(new Error(message), { code, hostname });
}

// Where a webhook may be sent. An endpoint URL is a tenant's input that
// makes envoi open connections: without a check it would reach the
// platform's own loopback services, the private network and cloud metadata
// (169.254.169.254) — SSRF. So: https only (unless configured), no
// fragment, and every address the name resolves to must be public; checked
// at registration for a clear error and again at connect time (postWebhook
// passes `guardedLookup` to the socket), so a name re-pointed later to
// 127.0.0.1 is refused too. The classification is pure and table-tested.
import dns from 'node:dns';
import net from 'node:net';
import { fail, ok, type Result } from '../errors.ts';

/** null for a public unicast address; otherwise what the address is. */
export function nonPublicReason(ip: string): string | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return v4Reason(v4);
  const g = parseV6(ip);
  if (!g) return 'not an IP address';
  if (g.every((x) => x === 0)) return 'unspecified';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judge the IPv4 inside
  const embedded = (g[6] << 16 | g[7]) >>> 0;
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return v4Reason(embedded);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Reason(embedded);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private (local NAT64)';
  if (g[0] === 0x2002) return v4Reason((g[1] << 16 | g[2]) >>> 0); // 6to4
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'reserved (discard)';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x2001 && g[1] < 0x200) return 'reserved (IETF protocol assignments)';
  if ((g[0] & 0xfe00) === 0xfc00) return 'private (unique local)';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'private (site-local)';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** [network, prefix length, what]: RFC 6890 special-purpose IPv4 blocks that are not the public Internet. */
const V4_BLOCKS: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private (shared address space)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved (6to4 relay)'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V4 = V4_BLOCKS.map(([n, len, what]) => ({ net: parseV4(n)!, mask: len === 0 ? 0 : (~0 << (32 - len)) >>> 0, what }));

function v4Reason(a: number): string | null {
  for (const b of V4) if (((a & b.mask) >>> 0) === b.net) return b.what;
  return null;
}

function parseV4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return null;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

/** Eight 16-bit groups, or null. Accepts "::", an embedded dotted IPv4 tail and a zone (%eth0). */
function parseV6(input: string): number[] | null {
  let s = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!net.isIPv6(s)) return null;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v = parseV4(dotted[1]);
    if (v === null) return null;
    s = s.slice(0, -dotted[1].length) + `${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const part = (x: string | undefined) => (x ? x.split(':').map((h) => parseInt(h, 16)) : []);
  const h = part(head);
  const t = part(tail);
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill(0), ...t] : h;
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : null;
}

export interface UrlPolicy {
  allowHttp: boolean;
}

export interface CheckedUrl {
  /** the URL without userinfo */
  url: string;
  /** from https://user:pass@host/: sent as HTTP Basic credentials */
  auth: { username: string; password: string } | null;
}

/** The syntax part of the check (pure). */
export function checkUrl(raw: string, policy: UrlPolicy): Result<CheckedUrl> {
  if (raw.length > 2048) return fail('request.invalid', 'url: longer than 2048 characters', 'url');
  if (/[\s\x00-\x1f\x7f]/.test(raw)) return fail('request.invalid', 'url: spaces and control characters are not allowed', 'url');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail('request.invalid', 'url: not an absolute URL', 'url');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && policy.allowHttp)) {
    return fail('request.invalid', policy.allowHttp ? 'url: must be http:// or https://' : 'url: must be https://', 'url');
  }
  if (u.hash) return fail('request.invalid', 'url: no #fragment', 'url');
  if (!u.hostname) return fail('request.invalid', 'url: no host', 'url');
  const auth = u.username || u.password
    ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
    : null;
  u.username = '';
  u.password = '';
  return ok({ url: u.toString(), auth });
}

/** A URL's host as the resolver and the classifier want it: "[::1]" → "::1". */
export const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[|\]$/g, '');

export interface Resolved {
  address: string;
  family: number;
}

/** Every address the host resolves to, refused when one is not public (unless allowed). */
export async function resolveTarget(host: string, allowPrivate: boolean): Promise<Result<Resolved[]>> {
  let addrs: Resolved[];
  if (net.isIP(host)) addrs = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addrs = await dns.promises.lookup(host, { all: true, verbatim: true });
    } catch (e) {
      return fail('webhook.target_refused', `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'url');
    }
  }
  if (!allowPrivate) {
    for (const a of addrs) {
      const why = nonPublicReason(a.address);
      if (why) return fail('webhook.target_refused', `${host} resolves to ${a.address}, a ${why} address: webhooks go to public addresses only`, 'url');
    }
  }
  return ok(addrs);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | Resolved[], family?: number) => void;

/** A socket `lookup` that refuses non-public addresses at connect time (DNS rebinding). */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    resolveTarget(hostname, allowPrivate).then((r) => {
      if (!r.ok) {
        const err: NodeJS.ErrnoException = new Error(r.error.detail);
        err.code = 'ETARGETREFUSED';
        return cb(err, '');
      }
      if (options?.all) return cb(null, r.value);
      return cb(null, r.value[0].address, r.value[0].family);
    }, (e) => cb(e as Error, ''));
  };
}

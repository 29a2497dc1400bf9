// Everything the doctor looks up about one sending domain, as facts: DNS
// answers, SPF evaluations, a test DKIM signature verified by mailauth, SMTP
// probes, the RDAP registration date. The only IO of the domain checks;
// judge.ts turns these facts into checks without touching the network.
import { isIP } from 'node:net';
import { dkimVerify, spf as evaluateSpf } from 'mailauth';
import type { Resolver } from '../net/resolver.ts';
import { mailauthResolver } from '../net/resolver.ts';
import { DkimSigner, type DkimKey as SigningKey } from '../compose/dkim.ts';
import { a, addresses, mx, ptr, txt } from './lookup.ts';
import { spfTree } from './spf.ts';
import { orgDomain } from './dmarc.ts';
import { queryName, type DnsblZone } from './dnsbl.ts';
import { probeSmtp, type ProbeResult } from './smtp-probe.ts';
import { registrationDate, type FetchLike } from './rdap.ts';
import { ROLE_MAILBOXES } from './abuse.ts';
import type { Lookup } from './types.ts';
import type { MxList } from './mx.ts';
import type { PtrFacts } from './ptr.ts';
import type { DkimKeyFacts } from './dkim.ts';

export interface Environment {
  resolver: Resolver;
  fetch: FetchLike;
  /** envoi's public host name: MX target of the bounce subdomains */
  hostname: string;
  ehloName: string;
  zones: DnsblZone[];
  /** '' = RDAP not asked */
  rdapBaseUrl: string;
  smtpPort: number;
  timeoutMs: number;
  ca?: string;
}

export interface DomainInput {
  name: string;
  /** the active DKIM keys: what is published, and the keys to sign a test message with */
  keys: { selector: string; algorithm: 'rsa-sha256' | 'ed25519-sha256'; publicKey: string; record: string }[];
  signingKeys: SigningKey[];
  /** envelope domains: <bounce label>.<domain> for each stream */
  bounceHosts: string[];
  /** the SPF record envoi prints per name */
  expectedSpf: Record<string, string>;
  /** the sending IPs, when known without DNS (config); else the EHLO name's addresses are used */
  sendingIps: string[];
}

export interface DomainFacts {
  domain: string;
  org: string;
  hostname: string;
  ehloName: string;
  expectedSpf: Record<string, string>;
  bounceHosts: string[];
  /** the sending IPs and where they came from */
  ips: { list: string[]; source: 'config' | 'ehlo'; lookup?: Lookup<string[]> };
  spf: { name: string; tree: Map<string, Lookup<string[]>>; results: { ip: string; result: string }[] }[];
  dkim: DkimKeyFacts[];
  dmarc: { own: Lookup<string[]>; org?: Lookup<string[]>; bimi: Lookup<string[]> };
  fromMx: Lookup<MxList>;
  fromProbe?: { exchange: string; result: ProbeResult };
  bounceMx: { host: string; mx: Lookup<MxList> }[];
  inboundProbe?: ProbeResult;
  ptr: PtrFacts[];
  dnsbl: { target: string; answers: { zone: DnsblZone; answer: Lookup<string[]> }[] }[];
  registered?: Lookup<number>;
  mtaSts: Lookup<string[]>;
  tlsRpt: Lookup<string[]>;
}

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export async function gatherFacts(env: Environment, d: DomainInput): Promise<DomainFacts> {
  const r = env.resolver;
  const org = orgDomain(d.name);
  const ips = await sendingIps(env, d.sendingIps);

  const [spfFacts, dkim, dmarc, fromMx, bounceMx, ptrFacts, dnsbl, registered, mtaSts, tlsRpt] = await Promise.all([
    Promise.all([...d.bounceHosts, d.name].map(async (name) => ({ name, tree: await spfTree(r, name), results: await spfResults(env, name, ips.list) }))),
    dkimFacts(env, d),
    (async () => {
      const own = await txt(r, `_dmarc.${d.name}`);
      const orgL = org !== d.name ? await txt(r, `_dmarc.${org}`) : undefined;
      return { own, ...(orgL ? { org: orgL } : {}), bimi: await txt(r, `default._bimi.${d.name}`) };
    })(),
    mx(r, d.name),
    Promise.all(d.bounceHosts.map(async (host) => ({ host, mx: await mx(r, host) }))),
    Promise.all(ips.list.map((ip) => ptrFactsOf(r, ip, env.ehloName))),
    dnsblFacts(r, env.zones, [...ips.list, org]),
    env.rdapBaseUrl ? registrationDate(env.fetch, env.rdapBaseUrl, org, env.timeoutMs) : Promise.resolve(undefined),
    txt(r, `_mta-sts.${d.name}`),
    txt(r, `_smtp._tls.${d.name}`),
  ]);

  // SMTP: the From domain's MX (does it answer, abuse@/postmaster@), envoi's inbound MX (TLS)
  const routedToEnvoi = fromMx.kind === 'found' && fromMx.value.length > 0 && fromMx.value.every((m) => norm(m.exchange) === norm(env.hostname));
  const [fromProbe, inboundProbe] = await Promise.all([
    fromMx.kind === 'found' ? probeFirst(env, fromMx.value, routedToEnvoi ? [] : ROLE_MAILBOXES.map((b) => `${b}@${d.name}`)) : undefined,
    probeHost(env, env.hostname),
  ]);

  return {
    domain: d.name, org, hostname: env.hostname, ehloName: env.ehloName, expectedSpf: d.expectedSpf, bounceHosts: d.bounceHosts,
    ips, spf: spfFacts, dkim, dmarc, fromMx, ...(fromProbe ? { fromProbe } : {}), bounceMx, ...(inboundProbe ? { inboundProbe } : {}),
    ptr: ptrFacts, dnsbl, ...(registered ? { registered } : {}), mtaSts, tlsRpt,
  };
}

async function sendingIps(env: Environment, configured: string[]): Promise<DomainFacts['ips']> {
  if (configured.length) return { list: configured, source: 'config' };
  const lookup = await addresses(env.resolver, env.ehloName);
  return { list: lookup.kind === 'found' ? [...new Set(lookup.value)] : [], source: 'ehlo', lookup };
}

/** mailauth's SPF verdict for mail from <name> leaving from each IP. */
async function spfResults(env: Environment, name: string, ips: string[]): Promise<{ ip: string; result: string }[]> {
  const resolver = mailauthResolver(env.resolver);
  return Promise.all(ips.map(async (ip) => {
    try {
      const res = await evaluateSpf({ sender: `postmaster@${name}`, ip, helo: env.ehloName, mta: env.hostname, resolver } as never);
      return { ip, result: String(res.status.result) };
    } catch {
      return { ip, result: 'temperror' };
    }
  }));
}

async function dkimFacts(env: Environment, d: DomainInput): Promise<DkimKeyFacts[]> {
  const results = await testSignature(env, d);
  return Promise.all(d.keys.map(async (k) => {
    const name = `${k.selector}._domainkey.${d.name}`;
    return {
      name, selector: k.selector, algorithm: k.algorithm, expectedKey: k.publicKey, expectedRecord: k.record,
      published: await txt(env.resolver, name),
      signature: results.get(k.selector) ?? { result: 'none', comment: 'no signature with this selector' },
    };
  }));
}

/** Signs a small message with the domain's keys exactly as envoi does, and lets mailauth verify it through the platform resolver. */
async function testSignature(env: Environment, d: DomainInput): Promise<Map<string, { result: string; comment?: string }>> {
  const out = new Map<string, { result: string; comment?: string }>();
  if (!d.signingKeys.length) return out;
  const raw = Buffer.from([
    `From: doctor@${d.name}`, `To: check@${d.name}`, 'Subject: envoi doctor DKIM test', `Date: ${new Date().toUTCString()}`,
    `Message-ID: <doctor.${Date.now()}@${d.name}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'A test signature.', '',
  ].join('\r\n'));
  const signed = new DkimSigner(d.signingKeys).sign(raw);
  try {
    const v = await dkimVerify(signed, { resolver: mailauthResolver(env.resolver) } as never);
    for (const res of v.results) if (res.selector) out.set(res.selector, { result: String(res.status.result), ...(res.status.comment ? { comment: String(res.status.comment) } : {}) });
  } catch (e) {
    for (const k of d.keys) out.set(k.selector, { result: 'temperror', comment: (e as Error).message });
  }
  return out;
}

async function ptrFactsOf(r: Resolver, ip: string, ehloName: string): Promise<PtrFacts> {
  const names = await ptr(r, ip);
  const forward: Record<string, Lookup<string[]>> = {};
  if (names.kind === 'found') {
    for (const n of names.value.slice(0, 5)) forward[norm(n)] = await addresses(r, norm(n));
  }
  return { ip, ptr: names, forward, ehloName };
}

async function dnsblFacts(r: Resolver, zones: DnsblZone[], targets: string[]): Promise<DomainFacts['dnsbl']> {
  return Promise.all(targets.map(async (target) => {
    const answers = await Promise.all(zones.map(async (zone) => {
      const q = queryName(zone, target);
      return q ? { zone, answer: await a(r, q) } : null;
    }));
    return { target, answers: answers.filter((a): a is NonNullable<typeof a> => a !== null) };
  }));
}

/** Probes the first MX host that has an address, in priority order. */
async function probeFirst(env: Environment, list: MxList, rcpts: string[]): Promise<{ exchange: string; result: ProbeResult } | undefined> {
  for (const m of list) {
    const exchange = norm(m.exchange);
    if (!exchange || exchange === '.') continue;
    const result = await probeHost(env, exchange, rcpts);
    if (result) return { exchange, result };
  }
  return undefined;
}

async function probeHost(env: Environment, host: string, rcpts: string[] = []): Promise<ProbeResult | undefined> {
  const addrs = isIP(host) ? { kind: 'found' as const, value: [host] } : await addresses(env.resolver, host);
  if (addrs.kind !== 'found' || !addrs.value.length) return undefined;
  return probeSmtp({
    address: addrs.value[0], port: env.smtpPort, servername: host, helo: env.ehloName, tls: true,
    mailFrom: '', rcpts, timeoutMs: env.timeoutMs, ...(env.ca ? { ca: env.ca } : {}),
  });
}

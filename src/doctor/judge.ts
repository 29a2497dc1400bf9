// Every check of a domain from its facts, in the order a reader fixes things:
// authentication (SPF, DKIM, DMARC), where bounces and reports go, the
// sending IPs, blocklists, TLS, age. Pure: facts and the time in, checks out.
import type { DomainFacts } from './facts.ts';
import { judgeSenderId, judgeSpf } from './spf.ts';
import { judgeDkimKey } from './dkim.ts';
import { judgeDmarc } from './dmarc.ts';
import { judgeBounceMx, judgeFromMx } from './mx.ts';
import { judgeAbuse } from './abuse.ts';
import { judgePtr } from './ptr.ts';
import { judgeDnsbl } from './dnsbl.ts';
import { judgeMtaSts, judgeTls, judgeTlsRpt } from './tls-check.ts';
import { judgeAge } from './rdap.ts';
import { check, couldNotCheck, type Check } from './types.ts';

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export function judgeDomain(f: DomainFacts, now: number): Check[] {
  const out: Check[] = [];
  for (const s of f.spf) {
    const role = s.name === f.domain ? 'from' : 'envelope';
    out.push(...judgeSpf(s, { role, expected: f.expectedSpf[s.name] ?? `v=spf1 a:${f.hostname} ${role === 'envelope' ? '-all' : '~all'}` }));
  }
  const root = f.spf.find((s) => s.name === f.domain)?.tree.get(f.domain);
  if (root) out.push(judgeSenderId(f.domain, root));
  for (const k of f.dkim) out.push(...judgeDkimKey(k));
  out.push(...judgeDmarc({
    domain: f.domain, own: f.dmarc.own, ...(f.dmarc.org ? { org: f.dmarc.org } : {}), bimi: f.dmarc.bimi,
    dkimDomain: f.domain, spfDomains: f.bounceHosts,
  }));
  for (const b of f.bounceMx) out.push(judgeBounceMx(b.host, b.mx, f.hostname));
  out.push(judgeFromMx(f.domain, f.fromMx, f.fromProbe));
  const routed = f.fromMx.kind === 'found' && f.fromMx.value.length > 0 && f.fromMx.value.every((m) => norm(m.exchange) === norm(f.hostname));
  out.push(...judgeAbuse({ domain: f.domain, routedToEnvoi: routed, ...(f.fromProbe ? { probe: f.fromProbe } : {}) }));
  out.push(...judgeIps(f));
  for (const p of f.ptr) out.push(...judgePtr(p));
  for (const t of f.dnsbl) out.push(judgeDnsbl(t));
  out.push(f.inboundProbe
    ? judgeTls(f.hostname, "envoi's inbound MX", f.inboundProbe, now)
    : check({ id: 'tls.certificate', subject: `${f.hostname} (envoi's inbound MX)`, status: 'warn', requirements: ['GM-7'], found: `${f.hostname} has no address: its TLS could not be checked`, fix: `publish A ${f.hostname} <envoi's public address>` }));
  out.push(judgeMtaSts(f.domain, f.mtaSts));
  out.push(judgeTlsRpt(f.domain, f.tlsRpt));
  out.push(judgeAge(f.org, f.registered, now));
  return out;
}

/** Where the sending IPs came from; a missing list is itself a finding. */
function judgeIps(f: DomainFacts): Check[] {
  const req = ['GM-5', 'MC-5'];
  if (f.ips.list.length) return [];
  if (f.ips.lookup?.kind === 'error') return [couldNotCheck('ips', f.ehloName, req, `the addresses of the EHLO name ${f.ehloName}`, f.ips.lookup.code)];
  return [check({ id: 'ips', subject: f.ehloName, status: 'warn', requirements: req, found: `no sending IP is known: the EHLO name ${f.ehloName} has no address and doctor.sendingIps is empty, so PTR, SPF authorisation and blocklists of the IPs were not checked`, fix: `publish A ${f.ehloName} <sending IP>, or list the public sending IPs in doctor.sendingIps` })];
}

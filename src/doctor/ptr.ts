// Reverse DNS of each sending IP (GM-5, MC-5, AF-5): a PTR, confirmed by the
// forward lookup of its name, equal to the EHLO name, and not a generic
// residential/dynamic name (MC-4, AF-4). Pure over looked-up facts; the
// patterns are data (policy/data/residential-ptr.json).
import { isIP } from 'node:net';
import { parse } from 'tldts';
import data from '../policy/data/residential-ptr.json' with { type: 'json' };
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

const TOKENS = new Map(data.tokens.map((t) => [t.token, t.meaning]));

export interface PtrFacts {
  ip: string;
  ptr: Lookup<string[]>;
  /** addresses (A and AAAA) of each PTR name */
  forward: Record<string, Lookup<string[]>>;
  /** the EHLO name envoi gives from this IP */
  ehloName: string;
}

/** Why a PTR name looks residential or dynamic, or null. */
export function residentialReason(name: string, ip: string): string | null {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const p = parse(lower, { allowPrivateDomains: false });
  const host = p.subdomain ?? (p.domain ? '' : lower);
  for (const token of host.split(/[^a-z]+/).filter(Boolean)) {
    const meaning = TOKENS.get(token);
    if (meaning) return `"${token}" marks a ${meaning}`;
  }
  if (isIP(ip) === 4 && embedsIp(host, ip)) return 'the name spells out the IP address, the mark of generic access-network names';
  return null;
}

function embedsIp(host: string, ip: string): boolean {
  const octets = ip.split('.');
  const runs = host.match(/\d+/g) ?? [];
  const joined = runs.join('.');
  const forward = octets.join('.');
  const reverse = [...octets].reverse().join('.');
  if (joined.includes(forward) || joined.includes(reverse)) return true;
  const padded = octets.map((o) => o.padStart(3, '0')).join('');
  const hex = octets.map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  return runs.some((r) => r.includes(padded)) || host.includes(hex);
}

const REQ = ['GM-5', 'MC-5', 'AF-5'];
const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export function judgePtr(f: PtrFacts): Check[] {
  const subject = f.ip;
  const fixPtr = `ask the owner of ${f.ip} (the hosting provider) for a PTR record ${f.ip} → ${f.ehloName}, and publish A ${f.ehloName} ${f.ip}`;
  if (f.ptr.kind === 'error') return [couldNotCheck('ptr.present', subject, REQ, `the PTR of ${f.ip}`, f.ptr.code)];
  if (f.ptr.kind === 'none' || f.ptr.value.length === 0) {
    return [check({ id: 'ptr.present', subject, status: 'fail', requirements: REQ, blocking: true, found: `${f.ip} has no reverse DNS (PTR): Gmail answers 4.7.23`, fix: fixPtr })];
  }
  const names = f.ptr.value.map(norm);
  const out: Check[] = [check({ id: 'ptr.present', subject, status: 'pass', requirements: REQ, found: `PTR ${names.join(', ')}` })];

  const confirmed = names.filter((n) => {
    const fw = f.forward[n];
    return fw?.kind === 'found' && fw.value.some((a) => sameIp(a, f.ip));
  });
  const errored = names.filter((n) => f.forward[n]?.kind === 'error');
  if (confirmed.length) {
    out.push(check({ id: 'ptr.forward', subject, status: 'pass', requirements: REQ, found: `${confirmed[0]} resolves back to ${f.ip} (forward-confirmed)` }));
  } else if (errored.length) {
    out.push(couldNotCheck('ptr.forward', subject, REQ, `the addresses of ${errored[0]}`, (f.forward[errored[0]] as { code: string }).code));
  } else {
    const seen = names.map((n) => `${n} → ${f.forward[n]?.kind === 'found' ? (f.forward[n] as { value: string[] }).value.join(', ') : 'nothing'}`).join('; ');
    out.push(check({ id: 'ptr.forward', subject, status: 'fail', requirements: REQ, blocking: true, found: `the PTR name does not resolve back to ${f.ip} (${seen}): Gmail answers 4.7.23`, fix: `publish ${isIP(f.ip) === 6 ? 'AAAA' : 'A'} ${names[0]} ${f.ip}` }));
  }

  const residential = names.map((n) => [n, residentialReason(n, f.ip)] as const).find(([, why]) => why);
  out.push(residential
    ? check({ id: 'ptr.residential', subject, status: 'fail', requirements: ['MC-4', 'AF-4'], blocking: true, found: `${residential[0]} looks like a residential or dynamic address (${residential[1]}): receivers refuse direct mail from such IPs`, fix: 'send through a smart host (a relay of your provider, AUTH + TLS) instead of direct to MX, or get a static IP with a PTR naming the mail server' })
    : check({ id: 'ptr.residential', subject, status: 'pass', requirements: ['MC-4', 'AF-4'], found: `${names[0]} does not look residential or dynamic` }));

  // the EHLO name is compared with a confirmed PTR name only: an unconfirmed one is the failure above
  const ehlo = norm(f.ehloName);
  if (confirmed.length) {
    out.push(confirmed.includes(ehlo)
      ? check({ id: 'ptr.ehlo', subject, status: 'pass', requirements: ['MC-5'], found: `the EHLO name ${ehlo} is the PTR name` })
      : check({ id: 'ptr.ehlo', subject, status: 'fail', requirements: ['MC-5'], found: `envoi says EHLO ${ehlo}, but the PTR name is ${confirmed[0]}`, fix: `set delivery.ehloName to "${confirmed[0]}", or point the PTR of ${f.ip} to ${ehlo}` }));
  }
  return out;
}

function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  if (isIP(a) === 6 && isIP(b) === 6) return expand6(a) === expand6(b);
  return false;
}

function expand6(ip: string): string {
  const [head, tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

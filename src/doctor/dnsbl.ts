// DNS blocklists (MC-8): every sending IP and sending domain asked of each
// configured zone. The zones and what their answers mean are data
// (policy/data/dnsbl.json); the judgement is pure over the answers.
import { isIP } from 'node:net';
import data from '../policy/data/dnsbl.json' with { type: 'json' };
import { check, type Check, type Lookup } from './types.ts';

export interface DnsblZone {
  zone: string;
  kind: 'ip' | 'domain';
  name?: string;
  /** answer → meaning of a listing */
  codes?: Record<string, string>;
  /** answers that mean the query was refused: could not check */
  errors?: Record<string, string>;
  /** bit value of the last octet → meaning (SURBL) */
  bits?: Record<string, string>;
  source?: string;
}

const KNOWN = new Map((data.zones as unknown as DnsblZone[]).map((z) => [z.zone, z]));

/** The zones asked by default: every zone of policy/data/dnsbl.json. */
export const DEFAULT_DNSBL_ZONES: string[] = [...KNOWN.keys()];

/** Config entries → zones: a known zone by name; another as "zone" (IP list) or "domain:zone" (domain list). */
export function zonesFrom(entries: string[]): DnsblZone[] {
  return entries.map((e) => {
    const m = /^(ip|domain):(.+)$/i.exec(e.trim());
    const zone = (m ? m[2] : e).trim().toLowerCase().replace(/\.$/, '');
    return KNOWN.get(zone) ?? { zone, kind: m?.[1].toLowerCase() === 'domain' ? 'domain' : 'ip' };
  });
}

/** The name to ask: "<reversed IP>.<zone>" or "<domain>.<zone>"; null when the target does not fit the zone. */
export function queryName(zone: DnsblZone, target: string): string | null {
  const v = isIP(target);
  if (zone.kind === 'domain') return v ? null : `${target.toLowerCase()}.${zone.zone}`;
  if (v === 4) return `${target.split('.').reverse().join('.')}.${zone.zone}`;
  if (v === 6) return `${nibbles(target).reverse().join('.')}.${zone.zone}`;
  return null;
}

function nibbles(ip: string): string[] {
  const [head, tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('').split('');
}

export type ZoneAnswer =
  | { kind: 'clear' }
  | { kind: 'listed'; codes: { code: string; meaning: string }[] }
  | { kind: 'refused'; why: string };

/** What one zone's answer means. */
export function readAnswer(zone: DnsblZone, l: Lookup<string[]>): ZoneAnswer {
  if (l.kind === 'none') return { kind: 'clear' };
  if (l.kind === 'error') return { kind: 'refused', why: `lookup failed (${l.code})` };
  const listed: { code: string; meaning: string }[] = [];
  for (const code of l.value) {
    const err = zone.errors?.[code];
    if (err) return { kind: 'refused', why: `${code}: ${err}` };
    if (!code.startsWith('127.')) return { kind: 'refused', why: `${code} is not a DNSBL answer (a resolver that rewrites NXDOMAIN?)` };
    const meaning = zone.codes?.[code] ?? bitsMeaning(zone, code);
    if (meaning === null && !zone.codes && !zone.bits && code === '127.0.0.1') return { kind: 'refused', why: '127.0.0.1: query refused' };
    listed.push({ code, meaning: meaning ?? 'listed (code not documented for this zone)' });
  }
  return listed.length ? { kind: 'listed', codes: listed } : { kind: 'clear' };
}

function bitsMeaning(zone: DnsblZone, code: string): string | null {
  if (!zone.bits) return null;
  const last = Number(code.split('.')[3]);
  const hits = Object.entries(zone.bits).filter(([bit]) => (last & Number(bit)) !== 0).map(([, m]) => m);
  return hits.length ? hits.join(', ') : null;
}

export interface DnsblFacts {
  /** an IP address or a domain */
  target: string;
  answers: { zone: DnsblZone; answer: Lookup<string[]> }[];
}

/** One check per target over every zone: a listing fails (names zone, code, meaning); a refused query warns. */
export function judgeDnsbl(f: DnsblFacts): Check {
  const req = ['MC-8'];
  const read = f.answers.map(({ zone, answer }) => ({ zone, r: readAnswer(zone, answer) }));
  const listed = read.filter((x) => x.r.kind === 'listed');
  const refused = read.filter((x) => x.r.kind === 'refused');
  const asked = read.map((x) => x.zone.zone);
  if (!asked.length) return check({ id: 'dnsbl', subject: f.target, status: 'pass', requirements: req, found: 'no blocklist zone applies (doctor.dnsblZones)' });
  if (listed.length) {
    const what = listed.map(({ zone, r }) => `${zone.zone}: ${(r as { codes: { code: string; meaning: string }[] }).codes.map((c) => `${c.code} (${c.meaning})`).join(', ')}`);
    const where = listed.map(({ zone }) => zone.source ? `${zone.zone}: ${zone.source}` : zone.zone);
    return check({
      id: 'dnsbl', subject: f.target, status: 'fail', requirements: req, blocking: true,
      found: `listed — ${what.join('; ')}`,
      fix: `find and stop the cause (compromised account, purchased list, open relay), then request removal from each list: ${where.join('; ')}`,
    });
  }
  if (refused.length) {
    return check({
      id: 'dnsbl', subject: f.target, status: 'warn', requirements: req,
      found: `not listed where asked; could not check ${refused.map(({ zone, r }) => `${zone.zone} (${(r as { why: string }).why})`).join(', ')}`,
      fix: 'point dns.servers at a resolver of your own: several lists refuse queries from public resolvers',
    });
  }
  return check({ id: 'dnsbl', subject: f.target, status: 'pass', requirements: req, found: `not listed in ${asked.join(', ')}` });
}

// SPF (RFC 7208) of the envelope (bounce) domain and of the From domain
// (GM-2, MC-6, AF-6). parseSpf and judgeSpf are pure; spfTree fetches the
// record and every include/redirect target so the lookup limit (§4.6.4) can
// be counted across nested includes.
import { isIP } from 'node:net';
import type { Resolver } from '../net/resolver.ts';
import { txt, tagged } from './lookup.ts';
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

export type Qualifier = '+' | '-' | '~' | '?';

export type SpfTerm =
  | { kind: 'mechanism'; qualifier: Qualifier; explicit: boolean; name: string; value?: string }
  | { kind: 'modifier'; name: string; value: string };

export interface ParsedSpf {
  terms: SpfTerm[];
  errors: string[];
}

/** The mechanisms and modifiers that cost a DNS lookup (RFC 7208 §4.6.4). */
const QUERYING = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);
const MECHANISMS = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const SPF_TAG = /^v=spf1(\s|$)/i;
/** a record above this no longer fits a 512-byte UDP answer with its headers (RFC 7208 §3.4) */
export const SPF_MAX_BYTES = 450;
export const SPF_MAX_LOOKUPS = 10;

export function isSpfRecord(value: string): boolean {
  return SPF_TAG.test(value.trim());
}

export function parseSpf(record: string): ParsedSpf {
  const words = record.trim().split(/\s+/);
  const errors: string[] = [];
  const terms: SpfTerm[] = [];
  if (words[0]?.toLowerCase() !== 'v=spf1') errors.push('the record does not start with v=spf1');
  const seenModifiers = new Set<string>();
  for (const word of words.slice(1)) {
    const mod = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(word);
    if (mod) {
      const name = mod[1].toLowerCase();
      if ((name === 'redirect' || name === 'exp') && seenModifiers.has(name)) errors.push(`${name}= appears twice`);
      if ((name === 'redirect' || name === 'exp') && !mod[2]) errors.push(`${name}= has no domain`);
      seenModifiers.add(name);
      terms.push({ kind: 'modifier', name, value: mod[2] });
      continue;
    }
    const m = /^([+\-~?]?)([a-z0-9]+)(?:([:/])(.*))?$/i.exec(word);
    if (!m) {
      errors.push(`"${clip(word)}" is not an SPF term`);
      continue;
    }
    const name = m[2].toLowerCase();
    if (!MECHANISMS.has(name)) {
      errors.push(`unknown mechanism "${clip(word)}"`);
      continue;
    }
    const value = m[3] ? (m[3] === '/' ? '/' : '') + m[4] : undefined;
    const problem = mechanismProblem(name, value);
    if (problem) errors.push(`${clip(word)}: ${problem}`);
    terms.push({ kind: 'mechanism', qualifier: (m[1] || '+') as Qualifier, explicit: m[1] !== '', name, ...(value !== undefined ? { value } : {}) });
  }
  return { terms, errors };
}

function mechanismProblem(name: string, value: string | undefined): string | null {
  switch (name) {
    case 'all':
      return value !== undefined ? 'all takes no value' : null;
    case 'include':
    case 'exists':
      return value ? null : `${name} needs a domain`;
    case 'ip4': {
      const [ip, cidr] = (value ?? '').split('/');
      if (isIP(ip) !== 4) return 'not an IPv4 address';
      return cidr !== undefined && !(/^\d+$/.test(cidr) && Number(cidr) <= 32) ? 'prefix length must be 0-32' : null;
    }
    case 'ip6': {
      const i = (value ?? '').lastIndexOf('/');
      const ip = i >= 0 && !(value ?? '').slice(i + 1).includes(':') ? value!.slice(0, i) : value ?? '';
      const cidr = ip === value ? undefined : value!.slice(i + 1);
      if (isIP(ip) !== 6) return 'not an IPv6 address';
      return cidr !== undefined && !(/^\d+$/.test(cidr) && Number(cidr) <= 128) ? 'prefix length must be 0-128' : null;
    }
    default:
      return null;
  }
}

const clip = (s: string) => (s.length > 60 ? s.slice(0, 57) + '...' : s);

/** Names an SPF record sends the evaluator to: include targets, then the redirect. */
export function targets(p: ParsedSpf): { include: string[]; redirect?: string } {
  const include = p.terms.filter((t) => t.kind === 'mechanism' && t.name === 'include' && t.value).map((t) => (t as { value: string }).value.toLowerCase());
  const redirect = p.terms.find((t) => t.kind === 'modifier' && t.name === 'redirect') as { value: string } | undefined;
  return { include, ...(redirect ? { redirect: redirect.value.toLowerCase() } : {}) };
}

/** The SPF records at a name and, recursively, at every include/redirect target (each name once; macros are not expanded). */
export async function spfTree(r: Resolver, name: string, maxNames = 40): Promise<Map<string, Lookup<string[]>>> {
  const tree = new Map<string, Lookup<string[]>>();
  let level = [name.toLowerCase()];
  while (level.length && tree.size < maxNames) {
    const fetched = await Promise.all(level.map(async (n) => [n, await txt(r, n)] as const));
    const next: string[] = [];
    for (const [n, l] of fetched) {
      tree.set(n, l);
      if (l.kind !== 'found') continue;
      const recs = tagged(l.value, SPF_TAG);
      if (recs.length !== 1) continue;
      const t = targets(parseSpf(recs[0]));
      for (const child of [...t.include, ...(t.redirect ? [t.redirect] : [])]) {
        if (!child.includes('%') && !tree.has(child) && !next.includes(child) && !level.includes(child)) next.push(child);
      }
    }
    level = next.slice(0, Math.max(0, maxNames - tree.size));
  }
  return tree;
}

export interface LookupCount {
  total: number;
  /** per name: the lookups its own record costs */
  perName: [string, number][];
  /** include/redirect targets without exactly one SPF record (RFC 7208 §5.2: permerror) */
  broken: { name: string; why: string }[];
}

/** Counts DNS-querying terms through nested includes and redirects, each name once on a path (a loop counts as broken). */
export function countLookups(name: string, tree: Map<string, Lookup<string[]>>): LookupCount {
  const perName: [string, number][] = [];
  const broken: { name: string; why: string }[] = [];
  const walk = (n: string, path: string[]): number => {
    if (path.includes(n)) {
      broken.push({ name: n, why: `include loop (${[...path, n].join(' → ')})` });
      return 0;
    }
    const l = tree.get(n);
    if (!l) return 0; // beyond what was fetched (macros, very wide trees)
    if (l.kind === 'error') {
      if (path.length) broken.push({ name: n, why: `lookup failed (${l.code})` });
      return 0;
    }
    const recs = l.kind === 'found' ? tagged(l.value, SPF_TAG) : [];
    if (recs.length !== 1) {
      if (path.length) broken.push({ name: n, why: recs.length ? `${recs.length} SPF records` : 'no SPF record' });
      return 0;
    }
    const parsed = parseSpf(recs[0]);
    const hasAll = parsed.terms.some((t) => t.kind === 'mechanism' && t.name === 'all');
    const own = parsed.terms.filter((t) => (t.kind === 'mechanism' ? QUERYING.has(t.name) : t.name === 'redirect' && !hasAll)).length;
    perName.push([n, own]);
    const t = targets(parsed);
    let sum = own;
    for (const child of [...t.include, ...(t.redirect && !hasAll ? [t.redirect] : [])]) sum += walk(child, [...path, n]);
    return sum;
  };
  return { total: walk(name.toLowerCase(), []), perName, broken };
}

/** How the record ends: the all mechanism reached (through a redirect when there is no all), or none. */
export function finalAll(name: string, tree: Map<string, Lookup<string[]>>, depth = 0): { qualifier: Qualifier; explicit: boolean; at: string } | null {
  const l = tree.get(name);
  if (!l || l.kind !== 'found' || depth > 10) return null;
  const recs = tagged(l.value, SPF_TAG);
  if (recs.length !== 1) return null;
  const p = parseSpf(recs[0]);
  const all = p.terms.find((t) => t.kind === 'mechanism' && t.name === 'all') as { qualifier: Qualifier; explicit: boolean } | undefined;
  if (all) return { qualifier: all.qualifier, explicit: all.explicit, at: name };
  const t = targets(p);
  return t.redirect ? finalAll(t.redirect, tree, depth + 1) : null;
}

export interface SpfFacts {
  /** the domain whose record is judged */
  name: string;
  tree: Map<string, Lookup<string[]>>;
  /** result of evaluating the record for each sending IP (mailauth) */
  results: { ip: string; result: string }[];
}

export interface SpfJudgeOptions {
  /** envelope: the Return-Path domain (its failures block); from: the From domain */
  role: 'envelope' | 'from';
  /** the record envoi prints for this name */
  expected: string;
}

const REQ = { envelope: ['GM-2', 'MC-6', 'AF-6'], from: ['GM-2', 'AF-6'] };

export function judgeSpf(f: SpfFacts, o: SpfJudgeOptions): Check[] {
  const req = REQ[o.role];
  const blocking = o.role === 'envelope';
  const subject = f.name;
  const l = f.tree.get(f.name.toLowerCase());
  if (!l || l.kind === 'error') return [couldNotCheck('spf.record', subject, req, `the TXT records of ${subject}`, l?.kind === 'error' ? l.code : 'not asked')];
  const records = l.kind === 'found' ? tagged(l.value, SPF_TAG) : [];
  const out: Check[] = [];
  if (records.length === 0) {
    const why = o.role === 'envelope' ? 'this is the envelope (Return-Path) domain: SPF fails for every message and Gmail answers 4.7.27' : 'receivers that check the From domain find no SPF policy';
    return [check({ id: 'spf.record', subject, status: o.role === 'envelope' ? 'fail' : 'warn', requirements: req, blocking, found: `no SPF record; ${why}`, fix: `TXT ${subject} "${o.expected}"` })];
  }
  if (records.length > 1) {
    return [check({ id: 'spf.record', subject, status: 'fail', requirements: req, blocking, found: `${records.length} SPF records: receivers answer permerror (RFC 7208 §4.5)`, fix: `keep one record and merge the others into it, e.g. TXT ${subject} "${o.expected}"` })];
  }
  const record = records[0];
  out.push(check({ id: 'spf.record', subject, status: 'pass', requirements: req, found: `one SPF record: ${clip2(record)}` }));

  const parsed = parseSpf(record);
  if (parsed.errors.length) {
    out.push(check({ id: 'spf.syntax', subject, status: 'fail', requirements: req, blocking, found: `invalid SPF: ${parsed.errors.slice(0, 5).join('; ')}`, fix: `TXT ${subject} "${o.expected}"` }));
  } else {
    out.push(check({ id: 'spf.syntax', subject, status: 'pass', requirements: req, found: 'the record is valid SPF' }));
  }
  if (Buffer.byteLength(record) > SPF_MAX_BYTES) {
    out.push(check({ id: 'spf.size', subject, status: 'warn', requirements: req, found: `the record is ${Buffer.byteLength(record)} bytes: answers above 512 bytes need TCP, which some receivers do not retry`, fix: 'replace include chains and long ip lists by fewer, wider ranges' }));
  }

  const count = countLookups(f.name, f.tree);
  if (count.broken.length) {
    const hard = count.broken.filter((b) => !b.why.startsWith('lookup failed'));
    out.push(check({
      id: 'spf.include', subject, status: hard.length ? 'fail' : 'warn', requirements: req, blocking,
      found: count.broken.map((b) => `${b.name}: ${b.why}`).join('; ') + (hard.length ? ' — an include without one SPF record is a permerror (RFC 7208 §5.2)' : ''),
      fix: hard.length ? `remove or repair the include of ${hard.map((b) => b.name).join(', ')}` : undefined,
    }));
  }
  const breakdown = count.perName.filter(([, n]) => n > 0).map(([n, c]) => `${n}: ${c}`).join(', ');
  const lookupsOk = count.total <= SPF_MAX_LOOKUPS;
  out.push(check({
    id: 'spf.lookups', subject, status: lookupsOk ? 'pass' : 'fail', requirements: req, blocking,
    found: `${count.total} DNS-querying mechanisms including nested includes (limit ${SPF_MAX_LOOKUPS}, RFC 7208 §4.6.4)${breakdown ? `: ${breakdown}` : ''}`,
    fix: lookupsOk ? undefined : `receivers stop at the 11th lookup with permerror; replace includes by the ip4:/ip6: ranges they name, or drop unused ones, e.g. TXT ${subject} "${o.expected}"`,
  }));

  const all = finalAll(f.name.toLowerCase(), f.tree);
  if (!all) {
    out.push(check({ id: 'spf.all', subject, status: 'warn', requirements: req, found: 'the record ends without an all mechanism: mail from other hosts gets "neutral"', fix: `end the record with ${o.role === 'envelope' ? '-all' : '~all'}` }));
  } else if (all.qualifier === '+') {
    out.push(check({ id: 'spf.all', subject, status: 'fail', requirements: req, blocking, found: `${all.explicit ? '+all' : 'all'} (at ${all.at}) authorises every host on the internet to send as this domain`, fix: `replace it with ${o.role === 'envelope' ? '-all' : '~all'}: TXT ${subject} "${o.expected}"` }));
  } else if (all.qualifier === '?') {
    out.push(check({ id: 'spf.all', subject, status: 'warn', requirements: req, found: `?all (at ${all.at}): other hosts get "neutral", which protects nothing`, fix: `replace ?all with ${o.role === 'envelope' ? '-all' : '~all'}` }));
  } else {
    out.push(check({ id: 'spf.all', subject, status: 'pass', requirements: req, found: `ends in ${all.qualifier}all` }));
  }

  out.push(...judgeAuthorised(f, o, record, parsed.errors.length > 0 || !lookupsOk || count.broken.length > 0));
  return out;
}

function judgeAuthorised(f: SpfFacts, o: SpfJudgeOptions, record: string, invalid: boolean): Check[] {
  const req = REQ[o.role];
  const blocking = o.role === 'envelope';
  if (!f.results.length) {
    return [check({ id: 'spf.authorised', subject: f.name, status: 'warn', requirements: req, found: 'no sending IP is known, so authorisation was not checked', fix: 'set delivery.pools (or doctor.sendingIps behind NAT)' })];
  }
  return f.results.map(({ ip, result }) => {
    const subject = `${f.name} ← ${ip}`;
    if (result === 'pass') return check({ id: 'spf.authorised', subject, status: 'pass', requirements: req, found: `SPF passes for ${ip}` });
    if (result === 'temperror') return couldNotCheck('spf.authorised', subject, req, `the SPF record of ${f.name}`, 'temperror');
    if (result === 'permerror' && invalid) return check({ id: 'spf.authorised', subject, status: 'warn', requirements: req, found: `not judged: the record itself is invalid (see the checks above), receivers answer permerror for ${ip}` });
    const mech = isIP(ip) === 6 ? `ip6:${ip}` : `ip4:${ip}`;
    return check({
      id: 'spf.authorised', subject, status: o.role === 'envelope' ? 'fail' : 'warn', requirements: req, blocking,
      found: `SPF gives "${result}" for the sending IP ${ip}${o.role === 'envelope' ? ': Gmail answers 4.7.27' : ''}`,
      fix: `authorise it: TXT ${f.name} "${withMechanism(record, mech)}"`,
    });
  });
}

/** The record with a mechanism inserted before its all/redirect. */
export function withMechanism(record: string, mech: string): string {
  const words = record.trim().split(/\s+/);
  const at = words.findIndex((w, i) => i > 0 && (/^[+\-~?]?all$/i.test(w) || /^redirect=/i.test(w)));
  if (at < 0) return [...words, mech].join(' ');
  return [...words.slice(0, at), mech, ...words.slice(at)].join(' ');
}

const clip2 = (s: string) => (s.length > 200 ? s.slice(0, 197) + '...' : s);

/** Sender ID (RFC 4406) is obsolete (RFC 6686): its spf2.0 records are noted, never needed (AF-6). */
export function judgeSenderId(name: string, l: Lookup<string[]>): Check {
  const req = ['AF-6'];
  if (l.kind === 'error') return couldNotCheck('senderid', name, req, `the TXT records of ${name}`, l.code);
  const old = l.kind === 'found' ? l.value.filter((v) => /^spf2\.0\//i.test(v.trim())) : [];
  return old.length
    ? check({ id: 'senderid', subject: name, status: 'warn', requirements: req, found: `a Sender ID record (${clip(old[0])}): Sender ID is obsolete (RFC 6686) and no receiver reads it`, fix: `delete the spf2.0 TXT record of ${name}; the SPF record is what counts` })
    : check({ id: 'senderid', subject: name, status: 'pass', requirements: req, found: 'no Sender ID record; Sender ID is obsolete (RFC 6686), SPF is what receivers read' });
}

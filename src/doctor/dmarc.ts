// DMARC (GM-8, GM-4): a record on the From domain or, failing that, on its
// organizational domain (RFC 7489 §6.6.3, by the Public Suffix List), with a
// policy, aggregate reports, and alignment achievable with the DKIM d= and
// the envelope domains envoi uses. BIMI is noted once the policy enforces.
// Pure over looked-up facts.
import { getDomain } from 'tldts';
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

export interface DmarcFacts {
  domain: string;
  /** _dmarc.<domain> */
  own: Lookup<string[]>;
  /** _dmarc.<organizational domain>, asked when the domain is below it and has no record of its own */
  org?: Lookup<string[]>;
  /** DKIM d= of envoi's signatures */
  dkimDomain: string;
  /** envelope (Return-Path) domains of the streams */
  spfDomains: string[];
  /** default._bimi.<domain>, asked when the policy enforces */
  bimi?: Lookup<string[]>;
}

export type DmarcTags = Record<string, string>;

export function orgDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: false }) ?? domain;
}

export function parseDmarc(value: string): { tags: DmarcTags; error?: string } {
  const tags: DmarcTags = {};
  for (const part of value.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    tags[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
  }
  if (!/^v\s*=\s*DMARC1\s*(;|$)/.test(value.trim())) return { tags, error: 'the record does not start with v=DMARC1' };
  if (!tags.p) return { tags, error: 'the record has no p= policy' };
  if (!['none', 'quarantine', 'reject'].includes(tags.p.toLowerCase())) return { tags, error: `p=${tags.p} is not none, quarantine or reject` };
  return { tags };
}

/** Relaxed alignment: same organizational domain; strict: same name (RFC 7489 §3.1). */
export function aligned(a: string, b: string, strict: boolean): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return strict ? x === y : orgDomain(x) === orgDomain(y);
}

const REQ = ['GM-8'];

export function judgeDmarc(f: DmarcFacts): Check[] {
  const org = orgDomain(f.domain);
  const fix = `TXT _dmarc.${f.domain} "v=DMARC1; p=none; rua=mailto:dmarc-reports@${org}; adkim=r; aspf=r"`;
  if (f.own.kind === 'error') return [couldNotCheck('dmarc.record', `_dmarc.${f.domain}`, REQ, `_dmarc.${f.domain}`, f.own.code)];
  let at = `_dmarc.${f.domain}`;
  let l: Lookup<string[]> = f.own;
  let inherited = false;
  if (recordsOf(l).length === 0 && org !== f.domain && f.org) {
    if (f.org.kind === 'error') return [couldNotCheck('dmarc.record', `_dmarc.${org}`, REQ, `_dmarc.${org}`, f.org.code)];
    l = f.org;
    at = `_dmarc.${org}`;
    inherited = true;
  }
  const recs = recordsOf(l);
  if (recs.length === 0) {
    return [check({ id: 'dmarc.record', subject: `_dmarc.${f.domain}`, status: 'fail', requirements: REQ, blocking: true, found: `no DMARC record at _dmarc.${f.domain}${org !== f.domain ? ` nor at _dmarc.${org}` : ''}: bulk mail is refused (Gmail: 4.7.31)`, fix })];
  }
  if (recs.length > 1) {
    return [check({ id: 'dmarc.record', subject: at, status: 'fail', requirements: REQ, blocking: true, found: `${recs.length} DMARC records at ${at}: receivers apply none of them (RFC 7489 §6.6.3)`, fix: `keep one: ${fix}` })];
  }
  const parsed = parseDmarc(recs[0]);
  if (parsed.error) {
    return [check({ id: 'dmarc.record', subject: at, status: 'fail', requirements: REQ, blocking: true, found: `invalid DMARC record at ${at}: ${parsed.error}`, fix })];
  }
  const t = parsed.tags;
  const policy = (inherited ? t.sp ?? t.p : t.p).toLowerCase();
  const out: Check[] = [check({
    id: 'dmarc.record', subject: at, status: 'pass', requirements: REQ,
    found: `DMARC policy p=${policy}${inherited ? ` inherited from the organizational domain ${org}` : ''}${policy === 'none' ? ' (monitoring; raise to quarantine or reject once the reports are clean)' : ''}`,
  })];
  out.push(t.rua
    ? check({ id: 'dmarc.rua', subject: at, status: 'pass', requirements: REQ, found: `aggregate reports go to ${t.rua}` })
    : check({ id: 'dmarc.rua', subject: at, status: 'warn', requirements: REQ, found: 'no rua=: nobody receives the aggregate reports that show who sends as this domain', fix: `add rua=mailto:dmarc-reports@${org} to the record at ${at}` }));

  const adkimStrict = t.adkim?.toLowerCase() === 's';
  const aspfStrict = t.aspf?.toLowerCase() === 's';
  const dkimOk = aligned(f.dkimDomain, f.domain, adkimStrict);
  const spfOk = f.spfDomains.filter((d) => aligned(d, f.domain, aspfStrict));
  const parts = [
    `DKIM d=${f.dkimDomain} ${dkimOk ? 'aligns' : 'does not align'}${adkimStrict ? ' (adkim=s)' : ''}`,
    ...f.spfDomains.map((d) => `SPF ${d} ${spfOk.includes(d) ? 'aligns' : 'does not align'}${aspfStrict ? ' (aspf=s)' : ''}`),
  ];
  if (!dkimOk && !spfOk.length) {
    out.push(check({ id: 'dmarc.alignment', subject: f.domain, status: 'fail', requirements: ['GM-4', 'GM-8'], blocking: true, found: `${parts.join('; ')}: DMARC cannot pass (Gmail: 4.7.32)`, fix: `use relaxed alignment: adkim=r; aspf=r in the record at ${at}` }));
  } else if (!dkimOk || spfOk.length < f.spfDomains.length) {
    out.push(check({ id: 'dmarc.alignment', subject: f.domain, status: 'warn', requirements: ['GM-4', 'GM-8'], found: `${parts.join('; ')}: DMARC passes on the aligned one alone`, fix: `relaxed alignment (adkim=r; aspf=r) lets both align` }));
  } else {
    out.push(check({ id: 'dmarc.alignment', subject: f.domain, status: 'pass', requirements: ['GM-4', 'GM-8'], found: `${parts.join('; ')} (relaxed: by organizational domain ${org})` }));
  }

  if (policy === 'quarantine' || policy === 'reject') {
    const name = `default._bimi.${f.domain}`;
    const b = f.bimi;
    if (b?.kind === 'error') out.push(couldNotCheck('bimi', name, [], name, b.code));
    else if (b?.kind === 'found' && b.value.some((v) => /^v=BIMI1/i.test(v.trim()))) out.push(check({ id: 'bimi', subject: name, status: 'pass', requirements: [], found: 'a BIMI record is published (logo shown where the receiver supports it)' }));
    else out.push(check({ id: 'bimi', subject: name, status: 'warn', requirements: [], found: `DMARC is at enforcement (p=${policy}): a BIMI record would let receivers show the brand's logo`, fix: `TXT ${name} "v=BIMI1; l=https://${org}/logo.svg" (an SVG Tiny PS logo; Gmail also wants a mark certificate, a=)` }));
  }
  return out;
}

function recordsOf(l: Lookup<string[]>): string[] {
  return l.kind === 'found' ? l.value.filter((v) => /^v\s*=\s*DMARC1/i.test(v.trim())) : [];
}

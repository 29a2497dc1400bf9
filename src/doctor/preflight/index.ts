// Preflight: judge one message the way a Gmail-like receiver would, from the
// IP it would leave from (GM-11 prediction, GM-2, GM-4, GM-5, GM-8, GM-3,
// GM-9): SPF, DKIM and DMARC with alignment (mailauth through the platform
// resolver), PTR, TLS of the route, RFC 5322, one-click unsubscribe signed,
// From not on a freemail domain; then the Gmail codes it would get and the
// content lint. Lookups here; the judgements are pure (gmail.ts, message.ts,
// ../ptr.ts).
import { domainToASCII } from 'node:url';
import { authenticate } from 'mailauth';
import PostalMime from 'postal-mime';
import type { Resolver } from '../../net/resolver.ts';
import { mailauthResolver } from '../../net/resolver.ts';
import type { Domains } from '../../accounts/domains.ts';
import type { Streams } from '../../accounts/streams.ts';
import type { Profiles } from '../../accounts/profile.ts';
import type { ProviderProfile } from '../../policy/providers.ts';
import { isFreemailDomain } from '../../policy/freemail.ts';
import { DkimSigner } from '../../compose/dkim.ts';
import { lint, type Finding } from '../../compose/lint/index.ts';
import { fail, ok, type Result } from '../../errors.ts';
import { addresses, ptr as lookupPtr } from '../lookup.ts';
import { judgePtr, type PtrFacts } from '../ptr.ts';
import { check, type Check, type Lookup } from '../types.ts';
import { predictGmail, type AuthFacts, type Prediction } from './gmail.ts';
import { domainOf, fromAddresses, header, parseMessage, type ParsedMessage } from './message.ts';

export interface PreflightInput {
  raw: Buffer;
  /** the tenant asking (null: operator, any domain) */
  tenantId: string | null;
  /** marketing (default) or transactional: one-click unsubscribe is required of marketing */
  kind?: 'marketing' | 'transactional';
  /** the MAIL FROM it would go with; default: the stream's bounce domain of the From domain */
  envelopeFrom?: string;
  /** the IP it would leave from; default: doctor.sendingIps, the stream's pool, or the EHLO name's address */
  ip?: string;
  /** the stream (bounce label, IP pool); default by kind */
  stream?: string;
  /** where the message came from, for the report */
  source: string;
}

export interface PreflightEnv {
  resolver: Resolver;
  hostname: string;
  ehloName: string;
  sendingIps: string[];
  pools: Record<string, string>;
  providers: ProviderProfile[];
  domains: Domains;
  streams: Streams;
  profiles?: Profiles;
}

export interface PreflightReport {
  /** accepted: no Gmail temporary failure predicted; deferred: at least one */
  verdict: 'accepted' | 'deferred';
  gmail: Prediction[];
  checks: Check[];
  lint: Finding[];
  context: { source: string; kind: string; from: string; envelopeFrom: string; ip: string | null; helo: string; signedByPreflight: boolean };
}

export async function preflight(env: PreflightEnv, input: PreflightInput): Promise<Result<PreflightReport>> {
  const parsed = parseMessage(input.raw);
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  const fromHeader = header(m, 'from') ?? '';
  const fromAddr = fromAddresses(fromHeader)[0];
  if (!fromAddr) return fail('message.invalid', 'the message has no From address to judge it by');
  const fromDomain = domainToASCII(domainOf(fromAddr)) || domainOf(fromAddr);
  const kind = input.kind ?? 'marketing';

  const domain = input.tenantId === null ? await env.domains.findByName(fromDomain) : await env.domains.find(input.tenantId, fromDomain);
  const stream = domain ? await env.streams.get(domain.tenant_id, input.stream ?? kind) : undefined;
  const envelopeFrom = input.envelopeFrom
    ?? (domain ? `b-preflight@${stream?.bounce_label ?? (kind === 'marketing' ? 'bounce-mk' : 'bounce-tx')}.${domain.name}` : undefined)
    ?? returnPath(m) ?? fromAddr;

  // envoi signs at acceptance: an unsigned message of one of our domains is judged as it would leave
  let raw = input.raw;
  let signedByPreflight = false;
  if (domain && !m.headers.some((h) => h.name.toLowerCase() === 'dkim-signature')) {
    const keys = await env.domains.signingKeys(domain);
    if (keys.length) {
      raw = new DkimSigner(keys).sign(raw);
      signedByPreflight = true;
    }
  }

  const ip = input.ip ?? env.sendingIps[0] ?? (stream ? env.pools[stream.ip_pool] : undefined) ?? (await ehloAddress(env));
  const auth = await authenticate(raw, {
    ip: ip ?? undefined, helo: env.ehloName, sender: envelopeFrom, mta: env.hostname,
    resolver: mailauthResolver(env.resolver), disableArc: true, disableBimi: true,
  } as never);

  const ptrFacts = ip ? await ptrFactsOf(env.resolver, ip, env.ehloName) : null;
  const google = env.providers.find((p) => p.name === 'google');
  const facts = authFacts(auth, ip ?? null, ptrFacts, google);
  const gmail = predictGmail(facts, google);

  const checks: Check[] = [
    rfc5322Check(m),
    spfCheck(facts, envelopeFrom),
    dkimCheck(auth),
    dmarcCheck(auth, fromDomain),
    ptrCheck(ptrFacts),
    tlsCheck(facts),
    ...(kind === 'marketing' ? [unsubscribeCheck(auth, m)] : []),
    freemailCheck(fromDomain),
  ];
  const findings = await contentLint(env, raw, kind, domain?.tenant_id);
  return ok({
    verdict: gmail.length ? 'deferred' : 'accepted', gmail, checks, lint: findings,
    context: { source: input.source, kind, from: fromAddr, envelopeFrom, ip: ip ?? null, helo: env.ehloName, signedByPreflight },
  });
}

function returnPath(m: ParsedMessage): string | undefined {
  const v = header(m, 'return-path');
  return v ? fromAddresses(v)[0] : undefined;
}

async function ehloAddress(env: PreflightEnv): Promise<string | undefined> {
  const l = await addresses(env.resolver, env.ehloName);
  return l.kind === 'found' ? l.value[0] : undefined;
}

async function ptrFactsOf(r: Resolver, ip: string, ehloName: string): Promise<PtrFacts> {
  const names = await lookupPtr(r, ip);
  const forward: Record<string, Lookup<string[]>> = {};
  if (names.kind === 'found') for (const n of names.value.slice(0, 5)) forward[n.toLowerCase()] = await addresses(r, n);
  return { ip, ptr: names, forward, ehloName };
}

type Auth = Awaited<ReturnType<typeof authenticate>>;

function authFacts(auth: Auth, ip: string | null, p: PtrFacts | null, google: ProviderProfile | undefined): AuthFacts {
  const ptrChecks = p ? judgePtr(p) : [];
  const ptrCore = ptrChecks.filter((c) => c.id === 'ptr.present' || c.id === 'ptr.forward');
  const ptrOk = !p ? null : ptrCore.some((c) => c.status === 'fail') ? false : ptrCore.every((c) => c.status === 'pass') ? true : null;
  const d = auth.dmarc ? String(auth.dmarc.status.result) : 'none';
  return {
    ip, ptrOk,
    spf: ip && auth.spf ? { domain: auth.spf.domain, result: String(auth.spf.status.result) } : null,
    dkim: (auth.dkim.results ?? []).filter((r) => r.signingDomain).map((r) => ({ domain: r.signingDomain, result: String(r.status.result) })),
    dmarcRecord: d === 'none' ? 'none' : d === 'permerror' ? 'invalid' : d === 'temperror' ? 'error' : 'found',
    aligned: d === 'pass',
    tlsRequired: google?.tls === 'required',
  };
}

const REQ_AUTH = ['GM-2', 'GM-11'];

function rfc5322Check(m: ParsedMessage): Check {
  return m.problems.length
    ? check({ id: 'preflight.rfc5322', subject: 'message', status: 'fail', requirements: ['GM-11'], found: m.problems.join('; '), fix: 'build the message with a MIME library (envoi composes RFC 5322 messages itself when you send through the API)' })
    : check({ id: 'preflight.rfc5322', subject: 'message', status: 'pass', requirements: ['GM-11'], found: 'valid RFC 5322 header: one From, a Date, a Message-ID, lines within 998 octets' });
}

function spfCheck(f: AuthFacts, envelopeFrom: string): Check {
  const subject = domainOf(envelopeFrom);
  if (!f.spf) return check({ id: 'preflight.spf', subject, status: 'warn', requirements: REQ_AUTH, found: 'no sending IP is known, so SPF was not evaluated', fix: 'pass --ip, or set doctor.sendingIps / delivery.pools' });
  if (f.spf.result === 'pass') return check({ id: 'preflight.spf', subject, status: 'pass', requirements: REQ_AUTH, found: `SPF passes for ${f.ip} (MAIL FROM ${envelopeFrom})` });
  if (f.spf.result === 'temperror') return check({ id: 'preflight.spf', subject, status: 'warn', requirements: REQ_AUTH, found: `could not check: SPF of ${subject} gave temperror` });
  return check({ id: 'preflight.spf', subject, status: 'fail', requirements: REQ_AUTH, found: `SPF is "${f.spf.result}" for ${f.ip} (MAIL FROM ${envelopeFrom})`, fix: `authorise ${f.ip} in the SPF record of ${subject} (see envoi doctor)` });
}

function dkimCheck(auth: Auth): Check {
  const res = (auth.dkim.results ?? []).filter((r) => r.signingDomain);
  const pass = res.filter((r) => r.status.result === 'pass');
  if (pass.length) return check({ id: 'preflight.dkim', subject: pass.map((r) => `d=${r.signingDomain}`).join(', '), status: 'pass', requirements: REQ_AUTH, found: `${pass.length} DKIM signature${pass.length > 1 ? 's' : ''} verify (${pass.map((r) => `${r.selector}._domainkey.${r.signingDomain}`).join(', ')})` });
  return check({
    id: 'preflight.dkim', subject: res.map((r) => `d=${r.signingDomain}`).join(', ') || 'message', status: 'fail', requirements: REQ_AUTH,
    found: res.length ? `no DKIM signature verifies: ${res.map((r) => `${r.selector}._domainkey.${r.signingDomain}: ${r.status.result}${r.status.comment ? ` (${r.status.comment})` : ''}`).join('; ')}` : 'the message is not DKIM-signed',
    fix: 'publish the DKIM records envoi prints for the domain (envoi domain records) and send through envoi, which signs',
  });
}

function dmarcCheck(auth: Auth, fromDomain: string): Check {
  const req = ['GM-8', 'GM-4', 'GM-11'];
  const d = auth.dmarc;
  const result = d ? String(d.status.result) : 'none';
  const subject = fromDomain;
  if (result === 'pass') return check({ id: 'preflight.dmarc', subject, status: 'pass', requirements: req, found: `DMARC passes with an aligned ${d && d.alignment?.dkim?.result ? `DKIM (d=${d.alignment.dkim.result})` : `SPF (${d && d.alignment?.spf?.result})`} (policy ${d ? d.policy ?? d.p : ''})` });
  if (result === 'temperror') return check({ id: 'preflight.dmarc', subject, status: 'warn', requirements: req, found: 'could not check: the DMARC lookup failed' });
  if (result === 'none') return check({ id: 'preflight.dmarc', subject, status: 'fail', requirements: req, found: `${fromDomain} (and its organizational domain) publish no DMARC record`, fix: `TXT _dmarc.${fromDomain} "v=DMARC1; p=none; adkim=r; aspf=r"` });
  if (result === 'permerror') return check({ id: 'preflight.dmarc', subject, status: 'fail', requirements: req, found: 'the DMARC record is invalid', fix: `TXT _dmarc.${fromDomain} "v=DMARC1; p=none; adkim=r; aspf=r"` });
  return check({ id: 'preflight.dmarc', subject, status: 'fail', requirements: req, found: `DMARC fails: no SPF or DKIM identifier that passes is aligned with ${fromDomain}`, fix: `sign with d=${fromDomain} (a domain of the tenant) and send with a Return-Path under ${fromDomain}` });
}

function ptrCheck(p: PtrFacts | null): Check {
  const req = ['GM-5', 'MC-5', 'GM-11'];
  if (!p) return check({ id: 'preflight.ptr', subject: 'sending IP', status: 'warn', requirements: req, found: 'no sending IP is known, so its PTR was not checked', fix: 'pass --ip, or set doctor.sendingIps / delivery.pools' });
  const core = judgePtr(p).filter((c) => c.id === 'ptr.present' || c.id === 'ptr.forward');
  const bad = core.find((c) => c.status !== 'pass');
  return bad
    ? check({ id: 'preflight.ptr', subject: p.ip, status: bad.status, requirements: req, found: bad.found, ...(bad.fix ? { fix: bad.fix } : {}) })
    : check({ id: 'preflight.ptr', subject: p.ip, status: 'pass', requirements: req, found: core.map((c) => c.found).join('; ') });
}

function tlsCheck(f: AuthFacts): Check {
  return f.tlsRequired
    ? check({ id: 'preflight.tls', subject: 'route to Gmail', status: 'pass', requirements: ['GM-7', 'GM-11'], found: 'TLS is required on the route to Gmail (provider profile "google")' })
    : check({ id: 'preflight.tls', subject: 'route to Gmail', status: 'fail', requirements: ['GM-7', 'GM-11'], found: 'the route to Gmail does not require TLS (delivery.providers.google.tls is "opportunistic")', fix: 'remove the override: delivery.providers.google.tls must stay "required"' });
}

/** The h= names of the DKIM signatures that verified, lower case. */
function signedHeaders(auth: Auth): Set<string> {
  const out = new Set<string>();
  for (const r of auth.dkim.results ?? []) {
    if (r.status.result !== 'pass') continue;
    const keys = (r as unknown as { signingHeaders?: { keys?: string | string[] } }).signingHeaders?.keys;
    const list = Array.isArray(keys) ? keys : String(keys ?? '').split(/[:\s]+/);
    for (const k of list) if (k.trim()) out.add(k.trim().toLowerCase());
  }
  return out;
}

function unsubscribeCheck(auth: Auth, m: ParsedMessage): Check {
  const req = ['GM-9', 'MC-13'];
  const lu = header(m, 'list-unsubscribe');
  const post = header(m, 'list-unsubscribe-post');
  const fix = 'marketing needs List-Unsubscribe: <https://…> and List-Unsubscribe-Post: List-Unsubscribe=One-Click, both covered by the DKIM signature (RFC 8058); envoi adds them to campaigns';
  if (!lu) return check({ id: 'preflight.unsubscribe', subject: 'List-Unsubscribe', status: 'fail', requirements: req, found: 'no List-Unsubscribe header', fix });
  if (!/<https:\/\/[^>]+>/i.test(lu)) return check({ id: 'preflight.unsubscribe', subject: 'List-Unsubscribe', status: 'fail', requirements: req, found: 'List-Unsubscribe has no https URL: one-click unsubscribe needs one', fix });
  if (!post || post.trim().toLowerCase() !== 'list-unsubscribe=one-click') return check({ id: 'preflight.unsubscribe', subject: 'List-Unsubscribe-Post', status: 'fail', requirements: req, found: post ? `List-Unsubscribe-Post is "${post.slice(0, 60)}"` : 'no List-Unsubscribe-Post header', fix });
  const signed = signedHeaders(auth);
  const missing = ['list-unsubscribe', 'list-unsubscribe-post'].filter((h) => !signed.has(h));
  if (missing.length) return check({ id: 'preflight.unsubscribe', subject: 'DKIM h=', status: 'fail', requirements: req, found: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not covered by a DKIM signature that verifies`, fix });
  return check({ id: 'preflight.unsubscribe', subject: 'List-Unsubscribe', status: 'pass', requirements: req, found: 'one-click unsubscribe (RFC 8058) present and DKIM-signed' });
}

function freemailCheck(fromDomain: string): Check {
  return isFreemailDomain(fromDomain)
    ? check({ id: 'preflight.freemail', subject: fromDomain, status: 'fail', requirements: ['GM-3'], found: `${fromDomain} is a mailbox provider's domain: its DMARC policy makes mail sent from elsewhere fail`, fix: 'send from a domain you own' })
    : check({ id: 'preflight.freemail', subject: fromDomain, status: 'pass', requirements: ['GM-3'], found: `${fromDomain} is not a freemail domain` });
}

async function contentLint(env: PreflightEnv, raw: Buffer, kind: 'marketing' | 'transactional', tenantId: string | undefined): Promise<Finding[]> {
  try {
    const email = await PostalMime.parse(raw);
    const profile = tenantId && env.profiles ? await env.profiles.get(tenantId) : undefined;
    return await lint({
      kind,
      from: { email: email.from?.address ?? '', ...(email.from?.name ? { name: email.from.name } : {}) },
      ...(email.replyTo?.[0]?.address ? { replyTo: { email: email.replyTo[0].address } } : {}),
      subject: email.subject ?? '', ...(email.html ? { html: email.html } : {}), ...(email.text ? { text: email.text } : {}),
      ...(profile ? { senderName: profile.organisation } : {}),
    }, { resolver: env.resolver });
  } catch {
    return [];
  }
}

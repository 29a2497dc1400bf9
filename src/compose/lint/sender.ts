// Who the mail says it is from (AF-10, AF-15, GM-3, MJ-8): a display name
// that names the sender, no freemail From, a domain in the display name that
// is the From's own, and From/Reply-To domains that exist in the DNS.
// Pure but for the injected resolver.
import { domainToASCII } from 'node:url';
import { parseAddress } from '../address.ts';
import type { Resolver } from '../../net/resolver.ts';
import { isFreemailDomain } from '../../policy/freemail.ts';
import common from '../../policy/data/lexicons/common-words.json' with { type: 'json' };
import { domainLabel, isRealHost, registrable } from './hosts.ts';
import { clip, foldText, words } from './text.ts';
import type { Finding, LintInput } from './types.ts';

const GENERIC = new Set(Object.values(common.genericSender).flat());
const LEGAL = new Set(common.legalForms);

/** The checks that need no DNS. */
export function checkSender(input: LintInput): Finding[] {
  const out: Finding[] = [];
  const from = parseAddress(input.from.email, 'from');
  if (!from.ok) {
    out.push({ id: 'from.invalid', severity: 'block', where: 'from', requirements: ['AF-10'], excerpt: clip(input.from.email),
      message: `The From address is not valid: ${from.error.detail}`, fix: 'Use an address on one of your verified sending domains.' });
  } else {
    out.push(...checkName(input, from.value.local, from.value.domain));
    if (isFreemailDomain(from.value.domain)) {
      out.push({ id: 'from.freemail', severity: 'block', where: 'from', requirements: ['GM-3'], excerpt: clip(input.from.email),
        message: `${from.value.domain} is a mailbox provider's domain: mail in its name sent from elsewhere fails its DMARC and is refused`,
        fix: 'Send from an address on your own verified domain; keep the freemail address as Reply-To if you must.' });
    }
  }
  if (input.replyTo) {
    const reply = parseAddress(input.replyTo.email, 'replyTo');
    if (!reply.ok) {
      out.push({ id: 'reply-to.invalid', severity: 'block', where: 'reply-to', requirements: ['AF-10'], excerpt: clip(input.replyTo.email),
        message: `The Reply-To address is not valid: ${reply.error.detail}`, fix: 'Use an address that can receive replies, or remove the Reply-To.' });
    } else if (isFreemailDomain(reply.value.domain)) {
      out.push({ id: 'reply-to.freemail', severity: 'warn', where: 'reply-to', requirements: ['MJ-8'], excerpt: clip(input.replyTo.email),
        message: 'The Reply-To is a personal mailbox: replies leave the sender\'s domain, a pattern filters associate with fraud',
        fix: 'Use a Reply-To on your own domain (e.g. contact@ your domain).' });
    }
  }
  return out;
}

function checkName(input: LintInput, local: string, domain: string): Finding[] {
  const name = (input.from.name ?? '').trim();
  if (!name) {
    // AF-15 asks for the name before the address; a campaign without one is
    // refused, a transactional message only warned (a receipt is expected).
    return [{ id: 'from.name-missing', severity: input.kind === 'marketing' ? 'block' : 'warn', where: 'from',
      requirements: ['AF-15', 'MJ-8'], excerpt: clip(input.from.email),
      message: 'The From has no display name: the reader sees only an address',
      fix: `Add your organisation's name before the address, e.g. "${input.senderName || 'Your Company'}" <${input.from.email}>.` }];
  }
  const out: Finding[] = [];
  const shown = domainsIn(name).find((d) => registrable(d) !== registrable(domain));
  if (shown) {
    out.push({ id: 'from.name-domain', severity: 'review', where: 'from', requirements: ['MJ-8', 'AF-10'], excerpt: clip(name),
      message: `The display name shows ${shown}, but the mail comes from ${domain}`,
      fix: 'Put your organisation\'s name in the display name, not another domain or address.' });
  }
  if (!namesSender(name, local, domain, input.senderName)) {
    out.push({ id: 'from.name-not-sender', severity: 'warn', where: 'from', requirements: ['AF-15'], excerpt: clip(`${name} <${input.from.email}>`),
      message: input.senderName
        ? `Neither the display name nor the address names ${input.senderName}`
        : 'The display name only names a role ("Newsletter", "No reply"…), not who is writing',
      fix: `Put the organisation's name in the display name, e.g. "${input.senderName || 'Your Company'} – Newsletter".` });
  }
  return out;
}

/** AF-15: the display name or the local part identifies the sender. */
function namesSender(name: string, local: string, domain: string, senderName?: string): boolean {
  const said = [name, local.replace(/[._+-]+/g, ' ')].map(foldText);
  const compact = said.map((s) => s.replace(/[^\p{L}\p{N}]+/gu, ''));
  if (senderName?.trim()) {
    const own = words(foldText(senderName)).filter((w) => !LEGAL.has(w));
    const joined = own.join('');
    if (joined.length >= 3 && compact.some((c) => c.includes(joined))) return true;
    const label = domainLabel(domain).replace(/-/g, '');
    if (label.length >= 3 && compact[0].includes(label)) return true;
    return own.some((w) => w.length >= 3 && !GENERIC.has(w) && said.some((s) => words(s).includes(w)));
  }
  // without the tenant's name, any word that is not a role counts as a name
  return said.some((s) => words(s).some((w) => !GENERIC.has(w) && !LEGAL.has(w)));
}

const DOMAIN_LIKE = /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}]{2,63}/gu;

function domainsIn(s: string): string[] {
  return (s.match(DOMAIN_LIKE) ?? []).map((d) => domainToASCII(d.toLowerCase())).filter((d) => d && isRealHost(d));
}

type Lookup = { status: 'ok' } | { status: 'absent'; why: string } | { status: 'unknown'; why: string };

const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * AF-10: From and Reply-To domains must exist and take mail (MX, or A/AAAA as
 * the implicit MX of RFC 5321 §5.1). A lookup that fails (timeout, SERVFAIL)
 * proves nothing: it is a warning, never a block.
 */
export async function checkDomains(input: LintInput, resolver: Resolver | undefined): Promise<Finding[]> {
  const fields = [['from', input.from.email], ['reply-to', input.replyTo?.email]] as const;
  const targets = fields.flatMap(([field, email]) => {
    const p = email ? parseAddress(email) : undefined;
    return p?.ok ? [{ field, domain: p.value.domain }] : [];
  });
  if (targets.length === 0) return [];
  if (!resolver) {
    return [{ id: 'dns.skipped', severity: 'info', requirements: ['AF-10'], message: 'No resolver configured: From and Reply-To domains were not looked up',
      fix: 'Run the lint with the platform resolver to check that these domains exist.' }];
  }
  const cache = new Map<string, Promise<Lookup>>();
  const results = await Promise.all(targets.map(async (t) => {
    if (!cache.has(t.domain)) cache.set(t.domain, lookup(resolver, t.domain));
    return { ...t, result: await cache.get(t.domain)! };
  }));
  return results.flatMap(({ field, domain, result }): Finding[] => {
    const label = field === 'from' ? 'From' : 'Reply-To';
    if (result.status === 'absent') {
      return [{ id: `${field}.domain-unresolvable`, severity: 'block', where: field, requirements: ['AF-10'], excerpt: domain,
        message: `The ${label} domain ${domain} ${result.why}: replies and bounces cannot reach it, and receivers refuse such mail`,
        fix: `Use a ${label} address on a domain that exists and receives mail (publish an MX record for ${domain}).` }];
    }
    if (result.status === 'unknown') {
      return [{ id: `${field}.dns-unchecked`, severity: 'warn', where: field, requirements: ['AF-10'], excerpt: domain,
        message: `Could not check the ${label} domain ${domain} (${result.why})`,
        fix: 'Check again later; if it persists, check the DNS servers of that domain.' }];
    }
    return [];
  });
}

async function lookup(r: Resolver, domain: string): Promise<Lookup> {
  try {
    const mx = await r.mx(domain);
    // RFC 7505: a single "." MX says the domain takes no mail at all
    if (mx.length > 0 && mx.every((m) => m.exchange === '' || m.exchange === '.')) return { status: 'absent', why: 'publishes a null MX (it takes no mail)' };
    if (mx.length > 0) return { status: 'ok' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOTFOUND') return { status: 'absent', why: 'does not exist (NXDOMAIN)' };
    if (!NO_RECORD.has(code)) return { status: 'unknown', why: code };
  }
  for (const q of [(d: string) => r.a(d), (d: string) => r.aaaa(d)]) {
    try {
      if ((await q(domain)).length > 0) return { status: 'ok' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (!NO_RECORD.has(code)) return { status: 'unknown', why: code };
    }
  }
  return { status: 'absent', why: 'has no MX and no A/AAAA record' };
}

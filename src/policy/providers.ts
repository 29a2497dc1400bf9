// Provider profiles (issue 5; GM-7, GM-11, AF-9): destinations grouped by
// MX host suffix, each with caps, TLS policy, quiet hours and reaction rules,
// all data in data/providers.json (KumoMTA's shaping.toml is the model).
// Pure: validated once with zod, then lookups.
import { z } from 'zod';
import { regexSource, timeZone } from './validators.ts';
import data from './data/providers.json' with { type: 'json' };
import type { QuietHours } from './quiet-hours.ts';
import { flattenReply, parseEnhanced } from './replies.ts';

export type { QuietHours } from './quiet-hours.ts';

export interface ReactionRule {
  /** what in a reply triggers it; every field given must hold */
  match: { code?: number; enhanced?: string /* "4.7.28" */; text?: string /* regex source, case-insensitive */ };
  /** a real reply line this rule answers */
  example: string;
  /** where that line was found */
  source?: string;
  action: 'slowdown' | 'suspend-provider' | 'domain-fault';
  /** for slowdown/suspend: minutes */
  durationMinutes?: number;
  /** for domain-fault: the cause and remedy, in plain words (GM-11) */
  fault?: { cause: 'ptr' | 'spf' | 'tls' | 'dkim' | 'dmarc' | 'alignment'; remedy: string };
}

export interface ProviderProfile {
  name: string;
  /** MX host suffixes, e.g. ".google.com" */
  mxSuffixes: string[];
  /** real MX host names of this provider, checked by the tests */
  exampleMx: string[];
  maxConnections: number;
  messagesPerConnection: number;
  /** messages per minute per (provider, IP pool) */
  ratePerMinute: number;
  tls: 'required' | 'opportunistic';
  verifyCertificates: boolean;
  /** marketing not started in these local hours (AF-9) */
  quietHours?: QuietHours;
  reactions: ReactionRule[];
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

const reaction = z
  .strictObject({
    match: z
      .strictObject({
        code: z.number().int().min(400).max(599).optional(),
        enhanced: z.string().regex(/^[45]\.\d{1,3}\.\d{1,3}$/).optional(),
        text: regexSource.optional(),
      })
      .refine((m) => m.code !== undefined || m.enhanced !== undefined || m.text !== undefined, 'a reaction must match on something'),
    example: z.string().regex(/^[45]\d\d[ -]/, 'the example must be a reply line starting with its code'),
    source: z.string().min(1).optional(),
    action: z.enum(['slowdown', 'suspend-provider', 'domain-fault']),
    durationMinutes: z.number().int().positive().optional(),
    fault: z.strictObject({ cause: z.enum(['ptr', 'spf', 'tls', 'dkim', 'dmarc', 'alignment']), remedy: z.string().min(20) }).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.action === 'domain-fault' && !r.fault) ctx.addIssue({ code: 'custom', message: 'a domain-fault reaction needs a fault (cause and remedy)' });
    if (r.action !== 'domain-fault' && r.durationMinutes === undefined) ctx.addIssue({ code: 'custom', message: `a ${r.action} reaction needs durationMinutes` });
  });

const provider = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  mxSuffixes: z.array(z.string().regex(/^\.[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a suffix is a dot then a domain, e.g. ".google.com"')),
  exampleMx: z.array(z.string().min(1)),
  maxConnections: z.number().int().positive(),
  messagesPerConnection: z.number().int().positive(),
  ratePerMinute: z.number().positive(),
  tls: z.enum(['required', 'opportunistic']),
  verifyCertificates: z.boolean(),
  quietHours: z.strictObject({ timeZone, from: hhmm, to: hhmm, preferred: z.strictObject({ from: hhmm, to: hhmm }).optional() }).optional(),
  reactions: z.array(reaction),
});

const file = z.strictObject({ _comment: z.string().optional(), providers: z.array(provider) }).superRefine((f, ctx) => {
  const names = new Set<string>();
  const owner = new Map<string, string>();
  for (const p of f.providers) {
    if (names.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate provider ${p.name}` });
    names.add(p.name);
    for (const s of p.mxSuffixes) {
      const other = owner.get(s);
      if (other && other !== p.name) ctx.addIssue({ code: 'custom', message: `suffix ${s} claimed by ${other} and ${p.name}` });
      owner.set(s, p.name);
    }
  }
  const def = f.providers.find((p) => p.name === 'default');
  if (!def) ctx.addIssue({ code: 'custom', message: 'a "default" provider is required' });
  else if (def.mxSuffixes.length) ctx.addIssue({ code: 'custom', message: 'the "default" provider matches by absence: no mxSuffixes' });
});

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

/** Validates a provider file; a bad file is a thrown error. */
export function parseProviders(raw: unknown): ProviderProfile[] {
  return deepFreeze(file.parse(raw).providers);
}

let loaded: ProviderProfile[] | undefined;
/** The shipped profiles, validated at first use (a bad file fails at start). */
export function loadProviders(): ProviderProfile[] {
  loaded ??= parseProviders(data);
  return loaded;
}

function normalizeHost(h: string): string {
  return String(h).trim().toLowerCase().replace(/\.+$/, '');
}

function suffixMatches(host: string, suffix: string): boolean {
  return host.endsWith(suffix) || host === suffix.slice(1);
}

/** The provider of a destination: that of the first MX host (in priority
 * order) ending with a known suffix, the longest suffix winning; otherwise
 * "default". */
export function providerForMx(mxHosts: string[], providers: ProviderProfile[] = loadProviders()): ProviderProfile {
  for (const raw of mxHosts) {
    const host = normalizeHost(raw);
    let best: ProviderProfile | undefined;
    let bestLen = 0;
    for (const p of providers) {
      for (const s of p.mxSuffixes) {
        if (s.length > bestLen && suffixMatches(host, s)) {
          best = p;
          bestLen = s.length;
        }
      }
    }
    if (best) return best;
  }
  const def = providers.find((p) => p.name === 'default');
  if (!def) throw new Error('providerForMx: the provider list has no "default" profile');
  return def;
}

const compiled = new WeakMap<ReactionRule, RegExp>();
function textRe(r: ReactionRule): RegExp | undefined {
  if (r.match.text === undefined) return undefined;
  let re = compiled.get(r);
  if (!re) compiled.set(r, (re = new RegExp(r.match.text, 'i')));
  return re;
}

function reacts(r: ReactionRule, code: number, enhanced: string | undefined, flat: string): boolean {
  if (r.match.code !== undefined && r.match.code !== code) return false;
  if (r.match.enhanced !== undefined && r.match.enhanced !== enhanced) return false;
  const re = textRe(r);
  return !re || re.test(flat);
}

/** The reaction a reply calls for (GM-11): the provider's first matching
 * rule, else the first matching rule of "default"; undefined when none. */
export function reactionFor(profile: ProviderProfile, code: number, text: string, providers: ProviderProfile[] = loadProviders()): ReactionRule | undefined {
  const enhanced = parseEnhanced(text);
  const flat = flattenReply(text);
  const own = profile.reactions.find((r) => reacts(r, code, enhanced, flat));
  if (own || profile.name === 'default') return own;
  return providers.find((p) => p.name === 'default')?.reactions.find((r) => reacts(r, code, enhanced, flat));
}

/** What configuration may change in a shipped profile (delivery.providers). */
export type ProviderOverride = Partial<Pick<ProviderProfile, 'maxConnections' | 'messagesPerConnection' | 'ratePerMinute' | 'tls' | 'verifyCertificates'>>;

/** The profiles with configured overrides applied; an override naming no
 * profile is a thrown error (a typo must fail at start, not be ignored). */
export function withOverrides(providers: ProviderProfile[], overrides: Record<string, ProviderOverride>): ProviderProfile[] {
  for (const name of Object.keys(overrides)) {
    if (!providers.some((p) => p.name === name)) throw new Error(`delivery.providers: no provider profile named "${name}" (known: ${providers.map((p) => p.name).join(', ')})`);
  }
  return providers.map((p) => (overrides[p.name] ? deepFreeze({ ...p, ...overrides[p.name] }) : p));
}

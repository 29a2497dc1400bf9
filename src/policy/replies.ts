// Reply classification (issue 5): every SMTP reply becomes an outcome value,
// never an exception (STYLE 2). Pure: codes and text in, decision out.
// The basic and enhanced codes give a first answer (RFC 5321, RFC 3463); the
// pattern file (data/replies.json, one real reply line per rule) refines it,
// because receivers put the truth in the text: Orange answers "552 5.1.1" for
// a full mailbox, Microsoft "5.1.10" for an unknown user.
import { z } from 'zod';
import { regexSource } from './validators.ts';
import data from './data/replies.json' with { type: 'json' };

export type BounceCategory = 'unknown-user' | 'unknown-domain' | 'mailbox-full' | 'has-moved' | 'message-rejected' | 'other';
export type BlockCategory = 'policy' | 'reputation' | 'spam' | 'authentication' | 'rate' | 'blocklist' | 'other';

export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'deferred'; category: string; retryAfterMinutes?: number }
  | { kind: 'bounced'; category: BounceCategory; hard: boolean }
  | { kind: 'blocked'; category: BlockCategory; permanent: boolean };

export type Classified = Outcome & { enhanced?: string; rule?: string };

/** Only these are worth suppressing the address for, and only on a 5xx:
 * the mailbox or domain is gone, not merely unhappy (Sisimai's rule). */
const HARD: ReadonlySet<string> = new Set(['unknown-user', 'unknown-domain', 'has-moved']);

const bounceCategory = z.enum(['unknown-user', 'unknown-domain', 'mailbox-full', 'has-moved', 'message-rejected', 'other']);
const blockCategory = z.enum(['policy', 'reputation', 'spam', 'authentication', 'rate', 'blocklist', 'other']);

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  providers: z.array(z.string()).min(1).optional(),
  match: z.strictObject({
    class: z.union([z.literal(4), z.literal(5)]).optional(),
    enhanced: z.array(z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/)).min(1).optional(),
    text: regexSource.optional(),
  }).refine((m) => m.enhanced !== undefined || m.text !== undefined, 'a rule needs an enhanced code or a text pattern'),
  outcome: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('deferred'), category: z.string().min(1), retryAfterMinutes: z.number().int().positive().optional() }),
    z.strictObject({ kind: z.literal('bounced'), category: bounceCategory }),
    z.strictObject({ kind: z.literal('blocked'), category: blockCategory }),
  ]),
  example: z.string().regex(/^[245]\d\d[ -]/, 'the example must be a reply line starting with its code'),
  source: z.string().min(1),
});

const fileSchema = z.strictObject({ _comment: z.string().optional(), rules: z.array(ruleSchema) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  for (const r of f.rules) {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id ${r.id}` });
    seen.add(r.id);
    // A 5xx is final by protocol; a rule cannot make it a retry.
    if (r.outcome.kind === 'deferred' && r.match.class !== 4) ctx.addIssue({ code: 'custom', message: `rule ${r.id}: deferred rules must say class 4` });
  }
});

export type ReplyRule = z.infer<typeof ruleSchema>;
type Compiled = ReplyRule & { re?: RegExp };

/** Validates a pattern file; a bad file is a thrown error at start. */
export function parseReplyRules(raw: unknown): ReplyRule[] {
  return fileSchema.parse(raw).rules;
}

let compiled: Compiled[] | undefined;
function rules(): Compiled[] {
  compiled ??= parseReplyRules(data).map((r) => ({ ...r, re: r.match.text ? new RegExp(r.match.text, 'i') : undefined }));
  return compiled;
}

/** The reply rules in order, validated (for tests and docs). */
export function replyRules(): readonly ReplyRule[] {
  return rules();
}

// Subjects 0-7 only (RFC 3463): keeps IP addresses and Yahoo's "4.16.55.1"
// from passing for status codes.
const ENHANCED = /(?:^|[^\d.])([245])\.([0-7])\.(\d{1,3})(?!\d|\.\d)/;

/** The first RFC 3463 status code in a reply: "5.1.1" from
 * "550 5.1.1 <x>: Recipient address rejected". */
export function parseEnhanced(text: string): string | undefined {
  const m = ENHANCED.exec(typeof text === 'string' ? text : '');
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** One line of text from a multi-line reply: the "421-4.7.28 " prefixes of
 * continuation lines would otherwise cut phrases the patterns look for. */
export function flattenReply(text: string): string {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*\d{3}(?:[ -]+[245]\.\d{1,3}\.\d{1,3})?(?:[ -]|$)/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

type Intent = { kind: 'deferred'; category: string; retryAfterMinutes?: number } | { kind: 'bounced'; category: BounceCategory } | { kind: 'blocked'; category: BlockCategory };

/** What the enhanced code alone says (RFC 3463 subjects and details). */
function fromEnhanced(subject: number, detail: number): Intent | undefined {
  switch (subject) {
    case 1: {
      const map: Record<number, Intent> = {
        1: { kind: 'bounced', category: 'unknown-user' },
        2: { kind: 'bounced', category: 'unknown-domain' },
        3: { kind: 'bounced', category: 'unknown-user' }, // bad address syntax: never deliverable
        6: { kind: 'bounced', category: 'has-moved' },
        7: { kind: 'blocked', category: 'policy' }, // x.1.7 / x.1.8 are about our sender address
        8: { kind: 'blocked', category: 'policy' },
        10: { kind: 'bounced', category: 'unknown-domain' }, // RFC 7505 null MX
      };
      return map[detail] ?? { kind: 'bounced', category: 'other' };
    }
    case 2:
      if (detail === 2) return { kind: 'bounced', category: 'mailbox-full' };
      if (detail === 3) return { kind: 'bounced', category: 'message-rejected' };
      return { kind: 'bounced', category: 'other' };
    case 3:
      return detail === 4 ? { kind: 'bounced', category: 'message-rejected' } : { kind: 'deferred', category: 'system' };
    case 4:
      return { kind: 'deferred', category: 'network' };
    case 5:
      return { kind: 'deferred', category: 'protocol' };
    case 6:
      return { kind: 'bounced', category: 'message-rejected' };
    case 7:
      if (detail === 0) return { kind: 'blocked', category: 'other' };
      if (detail === 28) return { kind: 'blocked', category: 'reputation' };
      if (detail >= 20 && detail <= 32) return { kind: 'blocked', category: 'authentication' };
      return { kind: 'blocked', category: 'policy' };
    default:
      return undefined; // x.0.x says nothing: fall back to the basic code
  }
}

/** What the basic code alone says (RFC 5321 section 4.2.3, RFC 7504). */
function fromBasic(code: number): Intent {
  const map: Record<number, Intent> = {
    421: { kind: 'deferred', category: 'service' },
    450: { kind: 'deferred', category: 'mailbox' },
    451: { kind: 'deferred', category: 'system' },
    452: { kind: 'deferred', category: 'storage' },
    454: { kind: 'deferred', category: 'tls' },
    521: { kind: 'bounced', category: 'unknown-domain' },
    530: { kind: 'blocked', category: 'authentication' },
    535: { kind: 'blocked', category: 'authentication' },
    551: { kind: 'bounced', category: 'has-moved' },
    552: { kind: 'bounced', category: 'mailbox-full' },
    556: { kind: 'bounced', category: 'unknown-domain' },
  };
  return map[code] ?? (code < 500 ? { kind: 'deferred', category: 'other' } : { kind: 'bounced', category: 'other' });
}

/** The code class decides permanence; the intent decides the rest. */
function settle(intent: Intent, cls: 4 | 5): Outcome {
  if (cls === 4) {
    if (intent.kind === 'blocked') return { kind: 'blocked', category: intent.category, permanent: false };
    const o: Outcome = { kind: 'deferred', category: intent.category };
    if (intent.kind === 'deferred' && intent.retryAfterMinutes) o.retryAfterMinutes = intent.retryAfterMinutes;
    return o;
  }
  if (intent.kind === 'blocked') return { kind: 'blocked', category: intent.category, permanent: true };
  if (intent.kind === 'bounced') return { kind: 'bounced', category: intent.category, hard: HARD.has(intent.category) };
  return { kind: 'bounced', category: 'other', hard: false }; // a 5xx cannot be retried, and says nothing more
}

function matches(r: Compiled, cls: number, enhanced: string | undefined, flat: string, provider?: string): boolean {
  if (r.providers && !(provider && r.providers.includes(provider))) return false;
  if (r.match.class !== undefined && r.match.class !== cls) return false;
  if (r.match.enhanced && !(enhanced && r.match.enhanced.includes(enhanced))) return false;
  return !r.re || r.re.test(flat);
}

/** Classifies one SMTP reply. A code that is not a reply code (0 for a
 * dropped connection, NaN from garbage) is a safe deferral, never a bounce. */
export function classifyReply(code: number, text: string, opts: { provider?: string } = {}): Classified {
  if (!Number.isInteger(code) || code < 200 || code > 599) return { kind: 'deferred', category: 'unparsable' };
  if (code < 300) return { kind: 'delivered' };
  if (code < 400) return { kind: 'deferred', category: 'protocol' }; // an intermediate reply is never final
  const cls = code < 500 ? 4 : 5;
  const enhanced = parseEnhanced(text);
  const flat = flattenReply(text);
  const extra = enhanced ? { enhanced } : {};
  for (const r of rules()) {
    if (matches(r, cls, enhanced, flat, opts.provider)) return { ...settle(r.outcome, cls), ...extra, rule: r.id };
  }
  const [, subject, detail] = enhanced ? enhanced.split('.').map(Number) : [];
  const intent = (subject !== undefined && detail !== undefined && fromEnhanced(subject, detail)) || fromBasic(code);
  return { ...settle(intent, cls), ...extra };
}

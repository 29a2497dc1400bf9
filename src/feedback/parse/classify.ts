// One failed (or delivered) recipient's facts → a category and hard/soft.
// Pure. The order of evidence: the DSN action; the pattern rules
// (data/patterns.json), first match wins; then what the enhanced status code
// means (RFC 3463); then the basic reply code (RFC 5321, RFC 7504).
import { flattenReply, parseEnhanced } from '../../policy/replies.ts';
import { hardness, type Category } from './categories.ts';
import { diagnosticRules, type CompiledRule } from './rules.ts';

export type SmtpCommand = 'CONN' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA';

export interface FailureFacts {
  /** the DSN Action, lower-cased, when there was one */
  action: string | null;
  /** the Status field's code */
  status: string | null;
  /** the diagnostic text: the Diagnostic-Code value or the lines a text bounce gives */
  diagnostic: string | null;
  /** the Diagnostic-Code type, lower-cased ("smtp", "x-unix") */
  diagnosticType: string | null;
  /** the SMTP command the reply answered, when the bounce says */
  command: SmtpCommand | null;
}

export interface Classification {
  category: Category;
  hard: boolean | null;
  /** the enhanced code that best describes the failure (the remote server's own over the summary) */
  status: string | null;
  replyCode: string | null;
  /** the pattern rule that decided, if one did */
  rule: string | null;
}

const NOT_FAILURES = new Set(['delivered', 'relayed', 'expanded', 'deliverable']);

/** "550" from "host x said: 550 5.1.1 …", "ERROR_CODE :550", "[550 5.1.1 …]". */
export function parseReplyCode(text: string | null): string | null {
  if (!text) return null;
  const m = /(?:^|[\s:;(\[<'"])([245][0-5]\d)(?=[\s\-\]'",.)>]|$)/.exec(text);
  return m ? m[1] : null;
}

/** One line for the patterns: reply prefixes off line starts (flattenReply),
 * and off the middle too, where an MTA re-wrapped a multi-line reply:
 * "Messages with multiple 550 5.7.1 addresses in From:" → "… multiple addresses …". */
export function flatDiagnostic(text: string | null): string {
  let t = text ?? '';
  const m = /\b([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(t);
  if (m) {
    const end = m.index + m[0].length;
    const again = new RegExp(`\\s${m[1]}[ -]${m[2].replace(/\./g, '\\.')}(?=\\s|$)`, 'g');
    t = t.slice(0, end) + t.slice(end).replace(again, ' ');
  }
  return flattenReply(t);
}

/** The remote server's code when the diagnostic has one, unless it only says
 * x.0.0 where the Status field is more precise. */
function bestStatus(field: string | null, fromText: string | undefined): string | null {
  if (!fromText) return field;
  if (field && /\.0\.0$/.test(fromText) && !/\.0\.0$/.test(field)) return field;
  return fromText;
}

function statusMatches(patterns: string[] | undefined, status: string | null): boolean {
  if (!patterns) return true;
  if (!status) return false;
  const tail = status.slice(1);
  return patterns.some((p) => p === status || (p[0] === 'x' && p.slice(1) === tail));
}

function ruleMatches(r: CompiledRule, facts: FailureFacts, flat: string, status: string | null, code: string | null): boolean {
  if (r.type && !(facts.diagnosticType && r.type.test(facts.diagnosticType))) return false;
  if (!statusMatches(r.match.status, status)) return false;
  if (r.match.code && !(code && r.match.code.includes(Number(code)))) return false;
  return !r.text || r.text.test(flat);
}

/** What the rules see of the facts: one flat line, the best status, the reply code. */
function derive(facts: FailureFacts): { flat: string; status: string | null; code: string | null } {
  return {
    flat: flatDiagnostic(facts.diagnostic),
    status: bestStatus(facts.status, parseEnhanced(facts.diagnostic ?? '')),
    code: parseReplyCode(facts.diagnostic),
  };
}

/** The first rule that matches, or undefined (exported for the data's own test). */
export function firstRule(facts: FailureFacts): CompiledRule | undefined {
  const { flat, status, code } = derive(facts);
  return diagnosticRules().find((r) => ruleMatches(r, facts, flat, status, code));
}

/** What an enhanced status code alone says (RFC 3463 subjects and details). */
function fromStatus(status: string): Category | undefined {
  const [, s, d] = status.split('.').map(Number);
  const key = `${s}.${d}`;
  const exact: Record<string, Category> = {
    '1.1': 'unknown-user', '1.2': 'unknown-domain', '1.3': 'unknown-user', '1.6': 'has-moved',
    '1.7': 'sender-rejected', '1.8': 'sender-rejected', '1.10': 'not-accepted',
    '2.0': 'filtered', '2.1': 'filtered', '2.2': 'mailbox-full', '2.3': 'message-too-big', '2.4': 'system',
    '3.2': 'not-accepted', '3.4': 'message-too-big',
    '4.3': 'system', '4.4': 'unknown-domain', '4.7': 'expired',
    '7.13': 'suspended', '7.25': 'no-ptr', '7.27': 'not-accepted', '7.28': 'reputation',
  };
  if (exact[key]) return exact[key];
  if (s === 3) return 'system';
  if (s === 4) return 'network';
  if (s === 5) return 'syntax';
  if (s === 6) return 'content';
  if (s === 7) return (d >= 20 && d <= 32) ? 'authentication' : d <= 2 ? 'policy' : 'security';
  return undefined; // x.0.x and x.1.x others: the code does not tell
}

/** What a basic reply code alone says (RFC 5321 4.2.3, RFC 7504). */
function fromReplyCode(code: string): Category | undefined {
  const map: Record<string, Category> = {
    '421': 'network', '451': 'system', '452': 'mailbox-full',
    '500': 'syntax', '501': 'syntax', '502': 'syntax', '503': 'syntax', '504': 'syntax',
    '521': 'not-accepted', '530': 'security', '535': 'security', '551': 'has-moved', '552': 'mailbox-full', '556': 'not-accepted',
  };
  return map[code];
}

/** The class (4 or 5) of a failure: the status code, else the reply code,
 * else the DSN action; a failure report saying nothing is final. */
function classOf(status: string | null, code: string | null, action: string | null): 4 | 5 {
  const first = status?.[0] ?? code?.[0];
  if (first === '4') return 4;
  if (first === '5') return 5;
  return action === 'delayed' ? 4 : 5;
}

/** Classifies one recipient's failure. */
export function classifyFailure(facts: FailureFacts): Classification {
  const { flat, status, code } = derive(facts);
  const cls = classOf(status, code, facts.action);
  const base = { status, replyCode: code };
  if (facts.action && NOT_FAILURES.has(facts.action)) return { ...base, category: 'delivered', hard: null, rule: null };

  const rule = diagnosticRules().find((r) => ruleMatches(r, facts, flat, status, code));
  let category: Category;
  if (rule) {
    category = rule.category;
    // "user unknown" said by a filter after DATA is not proof the mailbox is gone
    if (rule.weak && !(cls === 5 && (facts.command === 'RCPT' || status === '5.1.1'))) category = 'filtered';
  } else {
    category = (status && fromStatus(status)) || (code && fromReplyCode(code)) || (flat || status ? 'undefined' : 'on-hold');
  }
  return { ...base, category, hard: hardness(category, cls), rule: rule?.id ?? null };
}

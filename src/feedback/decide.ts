// What envoi does about one inbound feedback message: a pure decision from
// the mailbox it came to, what the parser found, and the recipient it is
// about (when one was found). The IO side (index.ts) carries it out.
//   hard bounce           → suppress (MC-9, AF-7) + a `bounced` event
//   soft bounce           → a `bounced` event (counted, not suppressed)
//   ARF abuse complaint   → suppress from all marketing of the tenant + `complained` (MJ-1, GM-10)
//   ARF opt-out           → unsubscribe from the list of that message
//   auto-reply / notice   → recorded, never a failure
//   abuse@ / postmaster@  → a complaint about the message when it can be
//                           named, stored either way, acknowledged (AF-8)
//   u-<token>@            → unsubscribe (the mailto: of List-Unsubscribe)
import type { FeedbackRecipient, ParsedFeedback } from './parse/index.ts';
import type { Mailbox } from './mailboxes.ts';

export interface Target {
  recipientId: string;
  tenantId: string;
  address: string;
  messageId: string;
  listId: string | null;
  contactId: string | null;
  campaignId: string | null;
}

export type Action =
  | { kind: 'suppress'; reason: 'hard_bounce' | 'complaint'; note: string }
  | { kind: 'unsubscribe'; source: string }
  | { kind: 'event'; type: 'bounced' | 'complained' | 'auto_replied' | 'feedback_unparsed'; data: Record<string, unknown> };

export interface Decision {
  status: 'processed' | 'unmatched' | 'unparsed';
  actions: Action[];
  /** a human wrote to abuse@/postmaster@: answer them (rate-limited by the caller) */
  acknowledge: boolean;
  /** the parsed recipient the decision is about */
  about: FeedbackRecipient | null;
}

// Feedback types that are a recipient's "this is spam" (RFC 5965 §7.3; "abuse" is what FBLs send)
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other', 'abuse-report']);

/** The parsed recipient this message is about: ours by address, else the only one, else the first failure. */
export function pickRecipient(parsed: ParsedFeedback, address: string | null): FeedbackRecipient | null {
  const rs = parsed.recipients;
  if (address) {
    const lower = address.toLowerCase();
    const mine = rs.find((r) => r.address?.toLowerCase() === lower);
    if (mine) return mine;
  }
  if (rs.length === 1) return rs[0];
  return rs.find((r) => r.hard !== null) ?? rs[0] ?? null;
}

export function decide(mailbox: Mailbox['kind'], parsed: ParsedFeedback, target: Target | null, opts: { autoSubmitted: boolean; nullSender: boolean }): Decision {
  const about = pickRecipient(parsed, target?.address ?? null);
  const base = { inbound: true, kind: parsed.kind };
  const none = (status: Decision['status']): Decision => ({ status, actions: [], acknowledge: false, about });

  if (mailbox === 'unsubscribe') {
    if (!target) return none('unmatched');
    return { status: 'processed', actions: target.listId ? [{ kind: 'unsubscribe', source: 'mailto' }] : [], acknowledge: false, about };
  }

  const human = mailbox !== 'bounce' && parsed.kind === 'unknown';
  if (human) {
    // a person's report to abuse@/postmaster@ is an unjustified-use complaint (MJ-1) when we can tell which message it is about
    const actions: Action[] = target
      ? [{ kind: 'suppress', reason: 'complaint', note: `report to ${mailbox}@` },
        { kind: 'event', type: 'complained', data: { ...base, feedbackType: 'abuse-report', source: mailbox } }]
      : [];
    return { status: target ? 'processed' : 'unmatched', actions, acknowledge: !opts.autoSubmitted && !opts.nullSender, about };
  }

  switch (parsed.kind) {
    case 'unknown':
      return { status: 'unparsed', actions: target ? [{ kind: 'event', type: 'feedback_unparsed', data: { ...base, problems: parsed.problems } }] : [], acknowledge: false, about };
    case 'delivery-report':
      return none(target ? 'processed' : 'unmatched');
    case 'autoreply':
      if (!target) return none('unmatched');
      return { status: 'processed', actions: [{ kind: 'event', type: 'auto_replied', data: { ...base, subject: parsed.subject } }], acknowledge: false, about };
    case 'bounce': {
      if (!target) return none('unmatched');
      if (!about || about.hard === null) return none('processed');
      const data = { ...base, async: true, hard: about.hard, category: about.category, status: about.status, diagnostic: about.diagnostic, remoteMta: about.remoteMta };
      const actions: Action[] = [{ kind: 'event', type: 'bounced', data }];
      if (about.hard) actions.unshift({ kind: 'suppress', reason: 'hard_bounce', note: about.diagnostic ?? about.status ?? about.category });
      return { status: 'processed', actions, acknowledge: false, about };
    }
    case 'complaint': {
      if (!target) return none('unmatched');
      const type = (about?.feedbackType ?? 'abuse').toLowerCase();
      const data = { ...base, feedbackType: type, source: mailbox, sourceIp: parsed.reporter.sourceIp, userAgent: parsed.reporter.userAgent };
      if (type === 'opt-out' || type === 'unsubscribe') {
        return { status: 'processed', actions: target.listId ? [{ kind: 'unsubscribe', source: 'fbl-opt-out' }] : [], acknowledge: false, about };
      }
      if (!COMPLAINT_TYPES.has(type)) return none('processed'); // not-spam, auth-failure: kept, no action
      return { status: 'processed', actions: [{ kind: 'suppress', reason: 'complaint', note: `${type} report${parsed.reporter.userAgent ? ` from ${parsed.reporter.userAgent}` : ''}` }, { kind: 'event', type: 'complained', data }], acknowledge: false, about };
    }
  }
}

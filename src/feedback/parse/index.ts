// The feedback parser (issue 6): one inbound message → what it reports.
// A checklist, first match wins: an Amazon SES notice, an ARF complaint, a
// JMRP complaint, an Apple unsubscribe, a bounce or delivery notice (DSN or
// text), an auto-reply; else unknown. Never throws: a message nobody can
// read is an 'unknown' result with the reason in `problems`.
import { decodeWords } from 'postal-mime';
import { findAddress } from './address.ts';
import { fromBounce } from './bounce.ts';
import { complainant, fromAppleUnsubscribe, fromArf, fromJmrp, type Context } from './complaint.ts';
import { firstValues } from './headers.ts';
import { readMessage } from './mime.ts';
import { isAutoReply } from './autoreply.ts';
import { classifyFailure } from './classify.ts';
import { returnedFromFields } from './returned.ts';
import { parseSesNotification } from './ses.ts';
import type { ParsedFeedback } from './types.ts';

export type { FeedbackKind, FeedbackRecipient, ParsedFeedback, ReturnedMessage, Reporter } from './types.ts';
export { CATEGORIES, sisimaiReason, type Category } from './categories.ts';
export { splitMbox } from './mime.ts';

function fromSes(ctx: Context): ParsedFeedback | null {
  const n = parseSesNotification(ctx.view.text);
  if (!n) return null;
  const original = returnedFromFields(n.mailHeaders, n.mailHeaders.map((h) => `${h.name}: ${h.value}`).join('\n'));
  const reporter = { ...(n.reportingMta && { reportingMta: n.reportingMta }), ...(n.userAgent && { userAgent: n.userAgent }), ...(n.arrivalDate && { arrivalDate: n.arrivalDate }) };
  if (n.type === 'complaint') {
    return { ...ctx.base, kind: 'complaint', recipients: n.recipients.map((r) => complainant(r.address, n.feedbackType)), original, reporter };
  }
  const recipients = n.recipients.map((r) => {
    const c = classifyFailure({ action: r.action, status: r.status, diagnostic: r.diagnostic, diagnosticType: null, command: null });
    return { address: r.address, hard: c.hard, category: c.category, status: c.status, diagnostic: r.diagnostic, action: r.action, remoteMta: null, feedbackType: null };
  });
  return { ...ctx.base, kind: n.type === 'delivery' ? 'delivery-report' : 'bounce', recipients, original, reporter };
}

function fromAutoReply(ctx: Context): ParsedFeedback | null {
  if (!isAutoReply(ctx.top, ctx.base.subject ?? '')) return null;
  const r = { address: ctx.base.from, hard: null, category: 'auto-reply', status: null, diagnostic: null, action: null, remoteMta: null, feedbackType: null };
  return { ...ctx.base, kind: 'autoreply', recipients: [r], original: null, reporter: {} };
}

const STEPS = [fromSes, fromArf, fromJmrp, fromAppleUnsubscribe, fromBounce, fromAutoReply];

/** Classifies one inbound message (raw bytes as received). */
export async function parseFeedback(raw: Buffer): Promise<ParsedFeedback> {
  const problems: string[] = [];
  try {
    const view = await readMessage(raw, problems);
    const top = firstValues(view.headers);
    let subject: string | null = null;
    try {
      subject = top.subject !== undefined ? decodeWords(top.subject) : null;
    } catch {
      subject = top.subject ?? null;
    }
    const ctx: Context = { view, top, base: { subject, from: findAddress(top.from), problems } };
    for (const step of STEPS) {
      const r = step(ctx);
      if (r) return r;
    }
    problems.push('not a delivery report, a complaint or an auto-reply');
    return { ...ctx.base, kind: 'unknown', recipients: [], original: null, reporter: {} };
  } catch (e) {
    problems.push(`unreadable: ${(e as Error).message}`);
    return { kind: 'unknown', recipients: [], original: null, reporter: {}, subject: null, from: null, problems };
  }
}

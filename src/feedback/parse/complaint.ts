// Complaints: ARF reports, Microsoft JMRP, Apple Mail's unsubscribe mail,
// Amazon SES complaint notices. Each step returns a result or null.
import { findAddress, normaliseAddress } from './address.ts';
import { parseFeedbackReport, recipientFromReturnedTo } from './arf.ts';
import { decodeBytes } from './headers.ts';
import type { MessageView, Part } from './mime.ts';
import { returnedFromBytes } from './returned.ts';
import type { FeedbackRecipient, ParsedFeedback, ReturnedMessage } from './types.ts';

/** What every step gets: the message read, its top headers, the common fields. */
export interface Context {
  view: MessageView;
  top: Record<string, string>;
  base: Pick<ParsedFeedback, 'subject' | 'from' | 'problems'>;
}

const RETURNED_TYPES = /^(?:message\/(?:rfc822|global|rfc822-headers|global-headers)|text\/rfc822-headers?)$/;

/** The returned message or headers attached to a report, if any. */
export function attachedOriginal(parts: Part[]): ReturnedMessage | null {
  for (const p of parts) {
    if (!RETURNED_TYPES.test(p.type)) continue;
    const r = returnedFromBytes(p.content);
    if (r) return r;
  }
  // some MTAs attach the returned headers as a plain text file
  for (const p of parts) {
    if (p.type !== 'text/plain') continue;
    const r = returnedFromBytes(p.content);
    if (r?.headers['message-id'] && (r.headers.from || r.headers.to)) return r;
  }
  return null;
}

export function complainant(address: string | null, feedbackType: string | null): FeedbackRecipient {
  return { address, hard: null, category: 'complaint', status: null, diagnostic: null, action: null, remoteMta: null, feedbackType };
}

/** RFC 5965: a message/feedback-report part. */
export function fromArf(ctx: Context): ParsedFeedback | null {
  const part = ctx.view.parts.find((p) => p.type === 'message/feedback-report');
  if (!part) return null;
  const report = parseFeedbackReport(decodeBytes(part.content));
  const original = attachedOriginal(ctx.view.parts);
  if (!report.feedbackType) ctx.base.problems.push('feedback report without Feedback-Type');
  let addresses: (string | null)[] = report.recipients;
  if (!addresses.length) addresses = [recipientFromReturnedTo(original?.headers.to, report.redacted)];
  const reporter = {
    ...(report.sourceIp && { sourceIp: report.sourceIp }),
    ...(report.userAgent && { userAgent: report.userAgent }),
    ...(report.reportingMta && { reportingMta: report.reportingMta }),
    ...(report.arrivalDate && { arrivalDate: report.arrivalDate }),
    ...(report.reportedDomain && { reportedDomain: report.reportedDomain }),
  };
  return { ...ctx.base, kind: 'complaint', recipients: addresses.map((a) => complainant(a, report.feedbackType)), original, reporter };
}

/** Microsoft JMRP: the complained-about message forwarded whole, its
 * recipient in X-HmXmrOriginalRecipient. */
export function fromJmrp(ctx: Context): ParsedFeedback | null {
  if (ctx.view.parts.some((p) => /delivery-status$/.test(p.type))) return null; // a bounce of such a message
  const original = attachedOriginal(ctx.view.parts);
  const rcpt = original?.headers['x-hmxmroriginalrecipient'];
  if (!original || rcpt === undefined) return null;
  return { ...ctx.base, kind: 'complaint', recipients: [complainant(normaliseAddress(rcpt) ?? findAddress(rcpt), 'abuse')], original, reporter: {} };
}

/** Apple Mail's unsubscribe: a mail to the List-Unsubscribe mailto: address,
 * marked X-Apple-Unsubscribe. The sender is the recipient who opted out. */
export function fromAppleUnsubscribe(ctx: Context): ParsedFeedback | null {
  if (!/^\s*true\s*$/i.test(ctx.top['x-apple-unsubscribe'] ?? '')) return null;
  return { ...ctx.base, kind: 'complaint', recipients: [complainant(ctx.base.from, 'opt-out')], original: null, reporter: { userAgent: 'Apple Mail' } };
}

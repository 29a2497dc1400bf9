// RFC 5965 message/feedback-report (ARF), and the two complaint formats that
// are not ARF but come to the same: Microsoft's JMRP (the complained-about
// message forwarded whole, its recipient in X-HmXmrOriginalRecipient) and
// Apple Mail's unsubscribe mail (RFC 8058's mailto: fallback, marked
// X-Apple-Unsubscribe). Pure: fields in, report out.
import { findAddress, normaliseAddress } from './address.ts';
import { allValues, parseFieldGroups, type HeaderField } from './headers.ts';

export interface FeedbackReport {
  feedbackType: string | null;
  /** the complained-about recipients the report names (Original-Rcpt-To, Removal-Recipient) */
  recipients: string[];
  /** the report says the recipient was redacted (RFC 6590) */
  redacted: boolean;
  originalMailFrom: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  reportingMta: string | null;
  arrivalDate: string | null;
  reportedDomain: string | null;
}

export function parseFeedbackReport(text: string): FeedbackReport {
  const fields: HeaderField[] = parseFieldGroups(text).flat();
  const one = (name: string) => allValues(fields, name)[0]?.trim() || null;
  const rcpts = new Set<string>();
  for (const name of ['original-rcpt-to', 'removal-recipient']) {
    for (const v of allValues(fields, name)) {
      const a = normaliseAddress(v) ?? findAddress(v);
      if (a) rcpts.add(a);
    }
  }
  const mta = one('reporting-mta');
  return {
    feedbackType: one('feedback-type')?.toLowerCase().split(/[\s;]/)[0] || null,
    recipients: [...rcpts],
    redacted: fields.some((f) => f.name === 'redacted-address'),
    originalMailFrom: normaliseAddress(one('original-mail-from')) ?? findAddress(one('original-mail-from')),
    sourceIp: one('source-ip'),
    userAgent: one('user-agent'),
    reportingMta: mta ? mta.replace(/^[A-Za-z0-9-]+\s*;\s*/, '') : null,
    arrivalDate: one('arrival-date') ?? one('received-date'),
    reportedDomain: one('reported-domain')?.toLowerCase() ?? null,
  };
}

/** The recipient of a returned message when a report names none: its To,
 * if that is one real address. "Undisclosed recipients" and redacted
 * placeholders ("redacted@…", RFC 6590) are no recipient. */
export function recipientFromReturnedTo(to: string | undefined, redacted: boolean): string | null {
  if (!to || redacted) return null;
  const a = findAddress(to);
  if (!a || /^redacted@/.test(a)) return null;
  return to.split(',').length === 1 ? a : null;
}

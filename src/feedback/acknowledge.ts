// The automatic answer to a report sent to abuse@ or postmaster@ (AF-8):
// short, factual, marked as an automatic reply (RFC 3834) so the reporter's
// own auto-responder does not answer it back. Who gets one is decided in
// index.ts: never a null sender or an automatic message, at most one per
// sender a day.
import type { OutgoingMessage } from '../compose/types.ts';
import type { AckRequest } from './index.ts';

export function acknowledgement(a: AckRequest): OutgoingMessage {
  const subject = (a.subject ?? '').replace(/[\r\n]+/g, ' ').slice(0, 150);
  return {
    from: { email: `${a.mailbox}@${a.domain}` },
    to: [{ email: a.to }],
    subject: subject ? `Re: ${subject}` : `Your report to ${a.mailbox}@${a.domain}`,
    text: [
      `Thank you for your report to ${a.mailbox}@${a.domain}. It has been received and recorded under the reference ${a.reference}.`,
      '',
      'If it concerns an email you did not ask for, the address it was sent to will receive no more marketing from this sender.',
      'This is an automatic answer; a person reviews the reports received.',
    ].join('\n'),
    headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
  };
}

// The messages the simulator's "receivers" send back, written the way real
// MTAs write them so they go through the same inbound parser as real ones:
// an RFC 3464 DSN (multipart/report; report-type=delivery-status), an RFC
// 5965 ARF report (report-type=feedback-report, the original attached), and
// an RFC 3834 vacation reply. Pure: the caller gives the time and ids.

export interface Original {
  /** the envelope sender of the original (our VERP address): the report goes there */
  returnPath: string;
  recipient: string;
  /** the original message */
  raw: Buffer;
  /** the host that "received" it */
  reportingMta: string;
  date: Date;
  id: string;
}

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

function headerBlock(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end === -1 ? Math.min(raw.length, 64 * 1024) : Math.min(end, 64 * 1024)).toString('utf8');
}

function header(raw: Buffer, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(headerBlock(raw))?.[1].replace(/\r\n[ \t]+/g, ' ').trim();
}

/** A hard bounce after acceptance: "550 5.1.1 user unknown" from the final mailbox store. */
export function asyncBounce(o: Original): Buffer {
  const boundary = `dsn-${o.id}`;
  return Buffer.concat([crlf([
    `From: Mail Delivery System <MAILER-DAEMON@${o.reportingMta}>`,
    `To: <${o.returnPath}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${o.date.toUTCString()}`,
    `Message-ID: <${o.id}@${o.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail system at host ${o.reportingMta}.`,
    '',
    'Your message could not be delivered to one or more recipients.',
    '',
    `<${o.recipient}>: host store.${o.reportingMta} said: 550 5.1.1 <${o.recipient}>: Recipient address rejected: User unknown in local recipient table`,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${o.reportingMta}`,
    `Arrival-Date: ${o.date.toUTCString()}`,
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Original-Recipient: rfc822;${o.recipient}`,
    'Action: failed',
    'Status: 5.1.1',
    `Remote-MTA: dns; store.${o.reportingMta}`,
    `Diagnostic-Code: smtp; 550 5.1.1 <${o.recipient}>: Recipient address rejected: User unknown in local recipient table`,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
  ]), Buffer.from(headerBlock(o.raw)), crlf(['', '', `--${boundary}--`, ''])]);
}

/** A recipient pressed "report spam": the provider's feedback loop sends an ARF report with the message. */
export function complaintReport(o: Original, sourceIp = '127.0.0.1'): Buffer {
  const boundary = `arf-${o.id}`;
  const from = header(o.raw, 'from') ?? '';
  const fromDomain = /@([^>\s]+)/.exec(from)?.[1] ?? '';
  return Buffer.concat([crlf([
    `From: Feedback Loop <fbl@${o.reportingMta}>`,
    `To: <${o.returnPath}>`,
    `Subject: Abuse report: ${header(o.raw, 'subject') ?? ''}`.slice(0, 200),
    `Date: ${o.date.toUTCString()}`,
    `Message-ID: <${o.id}@${o.reportingMta}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is an email abuse report for an email message received by the simulator.',
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: envoi-simulator/1.0',
    'Version: 1',
    `Original-Mail-From: <${o.returnPath}>`,
    `Original-Rcpt-To: <${o.recipient}>`,
    `Arrival-Date: ${o.date.toUTCString()}`,
    `Source-IP: ${sourceIp}`,
    ...(fromDomain ? [`Reported-Domain: ${fromDomain}`] : []),
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
  ]), o.raw, crlf(['', `--${boundary}--`, ''])]);
}

/** "I am away": an RFC 3834 automatic reply, sent to the Return-Path as vacation programs do. */
export function vacationReply(o: Original): Buffer {
  const subject = header(o.raw, 'subject') ?? '';
  const mid = header(o.raw, 'message-id');
  return crlf([
    `From: <${o.recipient}>`,
    `To: <${o.returnPath}>`,
    `Subject: Auto: ${subject}`.slice(0, 200),
    `Date: ${o.date.toUTCString()}`,
    `Message-ID: <${o.id}@${o.reportingMta}>`,
    ...(mid ? [`In-Reply-To: ${mid}`, `References: ${mid}`] : []),
    'Auto-Submitted: auto-replied',
    'X-Autoreply: yes',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'I am out of the office until next week, with no access to my email.',
    '',
  ]);
}

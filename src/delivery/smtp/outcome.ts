// Turns what happened on the wire — a nodemailer error, a step that timed
// out, a reply that was no reply, a dropped connection — into the failure
// value of the transport, naming the stage it happened at (what the retry and
// bounce policy keys on) with the server's own reply when there was one.
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { RecipientResult, SendFailure, SmtpOptions } from './transport.ts';
import { DESCRIBE, parseReply, type Step, type Wire } from './wire.ts';

type Stage = SendFailure['stage'];
export type SmtpError = SMTPConnection.SMTPError;
/** Why an operation on the connection did not complete. */
export type Trouble =
  | { err: SmtpError }
  | { timeout: { step: Step; ms: number } }
  | { garbage: { step: Step; text: string } }
  | { closed: true };

const STAGE_OF_STEP: Record<Step, Stage> = {
  connect: 'connect', greeting: 'greeting', ehlo: 'ehlo', starttls: 'starttls', tls: 'starttls', auth: 'auth',
  rset: 'mail', mail: 'mail', rcpt: 'rcpt', data: 'data', body: 'data', dataEnd: 'data', quit: 'connect',
};
const STAGE_OF_COMMAND: Record<string, Stage> = {
  'MAIL FROM': 'mail', 'RCPT TO': 'rcpt', DATA: 'data', STARTTLS: 'starttls', EHLO: 'ehlo', HELO: 'ehlo', LHLO: 'ehlo', RSET: 'mail',
};

/** Where it failed: nodemailer's command when it names one, else the step the wire was at. */
function stageOf(err: SmtpError, wire: Wire): Stage {
  if (err.code === 'ETIMEDOUT') return 'timeout';
  if (err.code === 'EAUTH' || err.command?.startsWith('AUTH')) return 'auth';
  const byCommand = err.command ? STAGE_OF_COMMAND[err.command] : undefined;
  if (byCommand) return byCommand;
  if (err.code === 'ETLS') return 'starttls';
  // with a reply, the failure is the step that reply answered; without, the step still waiting
  return STAGE_OF_STEP[err.response ? wire.lastAnswered : (wire.waitingFor ?? wire.lastAnswered)];
}

export function failure(t: Trouble, wire: Wire, opts: SmtpOptions, before: string[]): SendFailure {
  const out = describe(t, wire, opts);
  wire.note(`failed at ${out.stage}: ${out.text}`);
  out.transcript = [...before, ...wire.transcript];
  if (wire.rcpt.length) out.recipients = wire.rcpt.map((r, i) => recipientResult(r.address, i, wire));
  return out;
}

function describe(t: Trouble, wire: Wire, opts: SmtpOptions): SendFailure {
  if ('timeout' in t) {
    return { kind: 'failed', stage: 'timeout', timedOutAt: t.timeout.step, text: `no progress in ${t.timeout.ms} ms waiting for ${DESCRIBE[t.timeout.step]}`, transcript: [] };
  }
  if ('garbage' in t) {
    return { kind: 'failed', stage: STAGE_OF_STEP[t.garbage.step], text: `not an SMTP reply: ${t.garbage.text.slice(0, 200)}`, transcript: [] };
  }
  const err = 'err' in t ? t.err : undefined;
  const stage = err ? stageOf(err, wire) : STAGE_OF_STEP[wire.waitingFor ?? wire.lastAnswered];
  const reply = err?.response ? parseReply(err.response) : undefined;
  const out: SendFailure = { kind: 'failed', stage, text: reply?.text ?? err?.message ?? 'the server closed the connection', transcript: [] };
  // a code out of range is no reply (wire.ts closes the session): no code, so the message is tried again at once on a new session
  if (reply?.code && reply.code >= 200 && reply.code <= 599) out.code = reply.code;
  if (reply?.enhanced) out.enhanced = reply.enhanced;
  if (stage !== 'starttls') return out;
  const offered = /^\d{3}[ -]STARTTLS\b/im.test(wire.ehloReply);
  out.text = !offered ? `the server does not offer STARTTLS${reply ? ` (${reply.text})` : ''}`
    : reply ? `STARTTLS refused: ${reply.text}`
    : `TLS handshake failed: ${tlsReason(err?.message ?? 'connection closed')}`;
  if (opts.tls === 'required') {
    out.tlsRefused = true;
    out.text += '; TLS is required, nothing was sent in clear';
  }
  return out;
}

// OpenSSL's messages carry a file path and line; the reason is the part after the function name.
function tlsReason(message: string): string {
  const ssl = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  return (ssl ?? message.replace(/^Error initiating TLS - /, '')).replace(/\s+/g, ' ').trim();
}

/** The RCPT reply of the index-th recipient (RCPT commands go out in envelope order). */
export function recipientResult(address: string, index: number, wire: Wire, accepted: string[] = []): RecipientResult {
  const seen = wire.rcpt[index]?.address === address.trim() ? wire.rcpt[index] : wire.rcpt.find((r) => r.address === address.trim());
  // without a logged reply (not expected) nodemailer's verdict is all there is
  if (!seen) return { address, accepted: accepted.includes(address.trim()), code: 0, text: 'no RCPT reply recorded' };
  const { code, enhanced, text } = seen.reply;
  return { address, accepted: code >= 200 && code < 300, code, ...(enhanced ? { enhanced } : {}), text };
}

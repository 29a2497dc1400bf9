// The Send API's answers: the response body and its overall status, the
// Mailjet ids of each recipient, and Basic auth parsing. Pure; split from
// translate.ts (the request side) to keep each file one concept.
import type { Result } from '../../errors.ts';
import type { Address, OutgoingMessage, SendReceipt, SentRecipient } from '../../compose/types.ts';
import { mailjetIds } from '../../ids.ts';
import { messageErrorFromFailure, type MailjetMessageError, type MailjetMessageResult, type MailjetRecipientResult } from './translate.ts';

/** What a sandboxed message would have been sent to: Mailjet answers these with empty ids. */
export function sandboxReceipt(msg: OutgoingMessage): SendReceipt {
  const rcpt = (kind: SentRecipient['kind']) => (a: Address): SentRecipient => ({ email: a.email, kind, id: '' });
  return {
    id: '',
    messageId: '',
    recipients: [...msg.to.map(rcpt('to')), ...(msg.cc ?? []).map(rcpt('cc')), ...(msg.bcc ?? []).map(rcpt('bcc'))],
  };
}

export interface SendResponseOptions {
  /** public base URL of the API, for MessageHref; no trailing slash needed */
  baseUrl: string;
  /** each message's CustomID, by index */
  customIds?: ReadonlyArray<string | undefined>;
  newId?: () => string;
}

/** The Send API answer: one entry per message in input order, and the overall HTTP status. */
export function buildSendResponse(
  results: ReadonlyArray<Result<SendReceipt> | MailjetMessageError>,
  opts: SendResponseOptions,
): { status: number; body: { Messages: MailjetMessageResult[] } } {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const Messages = results.map((r, i): MailjetMessageResult => {
    if ('errors' in r) return { Status: 'error', Errors: r.errors };
    if (!r.ok) return { Status: 'error', Errors: messageErrorFromFailure(r.error, undefined, opts.newId).errors };
    const list = (kind: SentRecipient['kind']) =>
      r.value.recipients.filter((x) => x.kind === kind).map((x) => recipientResult(x, base));
    return { Status: 'success', CustomID: opts.customIds?.[i] ?? '', To: list('to'), Cc: list('cc'), Bcc: list('bcc') };
  });
  return { status: overallStatus(Messages), body: { Messages } };
}

/**
 * 200 when every message succeeded. Otherwise 400, as Mailjet answers a call
 * in which any message failed (its clients read Messages[].Errors out of the
 * 400 body), so that a caller never takes a partial failure for a success.
 * One refinement: when nothing was sent and every failure is temporary (429,
 * 5xx), that status is returned instead, so the caller retries the whole
 * call, which is safe because no message went out.
 */
export function overallStatus(messages: ReadonlyArray<MailjetMessageResult>): number {
  if (messages.every((m) => m.Status === 'success')) return 200;
  const codes = messages.flatMap((m) => (m.Status === 'error' ? m.Errors.map((e) => e.StatusCode) : [0]));
  const temporary = (c: number) => c === 429 || c >= 500;
  return codes.every(temporary) ? Math.max(...codes) : 400;
}

function recipientResult(r: SentRecipient, base: string): MailjetRecipientResult {
  const { uuid, id } = r.id === '' ? { uuid: '', id: 0 } : mailjetIds(r.id);
  return { Email: r.email, MessageUUID: uuid, MessageID: id, MessageHref: `${base}/v3/REST/message/${id}` };
}


/** user and password of an HTTP Basic Authorization header (RFC 7617), or undefined. */
export { mailjetIds };

export function parseBasicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  const m = header ? /^Basic[ \t]+([A-Za-z0-9+/=._~-]+)[ \t]*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

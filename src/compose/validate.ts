// Checks an OutgoingMessage where it enters the pipeline: addresses, header
// injection in every field that reaches a header (STYLE 13: sanitize at the
// assignment, not at each use), reserved headers, the recipient limit.
// Pure: the From domain's ownership is checked by the caller against the store.
import { fail, ok, type Result } from '../errors.ts';
import { checkHeaderText, parseAddress } from './address.ts';
import type { Address, OutgoingMessage } from './types.ts';

/** Headers envoi writes itself; a caller cannot set or override them. */
const RESERVED = new Set([
  'from', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'mime-version', 'content-type',
  'content-transfer-encoding', 'content-disposition', 'dkim-signature', 'arc-seal', 'arc-message-signature',
  'arc-authentication-results', 'authentication-results', 'received', 'return-path', 'feedback-id',
  'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'sender',
]);
const HEADER_NAME = /^[!-9;-~]+$/; // RFC 5322 ftext: printable ASCII except ':'

export interface Validated {
  msg: OutgoingMessage;
  fromDomain: string;
  /** unique envelope recipients, in order */
  recipients: { email: string; kind: 'to' | 'cc' | 'bcc' }[];
}

export function validateMessage(input: OutgoingMessage, maxRecipients: number): Result<Validated> {
  const from = checkAddress(input.from, 'from');
  if (!from.ok) return from;
  const lists: Record<'to' | 'cc' | 'bcc', Address[]> = { to: [], cc: [], bcc: [] };
  const recipients: Validated['recipients'] = [];
  const seen = new Set<string>();
  for (const kind of ['to', 'cc', 'bcc'] as const) {
    for (const [i, a] of (input[kind] ?? []).entries()) {
      const r = checkAddress(a, `${kind}[${i}]`);
      if (!r.ok) return r;
      lists[kind].push(r.value);
      const key = r.value.email.toLowerCase();
      if (!seen.has(key)) {
        seen.add(key);
        recipients.push({ email: r.value.email, kind });
      }
    }
  }
  if (lists.to.length === 0) return fail('message.no_recipients', 'at least one To recipient is required', 'to');
  if (recipients.length > maxRecipients) {
    return fail('request.invalid', `at most ${maxRecipients} recipients per message; send one message per recipient for more`, 'to');
  }
  let replyTo: Address | undefined;
  if (input.replyTo) {
    const r = checkAddress(input.replyTo, 'replyTo');
    if (!r.ok) return r;
    replyTo = r.value;
  }
  const subject = checkHeaderText(input.subject ?? '', 'subject');
  if (!subject.ok) return subject;
  if (!input.subject?.trim()) return fail('request.invalid', 'a subject is required', 'subject');
  if (!input.text && !input.html) return fail('request.invalid', 'a text or an HTML part is required', 'text');
  if (input.customId !== undefined) {
    const c = checkHeaderText(input.customId, 'customId');
    if (!c.ok) return c;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!HEADER_NAME.test(name)) return fail('message.header_injection', `"${name}" is not a valid header name`, `headers.${name}`);
    if (RESERVED.has(name.toLowerCase())) return fail('request.invalid', `the ${name} header is set by envoi`, `headers.${name}`);
    if (typeof value !== 'string') return fail('request.invalid', `header ${name} must be a string`, `headers.${name}`);
    const v = checkHeaderText(value, `headers.${name}`);
    if (!v.ok) return v;
    headers[name] = value;
  }
  for (const [i, a] of (input.attachments ?? []).entries()) {
    for (const [field, value] of [['filename', a.filename], ['contentType', a.contentType], ['contentId', a.contentId ?? '']] as const) {
      const v = checkHeaderText(value, `attachments[${i}].${field}`);
      if (!v.ok) return v;
    }
    if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(a.contentType)) {
      return fail('request.invalid', `"${a.contentType}" is not a MIME type`, `attachments[${i}].contentType`);
    }
  }
  const domain = from.value.email.slice(from.value.email.lastIndexOf('@') + 1);
  return ok({
    msg: { ...input, from: from.value, ...lists, replyTo, headers },
    fromDomain: domain,
    recipients,
  });
}

function checkAddress(a: Address | undefined, field: string): Result<Address> {
  if (!a || typeof a !== 'object') return fail('message.invalid_address', `${field} is required`, field);
  const parsed = parseAddress(a.email, `${field}.email`);
  if (!parsed.ok) return parsed;
  if (a.name !== undefined) {
    const n = checkHeaderText(a.name, `${field}.name`);
    if (!n.ok) return n;
  }
  return ok(a.name ? { email: parsed.value.email, name: a.name } : { email: parsed.value.email });
}

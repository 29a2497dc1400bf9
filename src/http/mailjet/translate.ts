// Mailjet Send API v3.1 (POST /v3.1/send) <-> envoi's OutgoingMessage and
// SendReceipt, so an application on the official node-mailjet client moves to
// envoi by changing its base URL. Pure: no IO; the fastify plugin in
// routes.ts does the IO.
//
// The Mailjet rules followed here come from Mailjet's public "Send API v3.1"
// guide (dev.mailjet.com/email/guides/send-api-v31): "Send in bulk" (per-message
// errors never stop the other messages), "Set global payload properties" (the
// Globals merge), "Sandbox Mode", "Add Email Headers" (forbidden headers) and
// "Send API errors" (error object, mj-/send- codes). Error paths look like
// "To[0].Email", as real Mailjet answers show.
import { randomUUID } from 'node:crypto';
import { ERRORS, type ErrorCode, type Failure } from '../../errors.ts';
import type { Address, Attachment, OutgoingMessage } from '../../compose/types.ts';

/** One entry of a message's "Errors" array, as Mailjet documents it. */
export interface MailjetError {
  /** a UUID naming this occurrence, for support and logs */
  ErrorIdentifier: string;
  ErrorCode: string;
  StatusCode: number;
  ErrorMessage: string;
  /** payload properties at fault, relative to the message: "To[0].Email" */
  ErrorRelatedTo: string[];
}

/** A message that will not be sent, with every reason found. */
export interface MailjetMessageError {
  ok: false;
  errors: MailjetError[];
}

/** The body of a request-level error (bad JSON, bad auth, no Messages…). */
export interface MailjetRequestError {
  ErrorIdentifier: string;
  ErrorCode: string;
  StatusCode: number;
  ErrorMessage: string;
  ErrorRelatedTo?: string[];
}

export type ParsedMessage = { ok: true; value: OutgoingMessage } | MailjetMessageError;

export interface ParsedSendRequest {
  /** one entry per input message, in input order, Globals already merged */
  messages: ParsedMessage[];
  sandboxMode: boolean;
  /**
   * Read for completeness only. Mailjet makes some checks (is the sender
   * allowed?) before answering only with AdvanceErrorHandling; envoi always
   * makes them all, since a "success" for a message that will not go out
   * loses mail silently.
   */
  advanceErrorHandling: boolean;
}

export interface MailjetRecipientResult {
  Email: string;
  MessageUUID: string;
  MessageID: number;
  MessageHref: string;
}

export type MailjetMessageResult =
  | { Status: 'success'; CustomID: string; To: MailjetRecipientResult[]; Cc: MailjetRecipientResult[]; Bcc: MailjetRecipientResult[] }
  | { Status: 'error'; Errors: MailjetError[] };

/** Mailjet's limit on Messages per call and on Attachments/Headers items (mj-0008). */
export const MAX_ITEMS = 50;
/** Recipients (To + Cc + Bcc) per message before send-0015. */
export const MAX_RECIPIENTS = 50;

// Codes from the guide's "Send API errors" table.
const MJ = {
  suspended: 'mj-0001',
  badJson: 'mj-0002',
  missing: 'mj-0003',
  type: 'mj-0004',
  notAllowed: 'mj-0005',
  emptyArray: 'mj-0007',
  tooMany: 'mj-0008',
  tooLarge: 'mj-0011',
  emptyString: 'mj-0012',
  badEmail: 'mj-0013',
  badAuth: 'mj-0015',
  noContent: 'send-0003',
  senderNotAllowed: 'send-0008',
  template: 'send-0010',
  forbiddenHeader: 'send-0011',
  dedupe: 'send-0012',
  tooManyRecipients: 'send-0015',
} as const;

// The closest documented Mailjet code for each envoi failure; codes Mailjet has
// no equivalent for (rate limits, outages) are reported as "envoi-<code>".
const FAILURE_CODES: Partial<Record<ErrorCode, string>> = {
  'request.malformed': MJ.badJson,
  'request.unsupported_media_type': MJ.badJson,
  'request.invalid': MJ.type,
  'auth.required': MJ.badAuth,
  'auth.invalid': MJ.badAuth,
  'auth.forbidden': MJ.badAuth,
  'auth.tls_required': MJ.badAuth,
  'tenant.not_active': MJ.suspended,
  'message.too_large': MJ.tooLarge,
  'message.invalid_address': MJ.badEmail,
  'message.no_recipients': MJ.emptyArray,
  'message.header_injection': MJ.notAllowed,
  'message.invalid': MJ.notAllowed,
  'message.unknown_stream': MJ.notAllowed,
  'message.from_not_verified': MJ.senderNotAllowed,
  'message.freemail_from': MJ.senderNotAllowed,
};

// Headers that have a dedicated payload property or that the platform sets
// itself: the guide's list, with Mailjet's own X-MJ-*/X-Mailjet-* as prefixes.
const FORBIDDEN_HEADERS = new Set([
  'from', 'sender', 'subject', 'to', 'cc', 'bcc', 'return-path', 'delivered-to', 'dkim-signature', 'domainkey-status',
  'received-spf', 'authentication-results', 'received', 'user-agent', 'x-mailer', 'x-feedback-id', 'list-id', 'date',
  'x-csa-complaints', 'message-id',
]);
const FORBIDDEN_HEADER_PREFIXES = ['x-mj-', 'x-mailjet-'];
const TRACKING_VALUES = new Set(['account_default', 'disabled', 'enabled']);

// Globals merge by property type ("Set global payload properties").
const MERGED_OBJECTS = new Set(['From', 'Sender', 'ReplyTo', 'TemplateErrorReporting', 'Headers', 'Variables']);
const APPENDED_ARRAYS = new Set(['Cc', 'Bcc', 'Attachments', 'InlinedAttachments']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;

/** Parses and validates a Send API v3.1 body; per-message problems never fail the request. */
export function parseSendRequest(
  body: unknown,
  newId: () => string = randomUUID,
): ParsedSendRequest | { requestError: MailjetRequestError } {
  const reject = (code: string, message: string, related: string[] = []) => ({
    requestError: requestError(code, 400, message, related, newId),
  });
  if (!isObject(body)) return reject(MJ.type, 'The request body must be a JSON object with a "Messages" array.');
  for (const flag of ['SandboxMode', 'AdvanceErrorHandling']) {
    if (!absent(body[flag]) && typeof body[flag] !== 'boolean') return reject(MJ.type, `"${flag}" must be a boolean.`, [flag]);
  }
  const globals = absent(body.Globals) ? {} : body.Globals;
  if (!isObject(globals)) return reject(MJ.type, '"Globals" must be an object.', ['Globals']);
  if ('To' in globals) return reject(MJ.notAllowed, '"To" cannot be set in "Globals": give it in each message.', ['Globals.To']);
  const list = body.Messages;
  if (absent(list)) return reject(MJ.missing, '"Messages" is mandatory but missing.', ['Messages']);
  if (!Array.isArray(list)) return reject(MJ.type, '"Messages" must be an array of messages.', ['Messages']);
  if (list.length === 0) return reject(MJ.emptyArray, '"Messages" cannot be empty.', ['Messages']);
  if (list.length > MAX_ITEMS) return reject(MJ.tooMany, `"Messages" holds ${list.length} messages; at most ${MAX_ITEMS} are allowed.`, ['Messages']);
  const messages = list.map((m, i): ParsedMessage => {
    if (isObject(m)) return validateMessage(mergeGlobals(globals, m), newId);
    return { ok: false, errors: [mailjetError(MJ.type, 400, `Messages[${i}] must be an object.`, [], newId)] };
  });
  return { messages, sandboxMode: body.SandboxMode === true, advanceErrorHandling: body.AdvanceErrorHandling === true };
}

/**
 * Applies Globals to one message: scalars in the message win, objects
 * (From, Headers, Variables…) are merged with the message's keys winning,
 * arrays (Cc, Bcc, Attachments…) are appended after the global ones.
 */
export function mergeGlobals(globals: Json, message: Json): Json {
  const out: Json = {};
  const put = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(globals)) put(k, v);
  for (const [k, v] of Object.entries(message)) {
    const g = globals[k];
    if (MERGED_OBJECTS.has(k) && isObject(g) && isObject(v)) put(k, mergeObjects(g, v, k === 'Headers'));
    else if (APPENDED_ARRAYS.has(k) && Array.isArray(g) && Array.isArray(v)) put(k, [...g, ...v]);
    else put(k, v);
  }
  return out;
}

// Header names are case-insensitive: a message's "x-tag" replaces a global "X-Tag".
function mergeObjects(base: Json, over: Json, caseInsensitive: boolean): Json {
  const norm = (k: string) => (caseInsensitive ? k.toLowerCase() : k);
  const overridden = new Set(Object.keys(over).map(norm));
  const kept = Object.entries(base).filter(([k]) => !overridden.has(norm(k)));
  const out: Json = {};
  for (const [k, v] of [...kept, ...Object.entries(over)]) {
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Collects every problem of one message, the way Mailjet lists several errors per message. */
class Problems {
  readonly list: MailjetError[] = [];
  constructor(private readonly newId: () => string) {}
  add(code: string, message: string, related: string[], status = 400): void {
    this.list.push(mailjetError(code, status, message, related, this.newId));
  }
}

function validateMessage(m: Json, newId: () => string): ParsedMessage {
  const p = new Problems(newId);
  const from = readAddress(m.From, 'From', p, true);
  const to = readAddressList(m.To, 'To', p, true);
  const cc = readAddressList(m.Cc, 'Cc', p, false);
  const bcc = readAddressList(m.Bcc, 'Bcc', p, false);
  const replyTo = absent(m.ReplyTo) ? undefined : readAddress(m.ReplyTo, 'ReplyTo', p, true);
  if (to.length + cc.length + bcc.length > MAX_RECIPIENTS) {
    p.add(MJ.tooManyRecipients, `A message may have at most ${MAX_RECIPIENTS} recipients in To, Cc and Bcc together.`, ['To', 'Cc', 'Bcc']);
  }
  const subject = readString(m.Subject, 'Subject', p);
  const text = readString(m.TextPart, 'TextPart', p);
  const html = readString(m.HTMLPart, 'HTMLPart', p);
  checkContent(m, text, html, p);
  const headers = readHeaders(m.Headers, p);
  const attachments = [
    ...readAttachments(m.Attachments, 'Attachments', false, p),
    ...readAttachments(m.InlinedAttachments, 'InlinedAttachments', true, p),
  ];
  const customId = readString(m.CustomID, 'CustomID', p);
  readString(m.EventPayload, 'EventPayload', p); // type-checked only: OutgoingMessage has no field for it yet
  checkOptions(m, p);
  if (p.list.length > 0 || !from) return { ok: false, errors: p.list };
  const msg: OutgoingMessage = { from, to, subject: subject ?? '' };
  if (cc.length) msg.cc = cc;
  if (bcc.length) msg.bcc = bcc;
  if (replyTo) msg.replyTo = replyTo;
  if (text) msg.text = text;
  if (html) msg.html = html;
  if (headers && Object.keys(headers).length) msg.headers = headers;
  if (attachments.length) msg.attachments = attachments;
  if (customId) msg.customId = customId;
  if (!absent(m.TemplateID)) msg.template = { ref: String(m.TemplateID), variables: isObject(m.Variables) ? (m.Variables as Record<string, unknown>) : {} };
  return { ok: true, value: msg };
}

// Mailjet requires TextPart, HTMLPart or TemplateID. A TemplateID names an
// envoi template by its number (Liquid, rendered with Variables). Mailjet's
// own templating language inside TextPart/HTMLPart is not supported: it is
// refused rather than sending "{{var:…}}" to people.
function checkContent(m: Json, text: string | undefined, html: string | undefined, p: Problems): void {
  const id = m.TemplateID;
  if (!absent(id)) {
    if (!(typeof id === 'number' && Number.isInteger(id) && id > 0) && !(typeof id === 'string' && /^\d{1,9}$/.test(id))) p.add(MJ.type, '"TemplateID" must be a positive integer.', ['TemplateID']);
    if (!absent(m.Variables) && !isObject(m.Variables)) p.add(MJ.type, '"Variables" must be an object.', ['Variables']);
  } else if (!text && !html) p.add(MJ.noContent, 'At least one of "TextPart", "HTMLPart" or "TemplateID" must be given.', ['TextPart', 'HTMLPart', 'TemplateID']);
  if (m.TemplateLanguage === true && absent(id)) p.add(MJ.notAllowed, "Mailjet's templating language in TextPart/HTMLPart is not supported; use a TemplateID (envoi templates use Liquid).", ['TemplateLanguage']);
  else if (!absent(m.TemplateLanguage) && typeof m.TemplateLanguage !== 'boolean') p.add(MJ.type, '"TemplateLanguage" must be a boolean.', ['TemplateLanguage']);
}

// Properties envoi accepts and ignores (tracking is per stream in envoi) but
// still checks the way Mailjet does, so a payload valid here is valid there.
function checkOptions(m: Json, p: Problems): void {
  for (const k of ['TrackOpens', 'TrackClicks']) {
    if (!absent(m[k]) && !TRACKING_VALUES.has(m[k] as string)) {
      p.add(MJ.notAllowed, `"${k}" must be one of account_default, disabled, enabled.`, [k]);
    }
  }
  if (m.DeduplicateCampaign === true && absent(m.CustomCampaign)) {
    p.add(MJ.dedupe, '"DeduplicateCampaign" needs a "CustomCampaign".', ['CustomCampaign', 'DeduplicateCampaign']);
  }
}

function readString(v: unknown, path: string, p: Problems, required = false): string | undefined {
  if (absent(v)) {
    if (required) p.add(MJ.missing, `"${path}" is mandatory but missing.`, [path]);
    return undefined;
  }
  if (typeof v !== 'string') {
    p.add(MJ.type, `Type mismatch: "${path}" must be a string.`, [path]);
    return undefined;
  }
  if (required && v === '') p.add(MJ.emptyString, `"${path}" cannot be an empty string.`, [path]);
  return v;
}

function readAddress(v: unknown, path: string, p: Problems, required: boolean): Address | undefined {
  if (absent(v)) {
    if (required) p.add(MJ.missing, `"${path}" is mandatory but missing.`, [path]);
    return undefined;
  }
  if (!isObject(v)) {
    p.add(MJ.type, `Type mismatch: "${path}" must be an object with "Email" and an optional "Name".`, [path]);
    return undefined;
  }
  const email = readString(v.Email, `${path}.Email`, p, true);
  const name = readString(v.Name, `${path}.Name`, p);
  if (email === undefined || email === '') return undefined;
  if (!isEmailAddress(email)) {
    p.add(MJ.badEmail, `${JSON.stringify(email)} is not a valid email address.`, [`${path}.Email`]);
    return undefined;
  }
  return name ? { email, name } : { email };
}

function readAddressList(v: unknown, path: string, p: Problems, required: boolean): Address[] {
  if (absent(v)) {
    if (required) p.add(MJ.missing, `"${path}" is mandatory but missing.`, [path]);
    return [];
  }
  if (!Array.isArray(v)) {
    p.add(MJ.type, `Type mismatch: "${path}" must be an array of {"Email", "Name"} objects.`, [path]);
    return [];
  }
  if (v.length === 0 && required) p.add(MJ.emptyArray, `"${path}" cannot be empty.`, [path]);
  const out: Address[] = [];
  v.forEach((item, i) => {
    const a = readAddress(item, `${path}[${i}]`, p, true);
    if (a) out.push(a);
  });
  return out;
}

function readHeaders(v: unknown, p: Problems): Record<string, string> | undefined {
  if (absent(v)) return undefined;
  if (!isObject(v)) {
    p.add(MJ.type, 'Type mismatch: "Headers" must be an object of header names to string values.', ['Headers']);
    return undefined;
  }
  const entries = Object.entries(v);
  if (entries.length > MAX_ITEMS) p.add(MJ.tooMany, `"Headers" may hold at most ${MAX_ITEMS} headers.`, ['Headers']);
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    const path = `Headers[${JSON.stringify(name)}]`;
    const lower = name.toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) p.add(MJ.notAllowed, `${JSON.stringify(name)} is not a valid header name.`, [path]);
    else if (FORBIDDEN_HEADERS.has(lower) || FORBIDDEN_HEADER_PREFIXES.some((x) => lower.startsWith(x))) {
      p.add(MJ.forbiddenHeader, `The header ${JSON.stringify(name)} cannot be set through "Headers": use its message property.`, [path]);
    } else if (typeof value !== 'string') p.add(MJ.type, `Type mismatch: header ${JSON.stringify(name)} must be a string.`, [path]);
    else Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readAttachments(v: unknown, path: string, inline: boolean, p: Problems): Attachment[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) {
    p.add(MJ.type, `Type mismatch: "${path}" must be an array of attachments.`, [path]);
    return [];
  }
  if (v.length > MAX_ITEMS) p.add(MJ.tooMany, `"${path}" may hold at most ${MAX_ITEMS} files.`, [path]);
  const out: Attachment[] = [];
  v.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(item)) return p.add(MJ.type, `Type mismatch: "${at}" must be an object.`, [at]);
    const contentType = readString(item.ContentType, `${at}.ContentType`, p, true);
    const filename = readString(item.Filename, `${at}.Filename`, p, true);
    const base64 = readString(item.Base64Content, `${at}.Base64Content`, p, true);
    const contentId = inline ? readString(item.ContentID, `${at}.ContentID`, p) : undefined;
    const content = base64 ? decodeBase64(base64) : undefined;
    if (base64 && !content) p.add(MJ.type, `"${at}.Base64Content" is not valid base64.`, [`${at}.Base64Content`]);
    if (!contentType || !filename || !content) return;
    // Without a ContentID Mailjet lets the HTML refer to an inline part as cid:<Filename>.
    out.push(inline ? { filename, contentType, content, contentId: contentId || filename } : { filename, contentType, content });
  });
  return out;
}

/** Strict base64 (line breaks tolerated, padding optional): Buffer.from alone skips bad characters silently. */
export function decodeBase64(s: string): Buffer | undefined {
  const compact = s.replace(/[\r\n\t ]+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const padded = compact.includes('=');
  if (padded ? compact.length % 4 !== 0 : compact.length % 4 === 1) return undefined;
  return Buffer.from(compact, 'base64');
}

/**
 * A deliberately simple address check: one "@", a dot-atom local part (any
 * non-ASCII letter allowed, for SMTPUTF8), and a domain of at least two
 * labels whose last one is not numeric. It refuses the cases Mailjet refuses
 * ("brokenemail", "foo@test", "x@123.4"); deliverability is the pipeline's job.
 */
export function isEmailAddress(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf('@');
  if (at < 1 || at !== s.indexOf('@')) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (local.length > 64 || !/^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || domain.length > 253) return false;
  if (!labels.every((l) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]);
}

export function mailjetError(code: string, status: number, message: string, related: string[], newId: () => string = randomUUID): MailjetError {
  return { ErrorIdentifier: newId(), ErrorCode: code, StatusCode: status, ErrorMessage: message, ErrorRelatedTo: related };
}

function requestError(code: string, status: number, message: string, related: string[], newId: () => string): MailjetRequestError {
  const e: MailjetRequestError = { ErrorIdentifier: newId(), ErrorCode: code, StatusCode: status, ErrorMessage: message };
  if (related.length) e.ErrorRelatedTo = related;
  return e;
}

/** A request-level Mailjet error for an envoi failure (auth, body parsing, outage). */
export function requestErrorFromFailure(f: Failure, newId: () => string = randomUUID): MailjetRequestError {
  return requestError(mailjetCode(f), ERRORS[f.code].status, `${f.detail} (envoi: ${f.code})`, [], newId);
}

/**
 * A per-message error for a failure of envoi's send service. The message is
 * used to tell Attachments from InlinedAttachments in the failing field.
 */
export function messageErrorFromFailure(f: Failure, msg?: OutgoingMessage, newId: () => string = randomUUID): MailjetMessageError {
  const related = f.field ? [mailjetField(f.field, msg)] : [];
  return { ok: false, errors: [mailjetError(mailjetCode(f), ERRORS[f.code].status, `${f.detail} (envoi: ${f.code})`, related, newId)] };
}

const mailjetCode = (f: Failure) => FAILURE_CODES[f.code] ?? `envoi-${f.code}`;

const TOP_FIELDS: Record<string, string> = {
  from: 'From', to: 'To', cc: 'Cc', bcc: 'Bcc', replyTo: 'ReplyTo', subject: 'Subject', text: 'TextPart',
  html: 'HTMLPart', headers: 'Headers', attachments: 'Attachments', customId: 'CustomID',
};
const INNER_FIELDS: Record<string, string> = {
  email: 'Email', name: 'Name', filename: 'Filename', contentType: 'ContentType', content: 'Base64Content', contentId: 'ContentID',
};

/** envoi's field path ("to[2].email", "headers.X-Foo") in Mailjet's words ("To[2].Email", 'Headers["X-Foo"]'). */
export function mailjetField(field: string, msg?: OutgoingMessage): string {
  const m = /^([A-Za-z]+)(?:\[(\d+)\])?(?:\.(.*))?$/.exec(field);
  if (!m || !(m[1] in TOP_FIELDS)) return field;
  const [, top, index, rest] = m;
  if (top === 'headers') return rest ? `Headers[${JSON.stringify(rest)}]` : 'Headers';
  let head = TOP_FIELDS[top];
  if (index !== undefined) {
    let i = Number(index);
    if (top === 'attachments') {
      // envoi lists Attachments first, then InlinedAttachments (which carry a contentId).
      const regular = msg?.attachments?.filter((a) => a.contentId === undefined).length;
      if (regular === undefined) return 'Attachments';
      if (i >= regular) [head, i] = ['InlinedAttachments', i - regular];
    }
    head += `[${i}]`;
  }
  return rest === undefined ? head : `${head}.${INNER_FIELDS[rest] ?? rest}`;
}

export { sandboxReceipt, buildSendResponse, overallStatus, mailjetIds, parseBasicAuth, type SendResponseOptions } from './response.ts';

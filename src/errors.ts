// The one registry of error codes. Stages return failures as values naming a
// code from here; the edges turn the code into an HTTP problem response
// (RFC 9457) or an SMTP reply with an enhanced status code (RFC 3463).

export interface ErrorSpec {
  /** HTTP status at the API edge */
  status: number;
  /** SMTP basic code and enhanced status code at the SMTP edges */
  smtp: [number, string];
  title: string;
}

export const ERRORS = {
  'request.malformed': { status: 400, smtp: [501, '5.5.4'], title: 'The request body is not valid JSON' },
  'request.invalid': { status: 400, smtp: [501, '5.5.4'], title: 'The request is not valid' },
  'request.unsupported_media_type': { status: 415, smtp: [554, '5.6.1'], title: 'Unsupported media type' },
  'auth.required': { status: 401, smtp: [530, '5.7.0'], title: 'Authentication required' },
  'auth.invalid': { status: 401, smtp: [535, '5.7.8'], title: 'Authentication credentials invalid' },
  'auth.forbidden': { status: 403, smtp: [550, '5.7.1'], title: 'Not allowed for these credentials' },
  'auth.tls_required': { status: 403, smtp: [538, '5.7.11'], title: 'Encryption required before authentication' },
  'not_found': { status: 404, smtp: [550, '5.1.1'], title: 'Not found' },
  'conflict': { status: 409, smtp: [550, '5.7.1'], title: 'Conflict with an existing resource' },
  'idempotency.mismatch': { status: 422, smtp: [554, '5.5.0'], title: 'Idempotency-Key reused with a different request' },
  'message.too_large': { status: 413, smtp: [552, '5.3.4'], title: 'Message too large' },
  'message.invalid_address': { status: 400, smtp: [553, '5.1.3'], title: 'Invalid email address' },
  'message.no_recipients': { status: 400, smtp: [554, '5.5.1'], title: 'No valid recipients' },
  'message.header_injection': { status: 400, smtp: [554, '5.6.0'], title: 'Line breaks are not allowed in this field' },
  'message.from_not_verified': { status: 422, smtp: [553, '5.7.1'], title: 'The From domain is not a verified sending domain of this account' },
  'message.freemail_from': { status: 422, smtp: [553, '5.7.1'], title: 'A freemail address cannot be used as From (GM-3)' },
  'message.unknown_stream': { status: 422, smtp: [554, '5.7.1'], title: 'Unknown stream' },
  'message.invalid': { status: 400, smtp: [554, '5.6.0'], title: 'The message is not valid' },
  'campaign.blocked': { status: 422, smtp: [554, '5.7.1'], title: 'The content checks block this campaign' },
  'domain.checks_failed': { status: 422, smtp: [554, '5.7.1'], title: 'The sending domain fails a blocking doctor check' },
  'webhook.target_refused': { status: 422, smtp: [554, '5.7.1'], title: 'The webhook URL points to an address envoi does not send to' },
  'relay.denied': { status: 403, smtp: [554, '5.7.1'], title: 'Relay access denied' },
  'tenant.not_active': { status: 403, smtp: [550, '5.7.1'], title: 'The account may not send' },
  'tenant.suspended': { status: 403, smtp: [550, '5.7.1'], title: 'The account is suspended' },
  'tenant.daily_cap': { status: 429, smtp: [451, '4.7.1'], title: 'The account\'s daily sending cap is reached' },
  'rate_limited': { status: 429, smtp: [451, '4.7.1'], title: 'Too many requests' },
  'unavailable': { status: 503, smtp: [421, '4.3.2'], title: 'Service temporarily unavailable' },
  'storage.full': { status: 507, smtp: [452, '4.3.1'], title: 'Insufficient storage' },
  'internal': { status: 500, smtp: [451, '4.3.0'], title: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A failure a user or a remote peer can cause: a value, not an exception. */
export interface Failure {
  code: ErrorCode;
  detail: string;
  /** the input field at fault, as a JSON path ("to[2].email") */
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: Failure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, detail: string, field?: string): { ok: false; error: Failure } => ({
  ok: false,
  error: field === undefined ? { code, detail } : { code, detail, field },
});

/** An exception carrying a Failure, for the rare places where unwinding is simpler (edges only). */
export class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.detail);
  }
}

/** The SMTP reply line for a failure: "553 5.7.1 detail". */
export function smtpReply(f: Failure): { code: number; message: string } {
  const [code, enhanced] = ERRORS[f.code].smtp;
  return { code, message: `${enhanced} ${oneLine(f.detail)}` };
}

/** The RFC 9457 problem document for a failure. */
export function problem(f: Failure, instance?: string): Record<string, unknown> {
  const spec = ERRORS[f.code];
  return {
    type: `urn:envoi:problem:${f.code}`,
    title: spec.title,
    status: spec.status,
    detail: f.detail,
    code: f.code,
    ...(f.field ? { field: f.field } : {}),
    ...(instance ? { instance } : {}),
  };
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').slice(0, 400);

// Amazon SES notifications mailed through SNS: a JSON document, not a MIME
// report. Its bounce and complaint notices carry the same facts as a DSN or
// an ARF report, so they come out the same way. Pure.
import { normaliseAddress } from './address.ts';
import type { HeaderField } from './headers.ts';

export interface SesRecipient {
  address: string | null;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
}

export interface SesNotification {
  type: 'bounce' | 'complaint' | 'delivery';
  /** SES's own verdict: "Permanent", "Transient", "Undetermined" */
  bounceType: string | null;
  feedbackType: string | null;
  userAgent: string | null;
  reportingMta: string | null;
  arrivalDate: string | null;
  recipients: SesRecipient[];
  /** the headers of the message we sent, as SES recorded them */
  mailHeaders: HeaderField[];
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => !!x && typeof x === 'object') : []);
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

function parseJson(text: string): Json | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  // SNS folds long lines of the mail body as "!" + line break + space
  const body = text.slice(start, end + 1).replace(/!\r?\n /g, '');
  try {
    const v = JSON.parse(body) as unknown;
    if (!v || typeof v !== 'object') return null;
    const j = v as Json;
    // an SNS envelope whose Message is the SES document as a string
    if (typeof j.Message === 'string' && !j.notificationType) return parseJson(j.Message);
    return j;
  } catch {
    return null;
  }
}

export function parseSesNotification(text: string): SesNotification | null {
  if (!/"(?:notificationType|eventType)"\s*:/.test(text)) return null;
  const j = parseJson(text);
  if (!j) return null;
  const kind = String(j.notificationType ?? j.eventType ?? '').toLowerCase();
  const mail = obj(j.mail);
  const mailHeaders = arr(mail.headers).flatMap((h) => (str(h.name) && typeof h.value === 'string' ? [{ name: String(h.name).toLowerCase(), value: h.value }] : []));
  const base = { bounceType: null, feedbackType: null, userAgent: null, reportingMta: null, arrivalDate: null, mailHeaders };
  if (kind === 'complaint') {
    const c = obj(j.complaint);
    return {
      ...base, type: 'complaint',
      feedbackType: str(c.complaintFeedbackType)?.toLowerCase() ?? null,
      userAgent: str(c.userAgent),
      arrivalDate: str(c.arrivalDate) ?? str(c.timestamp),
      recipients: arr(c.complainedRecipients).map((r) => ({ address: normaliseAddress(str(r.emailAddress)), action: null, status: null, diagnostic: null })),
    };
  }
  if (kind === 'bounce') {
    const b = obj(j.bounce);
    return {
      ...base, type: 'bounce',
      bounceType: str(b.bounceType),
      reportingMta: str(b.reportingMTA)?.replace(/^dns;\s*/i, '') ?? null,
      arrivalDate: str(b.timestamp),
      recipients: arr(b.bouncedRecipients).map((r) => ({
        address: normaliseAddress(str(r.emailAddress)),
        action: str(r.action)?.toLowerCase() ?? 'failed',
        status: str(r.status),
        diagnostic: str(r.diagnosticCode)?.replace(/^smtp;\s*/i, '') ?? null,
      })),
    };
  }
  if (kind === 'delivery') {
    const d = obj(j.delivery);
    const recipients = Array.isArray(d.recipients) ? d.recipients : [];
    return {
      ...base, type: 'delivery',
      reportingMta: str(d.reportingMTA),
      recipients: recipients.map((r) => ({ address: normaliseAddress(str(r)), action: 'delivered', status: null, diagnostic: str(d.smtpResponse) })),
    };
  }
  return null;
}

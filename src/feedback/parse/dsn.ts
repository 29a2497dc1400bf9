// RFC 3464 message/delivery-status: per-message fields, then one group of
// fields per recipient. Pure: text in, fields out.
// Real reports bend the format: AOL runs recipients together without the
// blank line between them, Exim writes a pipe command as Final-Recipient,
// Sun's Messaging Server a source route ("@relay:user@host") — so a
// recipient starts again whenever one of its fields repeats, and the
// address falls back on Original-Recipient or on an address in the value.
import { findAddress, normaliseAddress } from './address.ts';
import { parseFieldGroups, type HeaderField } from './headers.ts';

export interface DsnRecipient {
  address: string | null;
  finalRecipient: string | null;
  originalRecipient: string | null;
  /** lower-cased: failed, delayed, delivered, relayed, expanded (RFC 3464 2.3.3) */
  action: string | null;
  /** the code of the Status field, "5.1.1" */
  status: string | null;
  /** the comment after the status code, "(permanent failure)" */
  statusComment: string | null;
  /** lower-cased type of Diagnostic-Code: "smtp", "x-unix", "x-postfix" */
  diagnosticType: string | null;
  diagnostic: string | null;
  remoteMta: string | null;
}

export interface DsnReport {
  reportingMta: string | null;
  arrivalDate: string | null;
  recipients: DsnRecipient[];
}

const MESSAGE_FIELDS = new Set(['reporting-mta', 'arrival-date', 'received-from-mta', 'original-envelope-id', 'dsn-gateway']);
const RECIPIENT_FIELDS = new Set(['final-recipient', 'original-recipient', 'action', 'status', 'diagnostic-code', 'remote-mta', 'last-attempt-date', 'will-retry-until', 'final-log-id']);

/** Drops the address type: "dns; mx.example.org" → "mx.example.org". */
function typed(value: string): { type: string | null; value: string } {
  const m = /^([A-Za-z0-9-]+)\s*;\s*([\s\S]*)$/.exec(value);
  return m ? { type: m[1].toLowerCase(), value: m[2].trim() } : { type: null, value: value.trim() };
}

function recipientOf(fields: Map<string, string>): DsnRecipient {
  const final = fields.has('final-recipient') ? typed(fields.get('final-recipient')!).value : null;
  const original = fields.has('original-recipient') ? typed(fields.get('original-recipient')!).value : null;
  const status = fields.get('status') ?? '';
  const sm = /([245])\.(\d{1,3})\.(\d{1,3})/.exec(status);
  const comment = /\(([^)]*)\)/.exec(status);
  const diag = fields.has('diagnostic-code') ? typed(fields.get('diagnostic-code')!) : null;
  const remote = fields.has('remote-mta') ? typed(fields.get('remote-mta')!).value.split(/[\s(]/)[0] || null : null;
  return {
    address: normaliseAddress(final) ?? normaliseAddress(original) ?? findAddress(final) ?? findAddress(original),
    finalRecipient: final,
    originalRecipient: original,
    action: fields.get('action')?.trim().toLowerCase().split(/[\s(]/)[0] || null,
    status: sm ? `${sm[1]}.${sm[2]}.${sm[3]}` : null,
    statusComment: comment ? comment[1].trim() : null,
    diagnosticType: diag?.type ?? null,
    diagnostic: diag?.value || null,
    remoteMta: remote?.replace(/\.$/, '') || null,
  };
}

/** Parses the body of a message/delivery-status part (or the same fields
 * found inline in a text bounce). */
export function parseDeliveryStatus(text: string): DsnReport {
  const report: DsnReport = { reportingMta: null, arrivalDate: null, recipients: [] };
  const recipients: Map<string, string>[] = [];
  for (const group of parseFieldGroups(text)) {
    let current: Map<string, string> | undefined;
    for (const f of group) takeField(f);
    function takeField(f: HeaderField) {
      if (MESSAGE_FIELDS.has(f.name)) {
        if (f.name === 'reporting-mta') report.reportingMta ??= typed(f.value).value || null;
        if (f.name === 'arrival-date') report.arrivalDate ??= f.value || null;
        return;
      }
      if (!RECIPIENT_FIELDS.has(f.name)) return; // extension fields (X-Postfix-Queue-ID, …)
      if (!current || current.has(f.name)) {
        current = new Map();
        recipients.push(current);
      }
      current.set(f.name, f.value);
    }
  }
  for (const fields of recipients) {
    // a group with no recipient and nothing about a result is noise
    // (the headers of a returned message pasted after the fields, say)
    if (!fields.has('final-recipient') && !fields.has('original-recipient') && !fields.has('action') && !fields.has('status')) continue;
    report.recipients.push(recipientOf(fields));
  }
  return report;
}

/** The offset in `text` where inline DSN fields start (some MTAs paste the
 * report into the text part), or -1. */
export function inlineDsnStart(text: string): number {
  const m = /^(?:Reporting-MTA|Original-Envelope-Id|Final-Recipient|Original-Recipient|Action)[ \t]*:/im.exec(text);
  if (!m) return -1;
  // only when a recipient field really follows
  return /^(?:Final|Original)-Recipient[ \t]*:/im.test(text.slice(m.index)) ? m.index : -1;
}

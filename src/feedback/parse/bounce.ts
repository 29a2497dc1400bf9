// Bounces and delivery notices: the DSN part when there is one (the text
// only adds what the DSN leaves out: the SMTP command, a diagnostic), else
// the DSN fields pasted into the text, else the text bounce. Addresses that
// a report leaves out come from X-Failed-Recipients or the returned
// message's To.
import { findAddresses } from './address.ts';
import { classifyFailure, type FailureFacts } from './classify.ts';
import { attachedOriginal, type Context } from './complaint.ts';
import { inlineDsnStart, parseDeliveryStatus, type DsnReport } from './dsn.ts';
import { decodeBytes } from './headers.ts';
import { returnedFromText, singleTo } from './returned.ts';
import { commandIn, looksLikeBounce, scanTextBounce, type TextBounce } from './text-bounce.ts';
import type { FeedbackRecipient, ParsedFeedback, ReturnedMessage } from './types.ts';

/** What a result keeps of a diagnostic: one line, at most this long. */
const MAX_DIAGNOSTIC = 1000;

function recipient(address: string | null, facts: FailureFacts, remoteMta: string | null): FeedbackRecipient {
  const c = classifyFailure(facts);
  return {
    address,
    hard: c.hard,
    category: c.category,
    status: c.status,
    diagnostic: facts.diagnostic?.replace(/\s+/g, ' ').trim().slice(0, MAX_DIAGNOSTIC) || null,
    action: facts.action ?? (c.category === 'delivered' ? 'delivered' : 'failed'),
    remoteMta,
    feedbackType: null,
  };
}

function dsnOf(ctx: Context, text: TextBounce): DsnReport {
  const report: DsnReport = { reportingMta: null, arrivalDate: null, recipients: [] };
  for (const p of ctx.view.parts) {
    if (!/^message\/(?:global-)?delivery-status$/.test(p.type)) continue;
    const r = parseDeliveryStatus(decodeBytes(p.content));
    report.reportingMta ??= r.reportingMta;
    report.arrivalDate ??= r.arrivalDate;
    report.recipients.push(...r.recipients);
  }
  if (!report.recipients.length) {
    const at = inlineDsnStart(text.section);
    if (at >= 0) {
      const inline = parseDeliveryStatus(text.section.slice(at));
      return { ...inline, reportingMta: report.reportingMta ?? inline.reportingMta, arrivalDate: report.arrivalDate ?? inline.arrivalDate };
    }
  }
  return report;
}

/** The DSN's recipients; the text lends its own lines about each one. */
function fromDsn(dsn: DsnReport, text: TextBounce, failed: string[], original: ReturnedMessage | null): FeedbackRecipient[] {
  const byAddress = new Map(text.recipients.map((r) => [r.address, r]));
  const alone = dsn.recipients.length === 1;
  return dsn.recipients.map((d) => {
    const address = d.address
      ?? (alone ? (failed.length === 1 ? failed[0] : text.recipients.length === 1 ? text.recipients[0].address : singleTo(original)) : null);
    const t = address ? byAddress.get(address) : undefined;
    const own = t?.own ? t.diagnostic : null;
    const diagnostic = d.diagnostic ?? own ?? d.statusComment ?? (text.section.trim() || null);
    const command = commandIn(own ?? d.diagnostic ?? '');
    return recipient(address, { action: d.action, status: d.status, diagnostic, diagnosticType: d.diagnosticType, command }, d.remoteMta);
  });
}

/** A text bounce's recipients; failing those, X-Failed-Recipients; failing
 * that, the returned message's To. */
function fromText(text: TextBounce, failed: string[], original: ReturnedMessage | null): FeedbackRecipient[] {
  const section = text.section.trim() || null;
  let found = text.recipients.map((r) => ({ address: r.address as string | null, diagnostic: r.diagnostic as string | null, command: r.command, named: true }));
  if (!found.length) found = failed.map((a) => ({ address: a, diagnostic: section, command: section ? commandIn(section) : null, named: true }));
  const to = found.length ? null : singleTo(original);
  if (to) found = [{ address: to, diagnostic: section, command: null, named: false }];
  return found.map((r) => {
    const facts = { action: null, status: null, diagnostic: r.diagnostic, diagnosticType: null, command: r.command };
    const first = recipient(r.address, facts, null);
    if (first.category !== 'undefined' || !section) return first;
    // its own lines explain nothing ("Remote protocol error"): the transcript around them may
    if (r.diagnostic !== section) {
      const wider = recipient(r.address, { ...facts, diagnostic: section, command: r.command ?? commandIn(section) }, null);
      if (wider.category !== 'undefined') return wider;
    }
    // a bounce that names the recipient and gives no reason at all
    return r.named && r.diagnostic === section ? { ...first, category: 'on-hold' } : first;
  });
}

export function fromBounce(ctx: Context): ParsedFeedback | null {
  const { view, top, base } = ctx;
  const text = scanTextBounce(view.text);
  const dsn = dsnOf(ctx, text);
  const isReport = dsn.recipients.length > 0 || view.parts.some((p) => /delivery-status$/.test(p.type)) || /report-type="?delivery-status/i.test(top['content-type'] ?? '');
  if (!isReport && !looksLikeBounce(base.from, top.from ?? '', base.subject ?? '', view.text)) return null;

  const original = attachedOriginal(view.parts) ?? (text.returned ? returnedFromText(text.returned) : null);
  const failed = findAddresses(top['x-failed-recipients']);
  const recipients = dsn.recipients.length ? fromDsn(dsn, text, failed, original) : fromText(text, failed, original);
  if (!recipients.length) {
    // mail that only looks like a bounce and names no one is not one
    if (!isReport) return null;
    base.problems.push('delivery report without a recipient');
  }
  const kind = recipients.length && recipients.every((r) => r.category === 'delivered') ? 'delivery-report' : 'bounce';
  const reporter = { ...(dsn.reportingMta && { reportingMta: dsn.reportingMta }), ...(dsn.arrivalDate && { arrivalDate: dsn.arrivalDate }) };
  return { ...base, kind, recipients, original, reporter };
}

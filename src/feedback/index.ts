// The feedback stage: the inbound MX's mailboxes (mailboxes.ts), the parser
// (parse/), the decision (decide.ts) and here the IO that ties them: each
// accepted message is written to inbound_messages before the 250, then
// parsed, matched to the message it is about and acted upon. A message whose
// processing failed stays `received` and is taken again by reprocessPending
// (at start), so nothing accepted is lost.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, InboundMessage } from '../store/schema.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Clock } from '../clock.ts';
import type { SuppressionList } from '../audience/suppression.ts';
import type { Subscriptions } from '../audience/subscriptions.ts';
import type { InboundHandler } from './inbound.ts';
import { fail, ok, type Result } from '../errors.ts';
import { newId } from '../ids.ts';
import { appendEvents } from '../events/log.ts';
import { mailboxOf, recipientsNamedIn, type Mailbox } from './mailboxes.ts';
import { decide, pickRecipient, type Decision, type Target } from './decide.ts';
import { parseFeedback, type ParsedFeedback } from './parse/index.ts';

export interface AckRequest {
  tenantId: string;
  /** the domain whose abuse@/postmaster@ was written to: the reply comes from there */
  domain: string;
  mailbox: 'abuse' | 'postmaster';
  to: string;
  subject: string | null;
  reference: string;
}

export interface FeedbackDeps {
  db: Kysely<Database>;
  secrets: Secrets;
  clock: Clock;
  logger: Logger;
  suppression: SuppressionList;
  subscriptions: Subscriptions;
  /** the platform's own host name: its abuse@/postmaster@ are ours too */
  hostname: string;
  /** sends the automatic acknowledgement of an abuse@/postmaster@ report */
  acknowledge(a: AckRequest): Promise<Result<unknown>>;
}

const ACK_EVERY_MS = 24 * 60 * 60 * 1000;

export function createFeedback(d: FeedbackDeps) {
  const log = d.logger.child({ component: 'feedback' });

  /** The tenant owning a domain or its bounce subdomain; null for the platform's own host name. */
  async function ownerOf(domain: string): Promise<{ tenantId: string | null } | undefined> {
    if (domain === d.hostname.toLowerCase()) return { tenantId: null };
    const parent = domain.includes('.') ? domain.slice(domain.indexOf('.') + 1) : domain;
    const row = await d.db.selectFrom('domains').select(['tenant_id', 'name']).where('name', 'in', [domain, parent]).orderBy('name', 'desc').executeTakeFirst();
    return row ? { tenantId: row.tenant_id } : undefined;
  }

  async function resolveMailbox(address: string): Promise<Mailbox | null> {
    const at = address.lastIndexOf('@');
    const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
    const local = address.slice(0, at).toLowerCase();
    const owned = local === 'abuse' || local === 'postmaster' ? (await ownerOf(domain)) !== undefined : false;
    const mb = mailboxOf(d.secrets, address, () => owned);
    if (!mb || !('recipientId' in mb)) return mb;
    // a well-signed token for a row that is gone (erased, expired data) is not ours any more
    const row = await d.db.selectFrom('recipients').select('id').where('id', '=', mb.recipientId).executeTakeFirst();
    return row ? mb : null;
  }

  async function target(recipientId: string): Promise<Target | null> {
    const r = await d.db.selectFrom('recipients').select(['id', 'tenant_id', 'address', 'message_id', 'list_id', 'contact_id', 'campaign_id'])
      .where('id', '=', recipientId).executeTakeFirst();
    return r ? { recipientId: r.id, tenantId: r.tenant_id, address: r.address, messageId: r.message_id, listId: r.list_id, contactId: r.contact_id, campaignId: r.campaign_id } : null;
  }

  /** The recipient a report is about, from our signed tokens in the returned headers, else its Message-ID and address. */
  async function locate(parsed: ParsedFeedback, tenantHint: string | null, raw: Buffer): Promise<{ target: Target; via: string } | null> {
    // the returned headers first; then the whole text, where a person pastes or quotes them ("> List-Unsubscribe: …")
    const quoted = raw.subarray(0, 512 * 1024).toString('latin1').replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
    for (const rid of [...recipientsNamedIn(d.secrets, parsed.original?.rawHeaders ?? ''), ...recipientsNamedIn(d.secrets, quoted)]) {
      const t = await target(rid);
      if (t) return { target: t, via: 'token' };
    }
    const mid = parsed.original?.headers['message-id']?.trim().replace(/^<|>$/g, '');
    if (!mid) return null;
    // a campaign message's Message-ID is <recipient id>@<domain> (campaigns/compose-campaign.ts)
    const local = /^([0-9a-z]{20,40})@/.exec(mid)?.[1];
    if (local) {
      const t = await target(`rcp_${local}`);
      if (t && (!tenantHint || t.tenantId === tenantHint)) return { target: t, via: 'message-id' };
    }
    let q = d.db.selectFrom('messages').select(['id', 'tenant_id']).where('message_id', '=', mid);
    if (tenantHint) q = q.where('tenant_id', '=', tenantHint);
    const m = await q.executeTakeFirst();
    if (!m) return null;
    const rows = await d.db.selectFrom('recipients').select(['id', 'address']).where('message_id', '=', m.id).execute();
    const named = pickRecipient(parsed, null)?.address ?? parsed.original?.headers.to ?? null;
    const hit = rows.length === 1 ? rows[0] : rows.find((r) => named && named.toLowerCase().includes(r.address.toLowerCase()));
    if (!hit) return null;
    const t = await target(hit.id);
    return t ? { target: t, via: 'message-id' } : null;
  }

  /**
   * Acts on a decision, once in effect however often the same report comes.
   * Found by the inbound kill test (test/hardening/kill-inbound-*.test.ts):
   * a DSN stored but whose 250 was lost in a crash is sent again by the MTA
   * and stored twice, and a message whose processing a crash cut is taken
   * again at the restart; each counted its bounce or complaint twice, and a
   * crash between a suppression and its event lost the event. Now the
   * suppression and the events are written in one transaction that first
   * takes the recipient's row (a write: a row lock on PostgreSQL, the write
   * lock on SQLite), so two reports about one recipient are acted upon one
   * after the other; an async `bounced` (per hard/soft) or `complained` event
   * already recorded from inbound for the recipient is not written again,
   * nor another event of the same inbound message. Unsubscribing is
   * idempotent by itself and runs after (on SQLite a query outside the
   * transaction would wait for it).
   */
  async function carryOut(t: Target, dec: Decision, inboundId: string, now: number): Promise<string[]> {
    const done = await d.db.transaction().execute(async (trx) => {
      const out: string[] = [];
      await trx.updateTable('recipients').set((eb) => ({ id: eb.ref('id') })).where('id', '=', t.recipientId).execute();
      const earlier = dec.actions.some((a) => a.kind === 'event')
        ? (await trx.selectFrom('events').select(['type', 'data']).where('message_id', '=', t.messageId).where('recipient_id', '=', t.recipientId).execute())
          .map((e) => ({ type: e.type, data: JSON.parse(e.data) as Record<string, unknown> })).filter((e) => e.data.inbound === true)
        : [];
      for (const a of dec.actions) {
        if (a.kind === 'suppress') {
          const r = await d.suppression.add(t.tenantId, t.address, a.reason, `inbound:${inboundId}`, a.note.slice(0, 500), trx);
          out.push(r.ok ? `suppressed (${a.reason})` : `not suppressed: ${r.error.detail}`);
        } else if (a.kind === 'event') {
          const same = earlier.some((e) => e.type === a.type && (e.data.inboundId === inboundId
            || (a.type === 'complained') || (a.type === 'bounced' && e.data.hard === a.data.hard)));
          if (same) {
            out.push(`event ${a.type} already recorded`);
            continue;
          }
          await appendEvents(trx, [{ tenantId: t.tenantId, messageId: t.messageId, recipientId: t.recipientId, type: a.type, at: now, data: { to: t.address, campaign: t.campaignId, ...a.data, inboundId } }]);
          out.push(`event ${a.type}`);
        }
      }
      return out;
    });
    for (const a of dec.actions) {
      if (a.kind === 'unsubscribe' && t.listId && t.contactId) {
        const r = await d.subscriptions.unsubscribe(t.tenantId, t.listId, t.contactId, a.source);
        done.push(r.ok ? `unsubscribed (${r.value})` : `not unsubscribed: ${r.error.detail}`);
      }
    }
    return done;
  }

  async function acknowledgeIfDue(row: InboundMessage, mb: Mailbox, tenantId: string | null, now: number): Promise<string> {
    if (!('domain' in mb)) return '';
    if (!tenantId) return 'not acknowledged: the platform host has no sending domain to answer from';
    const recent = await d.db.selectFrom('inbound_messages').select('id').where('mail_from', '=', row.mail_from)
      .where('acknowledged_at', '>', now - ACK_EVERY_MS).executeTakeFirst();
    if (recent) return 'not acknowledged: this sender had an acknowledgement in the last 24 hours';
    const r = await d.acknowledge({ tenantId, domain: mb.domain, mailbox: mb.kind, to: row.mail_from, subject: row.subject, reference: row.id });
    if (!r.ok) return `acknowledgement failed: ${r.error.detail}`;
    await d.db.updateTable('inbound_messages').set({ acknowledged_at: now }).where('id', '=', row.id).execute();
    return 'acknowledged';
  }

  async function process(row: InboundMessage): Promise<void> {
    const mb = await resolveMailbox(row.rcpt_to);
    const parsed = await parseFeedback(row.raw);
    const head = topHeaders(row.raw);
    let located: { target: Target; via: string } | null = null;
    if (mb && 'recipientId' in mb) {
      const t = await target(mb.recipientId);
      located = t ? { target: t, via: 'envelope' } : null;
    } else {
      located = await locate(parsed, row.tenant_id, row.raw);
    }
    const dec = decide(mb?.kind ?? 'abuse', parsed, located?.target ?? null, {
      autoSubmitted: /^(auto-submitted:\s*auto-|precedence:\s*(bulk|junk|list|auto_reply)|x-autoreply:|list-id:)/im.test(head),
      nullSender: row.mail_from === '' || /^(mailer-daemon|postmaster)@/i.test(row.mail_from),
    });
    const now = d.clock.now();
    const done = located ? await carryOut(located.target, dec, row.id, now) : [];
    const tenantId = located?.target.tenantId ?? row.tenant_id;
    if (dec.acknowledge && mb) done.push(await acknowledgeIfDue(row, mb, tenantId, now));
    await d.db.updateTable('inbound_messages').set({
      status: dec.status, kind: parsed.kind, tenant_id: tenantId,
      recipient_id: located?.target.recipientId ?? null, message_id: located?.target.messageId ?? null,
      address: located?.target.address ?? dec.about?.address ?? null, subject: parsed.subject?.slice(0, 500) ?? row.subject,
      summary: JSON.stringify({
        recipients: parsed.recipients, about: dec.about, reporter: parsed.reporter, via: located?.via ?? null,
        returned: parsed.original ? { messageId: parsed.original.headers['message-id'] ?? null, feedbackId: parsed.original.headers['feedback-id'] ?? null } : null,
        problems: parsed.problems, done: done.filter(Boolean),
      }),
    }).where('id', '=', row.id).execute();
  }

  async function processSafely(row: InboundMessage): Promise<void> {
    try {
      await process(row);
    } catch (err) {
      // the message stays `received` and raw: reprocessPending takes it again
      log.error({ err, inbound: row.id }, 'processing an inbound message failed; kept for a retry');
    }
  }

  const handler: InboundHandler = {
    async acceptRecipient(address) {
      return (await resolveMailbox(address)) ? ok(true as const) : fail('not_found', `no mailbox ${address} here`);
    },
    async receive(envelope, raw) {
      const now = d.clock.now();
      const rows: InboundMessage[] = [];
      for (const rcpt of new Set(envelope.rcptTo.map((r) => r.toLowerCase()))) {
        const mb = await resolveMailbox(rcpt);
        if (!mb) continue; // checked at RCPT already; a row erased since then
        const tenantId = 'domain' in mb ? ((await ownerOf(mb.domain))?.tenantId ?? null) : (await target(mb.recipientId))?.tenantId ?? null;
        rows.push({
          id: newId('inb', now), tenant_id: tenantId, mailbox: mb.kind, rcpt_to: rcpt, mail_from: envelope.mailFrom, remote_address: envelope.remoteAddress,
          received_at: now, size: raw.length, raw, status: 'received', kind: null, recipient_id: null, message_id: null, address: null,
          subject: headerValue(topHeaders(raw), 'subject')?.slice(0, 500) ?? null, summary: '{}', acknowledged_at: null,
        });
      }
      if (!rows.length) return fail('not_found', 'no mailbox here');
      // on disk before the 250
      await d.db.insertInto('inbound_messages').values(rows).execute();
      for (const row of rows) await processSafely(row);
      return ok({ id: rows[0].id });
    },
  };

  return {
    handler,
    /** Messages accepted but not processed (a crash between the 250 and the end of processing). */
    async reprocessPending(): Promise<number> {
      const rows = await d.db.selectFrom('inbound_messages').selectAll().where('status', '=', 'received').orderBy('id').limit(1000).execute();
      for (const row of rows) await processSafely(row);
      return rows.length;
    },
    /** Newest first. A tenant sees its own; the operator (tenantId null) sees all, unmatched ones included. */
    list(tenantId: string | null, opts: { mailbox?: string; status?: string; before?: string; limit?: number } = {}) {
      let q = d.db.selectFrom('inbound_messages')
        .select(['id', 'tenant_id', 'mailbox', 'rcpt_to', 'mail_from', 'remote_address', 'received_at', 'size', 'status', 'kind', 'recipient_id', 'message_id', 'address', 'subject', 'summary', 'acknowledged_at'])
        .orderBy('id', 'desc').limit(Math.min(opts.limit ?? 50, 500));
      if (tenantId) q = q.where('tenant_id', '=', tenantId);
      if (opts.mailbox) q = q.where('mailbox', '=', opts.mailbox as InboundMessage['mailbox']);
      if (opts.status) q = q.where('status', '=', opts.status as InboundMessage['status']);
      if (opts.before) q = q.where('id', '<', opts.before);
      return q.execute();
    },
    async get(tenantId: string | null, id: string): Promise<Result<InboundMessage>> {
      let q = d.db.selectFrom('inbound_messages').selectAll().where('id', '=', id);
      if (tenantId) q = q.where('tenant_id', '=', tenantId);
      const row = await q.executeTakeFirst();
      return row ? ok(row) : fail('not_found', `no inbound message ${id}`);
    },
  };
}

export type Feedback = ReturnType<typeof createFeedback>;

/** The top-level header block (≤ 64 KB), unfolded enough for line-start matches. */
function topHeaders(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  const alt = raw.indexOf('\n\n');
  const stop = [end, alt].filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? raw.length;
  return raw.subarray(0, Math.min(stop, 64 * 1024)).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
}

function headerValue(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m?.[1].trim();
}

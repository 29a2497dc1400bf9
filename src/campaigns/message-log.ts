// Finding a message and reading its story (issue 9, AF-20): every message one
// address was sent, newest first, page by page; a message by envoi id or by
// its Message-ID header; and a message with its recipients and the events
// of each (accepted, deferred with the reply, delivered, bounced with the
// reply and transcript as recorded, opened, clicked, complained).
//
// A campaign is one messages row with one recipient per contact, so a story
// without a recipient filter stops at STORY_RECIPIENTS recipients: the
// answer stays small whatever the audience size.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export const STORY_RECIPIENTS = 100;

export interface MessageHit {
  id: string;
  messageId: string;
  subject: string;
  from: string;
  campaign: string | null;
  createdAt: string;
  /** the matched recipient (a search by recipient), null for a search by message id */
  recipient: { id: string; address: string; kind: string; status: string; attempts: number; updatedAt: string } | null;
}

const iso = (t: number) => new Date(t).toISOString();

export function createMessageLog(db: Kysely<Database>) {
  const messageColumns = ['m.id', 'm.message_id', 'm.subject', 'm.from_address', 'm.campaign_id', 'm.created_at'] as const;

  return {
    /** Recipients with this address in any case (the index is on lower(address)), newest first; `before` is the last recipient id of the previous page. */
    async byRecipient(tenantId: string, address: string, opts: { before?: string; limit: number }): Promise<{ data: MessageHit[]; next: string | null }> {
      let q = db.selectFrom('recipients as r').innerJoin('messages as m', (j) => j.onRef('m.id', '=', 'r.message_id').onRef('m.tenant_id', '=', 'r.tenant_id'))
        .select([...messageColumns, 'r.id as rid', 'r.address', 'r.kind', 'r.status', 'r.attempts', 'r.updated_at'])
        .where('r.tenant_id', '=', tenantId).where(sql<string>`lower(r.address)`, '=', address.toLowerCase());
      if (opts.before) q = q.where('r.id', '<', opts.before);
      const rows = await q.orderBy('r.id', 'desc').limit(opts.limit + 1).execute();
      const page = rows.slice(0, opts.limit);
      return {
        data: page.map((r) => ({
          id: r.id, messageId: r.message_id, subject: r.subject, from: r.from_address, campaign: r.campaign_id, createdAt: iso(r.created_at),
          recipient: { id: r.rid, address: r.address, kind: r.kind, status: r.status, attempts: r.attempts, updatedAt: iso(r.updated_at) },
        })),
        next: rows.length > opts.limit ? page[page.length - 1].rid : null,
      };
    },

    /** The message with this envoi id or Message-ID header (angle brackets optional): at most a few. */
    async byMessageId(tenantId: string, ref: string, limit: number): Promise<{ data: MessageHit[]; next: null }> {
      const bare = ref.replace(/^<(.*)>$/, '$1');
      const rows = await db.selectFrom('messages as m').select([...messageColumns]).where('m.tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('m.id', '=', bare), eb('m.message_id', '=', bare)])).orderBy('m.id', 'desc').limit(limit).execute();
      return {
        data: rows.map((r) => ({ id: r.id, messageId: r.message_id, subject: r.subject, from: r.from_address, campaign: r.campaign_id, createdAt: iso(r.created_at), recipient: null })),
        next: null,
      };
    },

    /**
     * The message, its recipients (those with this recipient id or address
     * when given) and their events in the order they happened; the events
     * about the whole message (no recipient) come along.
     */
    async story(tenantId: string, id: string, recipient?: string) {
      // One snapshot for the recipients and their events: read apart, a delivery committed
      // between the two reads showed its `delivered` event beside a recipient still `queued`
      // (test/e2e/delivery.test.ts caught it on PostgreSQL).
      return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
        const message = await trx.selectFrom('messages')
          .select(['id', 'message_id', 'from_address', 'subject', 'custom_id', 'size', 'created_at', 'stream_id', 'campaign_id'])
          .where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (!message) return undefined;
        let rq = trx.selectFrom('recipients').select(['id', 'address', 'kind', 'status', 'attempts', 'updated_at'])
          .where('tenant_id', '=', tenantId).where('message_id', '=', id);
        if (recipient) rq = rq.where((eb) => eb.or([eb('id', '=', recipient), eb(sql<string>`lower(address)`, '=', recipient.toLowerCase())]));
        const found = await rq.orderBy('id').limit(STORY_RECIPIENTS + 1).execute();
        const recipients = found.slice(0, STORY_RECIPIENTS);
        const ids = recipients.map((r) => r.id);
        const events = await trx.selectFrom('events').select(['type', 'at', 'recipient_id', 'data'])
          .where('tenant_id', '=', tenantId).where('message_id', '=', id)
          .where((eb) => (ids.length ? eb.or([eb('recipient_id', 'is', null), eb('recipient_id', 'in', ids)]) : eb('recipient_id', 'is', null)))
          .orderBy('id').execute();
        return { message, recipients, moreRecipients: found.length > STORY_RECIPIENTS, events: events.map((e) => ({ ...e, data: JSON.parse(e.data) as Record<string, unknown> })) };
      });
    },
  };
}

export type MessageLog = ReturnType<typeof createMessageLog>;

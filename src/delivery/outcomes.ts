// What an attempt's outcome does to a queue row, in one transaction with its
// event: delivered, deferred (with the next attempt time), bounced, blocked
// or expired. A hard bounce suppresses the address for the tenant at once
// (MC-9, AF-7). Failures keep the SMTP transcript and the headers of the
// message (AF-20).
import type { Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { SuppressionList } from '../audience/suppression.ts';
import { appendEvents, type EventType } from '../events/log.ts';

export type Final = 'delivered' | 'bounced' | 'blocked' | 'expired' | 'dropped';

export interface Attempt {
  /** remote host, IP used, TLS, reply */
  data: Record<string, unknown>;
}

export function createOutcomes(db: Kysely<Database>, suppression: SuppressionList) {
  /** Writes only while the row is still this worker's: a lease that expired meanwhile went to another worker. */
  async function write(r: Recipient, workerId: string, set: Partial<Recipient>, type: EventType, data: Record<string, unknown>, at: number, extra?: (trx: Kysely<Database>) => Promise<void>) {
    await db.transaction().execute(async (trx) => {
      const res = await trx.updateTable('recipients').set({ ...set, locked_by: null, locked_until: null, updated_at: at })
        .where('id', '=', r.id).where('status', '=', 'queued').where('locked_by', '=', workerId).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return;
      await appendEvents(trx, [{ tenantId: r.tenant_id, messageId: r.message_id, recipientId: r.id, type, at, data: { to: r.address, campaign: r.campaign_id, ...data } }]);
      if (extra) await extra(trx);
    });
  }

  return {
    final(r: Recipient, workerId: string, status: Final, at: number, data: Record<string, unknown>, opts: { hardBounce?: boolean } = {}) {
      return write(r, workerId, { status, attempts: r.attempts + 1 }, status, data, at, opts.hardBounce
        ? async (trx) => {
          await suppression.add(r.tenant_id, r.address, 'hard_bounce', `recipient:${r.id}`, String(data.text ?? data.reason ?? ''), trx);
        }
        : undefined);
    },

    deferred(r: Recipient, workerId: string, at: number, nextAttemptAt: number, data: Record<string, unknown>) {
      return write(r, workerId, { attempts: r.attempts + 1, next_attempt_at: nextAttemptAt }, 'deferred', { ...data, nextAttemptAt: new Date(nextAttemptAt).toISOString() }, at);
    },

    /** Not attempted now (quiet hours, warm-up, a paused provider): back to the queue without counting an attempt. */
    async postpone(r: Recipient, workerId: string, at: number, until: number): Promise<void> {
      await db.updateTable('recipients').set({ next_attempt_at: until, locked_by: null, locked_until: null, updated_at: at })
        .where('id', '=', r.id).where('status', '=', 'queued').where('locked_by', '=', workerId).execute();
    },
  };
}

export type Outcomes = ReturnType<typeof createOutcomes>;

/** The header block of a message, for the record of a failed delivery (AF-20). */
export function headersOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end === -1 ? Math.min(raw.length, 64 * 1024) : Math.min(end, 64 * 1024)).toString('utf8');
}

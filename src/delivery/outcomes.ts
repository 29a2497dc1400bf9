// What an attempt's outcome does to a queue row, with its event: delivered,
// deferred (with the next attempt time), bounced, blocked or expired. A hard
// bounce suppresses the address for the tenant at once (MC-9, AF-7).
// Failures keep the SMTP transcript and the headers of the message (AF-20).
//
// Outcomes are written in groups (group commit): what the delivery lanes
// hand over while a write is in progress goes into the next transaction, so
// a busy worker commits once per few hundred recipients instead of once per
// recipient — on SQLite many small transactions are the bottleneck. Each row
// is still written only while its lease is ours (status queued, locked by
// this worker): a lease that expired meanwhile went to another worker.
// Delivered rows share one UPDATE … WHERE id IN (…) RETURNING id; the rest
// are updated one by one inside the same transaction.
import type { Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { SuppressionList } from '../audience/suppression.ts';
import { appendEvents, type EventInput, type EventType } from '../events/log.ts';
import { statusUnindexed } from './queue.ts';

export type Final = 'delivered' | 'bounced' | 'blocked' | 'expired' | 'dropped';

interface Entry {
  r: Recipient;
  workerId: string;
  at: number;
  /** the row's new state; undefined for a delivered row, written with the others of its group */
  set?: { status?: Final; next_attempt_at?: number; countAttempt: boolean };
  event?: { type: EventType; data: Record<string, unknown> };
  hardBounce?: boolean;
  done: () => void;
  fail: (err: unknown) => void;
}

export interface OutcomesOptions {
  /** most rows in one transaction */
  maxBatch?: number;
}

const EVENTS_PER_INSERT = 500;
const WRITE_TRIES = 4;

export function createOutcomes(db: Kysely<Database>, suppression: SuppressionList, opts: OutcomesOptions = {}) {
  const maxBatch = opts.maxBatch ?? 500;
  let pending: Entry[] = [];
  let scheduled = false;
  let writing: Promise<void> | undefined;

  function enqueue(e: Omit<Entry, 'done' | 'fail'>): Promise<void> {
    return new Promise<void>((done, fail) => {
      pending.push({ ...e, done, fail });
      schedule();
    });
  }

  function schedule(): void {
    if (scheduled || writing) return;
    scheduled = true;
    // let the outcomes of this turn of the event loop join the group
    setImmediate(() => {
      scheduled = false;
      const group = pending.length > maxBatch ? pending.splice(0, maxBatch) : pending;
      if (group === pending) pending = [];
      if (!group.length) return;
      writing = writeWithRetry(group).finally(() => {
        writing = undefined;
        if (pending.length) schedule();
      });
    });
  }

  async function writeWithRetry(group: Entry[]): Promise<void> {
    for (let tryNo = 1; ; tryNo++) {
      try {
        await write(group);
        for (const e of group) e.done();
        return;
      } catch (err) {
        // a busy database (another process holding SQLite's write lock past its timeout): try again shortly
        if (tryNo >= WRITE_TRIES) {
          for (const e of group) e.fail(err);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * tryNo));
      }
    }
  }

  async function write(group: Entry[]): Promise<void> {
    const now = Math.max(...group.map((e) => e.at));
    await db.transaction().execute(async (trx) => {
      const events: EventInput[] = [];
      const event = (e: Entry) => {
        if (e.event) events.push({ tenantId: e.r.tenant_id, messageId: e.r.message_id, recipientId: e.r.id, type: e.event.type, at: e.at, data: { to: e.r.address, campaign: e.r.campaign_id, ...e.event.data } });
      };
      const delivered = new Map<string, Entry[]>();
      for (const e of group) {
        if (e.set) continue;
        const of = delivered.get(e.workerId) ?? [];
        of.push(e);
        delivered.set(e.workerId, of);
      }
      for (const [workerId, entries] of delivered) {
        const ours = new Set((await trx.updateTable('recipients')
          .set((eb) => ({ status: 'delivered', attempts: eb('attempts', '+', 1), locked_by: null, locked_until: null, updated_at: now }))
          .where('id', 'in', entries.map((e) => e.r.id)).where(statusUnindexed, '=', 'queued').where('locked_by', '=', workerId)
          .returning('id').execute()).map((x) => x.id));
        for (const e of entries) if (ours.has(e.r.id)) event(e);
      }
      for (const e of group) {
        if (!e.set) continue;
        const { countAttempt, ...set } = e.set;
        const res = await trx.updateTable('recipients')
          .set({ ...set, ...(countAttempt ? { attempts: e.r.attempts + 1 } : {}), locked_by: null, locked_until: null, updated_at: e.at })
          .where('id', '=', e.r.id).where('status', '=', 'queued').where('locked_by', '=', e.workerId).executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) continue;
        event(e);
        if (e.hardBounce) await suppression.add(e.r.tenant_id, e.r.address, 'hard_bounce', `recipient:${e.r.id}`, String(e.event?.data.text ?? e.event?.data.reason ?? ''), trx);
      }
      for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) await appendEvents(trx, events.slice(i, i + EVENTS_PER_INSERT));
    });
  }

  return {
    /** Resolves once the outcome is committed (or the row turned out not to be ours any more). */
    final(r: Recipient, workerId: string, status: Final, at: number, data: Record<string, unknown>, opts: { hardBounce?: boolean } = {}): Promise<void> {
      if (status === 'delivered') return enqueue({ r, workerId, at, event: { type: 'delivered', data } });
      return enqueue({ r, workerId, at, set: { status, countAttempt: true }, event: { type: status, data }, hardBounce: opts.hardBounce });
    },

    deferred(r: Recipient, workerId: string, at: number, nextAttemptAt: number, data: Record<string, unknown>): Promise<void> {
      return enqueue({ r, workerId, at, set: { next_attempt_at: nextAttemptAt, countAttempt: true }, event: { type: 'deferred', data: { ...data, nextAttemptAt: new Date(nextAttemptAt).toISOString() } } });
    },

    /** Not attempted now (quiet hours, a paused provider, a full egress path, a stopping worker): back to the queue without counting an attempt. */
    postpone(r: Recipient, workerId: string, at: number, until: number): Promise<void> {
      return enqueue({ r, workerId, at, set: { next_attempt_at: until, countAttempt: false } });
    },

    /** Resolves when everything handed over so far is written. */
    async flush(): Promise<void> {
      while (pending.length || writing || scheduled) {
        if (writing) await writing;
        else await new Promise((r) => setImmediate(r));
      }
    },
  };
}

export type Outcomes = ReturnType<typeof createOutcomes>;

/** The header block of a message, for the record of a failed delivery (AF-20). */
export function headersOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end === -1 ? Math.min(raw.length, 64 * 1024) : Math.min(end, 64 * 1024)).toString('utf8');
}

// The sandbox: the default delivery target. A message "delivered" here is
// captured, byte for byte as it would have gone on the wire, and can be read
// back through the CLI and the API. Nothing leaves the machine.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { appendEvents } from '../events/log.ts';

export interface SandboxEntry {
  id: string;
  message_id: string;
  mail_from: string;
  rcpt_to: string;
  created_at: number;
  subject: string;
  from_address: string;
  size: number;
}

export function createSandbox(db: Kysely<Database>, clock: Clock) {
  return {
    /** Captures one recipient's copy and records the delivery, atomically. */
    /** raw: the composed message of a campaign recipient; transactional ones are read from their message */
    async deliver(r: Recipient, workerId: string, raw?: Buffer): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        // the lease may have passed to another worker meanwhile: deliver only if still ours
        const res = await trx.updateTable('recipients')
          .set({ status: 'delivered', attempts: r.attempts + 1, locked_by: null, locked_until: null, updated_at: now })
          .where('id', '=', r.id).where('status', '=', 'queued').where('locked_by', '=', workerId)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return;
        await trx.insertInto('sandbox_messages').values({
          id: newId('sbx', now), tenant_id: r.tenant_id, message_id: r.message_id, recipient_id: r.id,
          mail_from: r.envelope_from, rcpt_to: r.address, created_at: now, raw: raw ?? null,
        }).execute();
        await appendEvents(trx, [{
          tenantId: r.tenant_id, messageId: r.message_id, recipientId: r.id, type: 'delivered', at: now,
          data: { to: r.address, target: 'sandbox' },
        }]);
      });
    },

    /** Newest first; `before` pages by id. A tenant sees only its own; null = operator, all. */
    async list(tenantId: string | null, opts: { limit?: number; before?: string } = {}): Promise<SandboxEntry[]> {
      let q = db.selectFrom('sandbox_messages as s').innerJoin('messages as m', 'm.id', 's.message_id')
        .select(['s.id', 's.message_id', 's.mail_from', 's.rcpt_to', 's.created_at', 'm.subject', 'm.from_address', 'm.size'])
        .orderBy('s.id', 'desc').limit(Math.min(opts.limit ?? 50, 500));
      if (tenantId !== null) q = q.where('s.tenant_id', '=', tenantId);
      if (opts.before) q = q.where('s.id', '<', opts.before);
      return q.execute();
    },

    async get(tenantId: string | null, id: string): Promise<(SandboxEntry & { raw: Buffer }) | undefined> {
      let q = db.selectFrom('sandbox_messages as s').innerJoin('messages as m', 'm.id', 's.message_id')
        .select(['s.id', 's.message_id', 's.mail_from', 's.rcpt_to', 's.created_at', 'm.subject', 'm.from_address', 'm.size', 'm.raw', 's.raw as own_raw'])
        .where('s.id', '=', id);
      if (tenantId !== null) q = q.where('s.tenant_id', '=', tenantId);
      const row = await q.executeTakeFirst();
      if (!row) return undefined;
      const { own_raw, ...rest } = row;
      return own_raw ? { ...rest, raw: own_raw, size: own_raw.length } : rest;
    },

    /** Writes one .eml per captured message into dir; returns the files written. */
    async export(tenantId: string | null, dir: string): Promise<string[]> {
      await fs.mkdir(dir, { recursive: true });
      const files: string[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await this.list(tenantId, { limit: 200, before });
        if (!page.length) break;
        for (const e of page) {
          const full = await this.get(tenantId, e.id);
          if (!full) continue;
          const file = path.join(dir, `${e.id}.eml`);
          await fs.writeFile(file, full.raw);
          files.push(file);
        }
        before = page[page.length - 1].id;
      }
      return files;
    },
  };
}

export type Sandbox = ReturnType<typeof createSandbox>;

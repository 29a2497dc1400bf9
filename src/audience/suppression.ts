// The tenant's suppression list (AF-7, MC-9): an address here gets no
// marketing from the tenant, whatever the list. Fed by hard bounces,
// complaints, global unsubscribes, spam-trap hits and operators; removing a
// complaint or a hard bounce needs a reason, and every change is in the event
// log.
import type { Kysely } from 'kysely';
import type { Database, Suppression, SuppressionReason } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { appendEvents } from '../events/log.ts';
import { addressHash, contactAddress } from './address.ts';

// A stronger reason replaces a weaker one; a weaker one never hides a stronger.
const STRENGTH: Record<SuppressionReason, number> = { unsubscribe: 1, manual: 2, hard_bounce: 3, spamtrap: 4, complaint: 4 };

export const SUPPRESSION_REASONS = Object.keys(STRENGTH) as SuppressionReason[];

export function createSuppression(db: Kysely<Database>, clock: Clock) {
  return {
    async add(tenantId: string, email: string, reason: SuppressionReason, source: string, note?: string, trx?: Kysely<Database>): Promise<Result<Suppression>> {
      if (!(reason in STRENGTH)) return fail('request.invalid', `reason is one of ${SUPPRESSION_REASONS.join(', ')}`, 'reason');
      const a = contactAddress(email);
      if (!a.ok) return a;
      // the row and its event together: a crash between them lost the event (the kill tests found it for feedback)
      if (!trx) return db.transaction().execute((t) => this.add(tenantId, email, reason, source, note, t));
      const now = clock.now();
      // the contact's timeline shows its suppressions: events name the contact when there is one
      const contactId = (await trx.selectFrom('contacts').select('id').where('tenant_id', '=', tenantId).where('address_hash', '=', a.value.hash).executeTakeFirst())?.id ?? null;
      const existing = await trx.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address_hash', '=', a.value.hash).executeTakeFirst();
      if (existing) {
        if (STRENGTH[reason] > STRENGTH[existing.reason]) {
          await trx.updateTable('suppressions').set({ reason, source, note: note ?? null }).where('id', '=', existing.id).execute();
          await appendEvents(trx, [{ tenantId, messageId: contactId, type: 'suppressed', at: now, data: { email: a.value.email, reason, source, previous: existing.reason } }]);
          return ok({ ...existing, reason, source, note: note ?? null });
        }
        return ok(existing);
      }
      const row: Suppression = { id: newId('sup', now), tenant_id: tenantId, address_hash: a.value.hash, email: a.value.email, reason, source, note: note ?? null, created_at: now };
      const inserted = await trx.insertInto('suppressions').values(row).onConflict((oc) => oc.columns(['tenant_id', 'address_hash']).doNothing()).executeTakeFirst();
      // another writer suppressed it between our look and our insert: its event is written, not a second one
      if (inserted.numInsertedOrUpdatedRows === 0n) return ok((await trx.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address_hash', '=', a.value.hash).executeTakeFirst()) ?? row);
      await appendEvents(trx, [{ tenantId, messageId: contactId, type: 'suppressed', at: now, data: { email: a.value.email, reason, source } }]);
      return ok(row);
    },

    async check(tenantId: string, email: string): Promise<Suppression | undefined> {
      return db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address_hash', '=', addressHash(email)).executeTakeFirst();
    },

    /** Newest first; `query` matches the start of the address. */
    page(tenantId: string, opts: { before?: string; limit?: number; query?: string; reason?: SuppressionReason } = {}): Promise<Suppression[]> {
      let q = db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(Math.min(opts.limit ?? 50, 500));
      if (opts.before) q = q.where('id', '<', opts.before);
      if (opts.reason) q = q.where('reason', '=', opts.reason);
      if (opts.query) q = q.where('email', 'like', opts.query.replace(/[%_\\]/g, '') + '%');
      return q.execute();
    },

    /** Lifts a suppression. Complaints, hard bounces and spam traps need a reason; erasures cannot be lifted. */
    async remove(tenantId: string, email: string, actor: string, why?: string): Promise<Result<true>> {
      const s = await this.check(tenantId, email);
      if (!s) return fail('not_found', `${email} is not suppressed`);
      if (s.source === 'erasure') return fail('conflict', 'this address was erased on request; it stays suppressed');
      if (STRENGTH[s.reason] >= STRENGTH.hard_bounce && !why?.trim()) {
        return fail('request.invalid', `lifting a ${s.reason} suppression needs a reason`, 'reason');
      }
      const contactId = (await db.selectFrom('contacts').select('id').where('tenant_id', '=', tenantId).where('address_hash', '=', s.address_hash).executeTakeFirst())?.id ?? null;
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('suppressions').where('id', '=', s.id).execute();
        await appendEvents(trx, [{ tenantId, messageId: contactId, type: 'unsuppressed', at: clock.now(), data: { email: s.email, reason: s.reason, actor, why: why ?? null } }]);
      });
      return ok(true);
    },
  };
}

export type SuppressionList = ReturnType<typeof createSuppression>;

// Contacts of a tenant: one row per address (by hash), custom fields, the
// engagement times the sunset policy reads (MJ-2), and erasure on request.
import type { Kysely } from 'kysely';
import type { Database, Contact } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { appendEvents } from '../events/log.ts';
import { isUniqueViolation } from '../store/connect.ts';
import { addressHash, contactAddress } from './address.ts';

export type Fields = Record<string, string | number | boolean | null>;

const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_FIELD_CHARS = 10_000;

/** Custom fields: flat, named like identifiers, values short and single-line-safe. */
export function checkFields(fields: unknown): Result<Fields> {
  if (fields === undefined || fields === null) return ok({});
  if (typeof fields !== 'object' || Array.isArray(fields)) return fail('request.invalid', 'fields must be an object', 'fields');
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
    if (!FIELD_NAME.test(k)) return fail('request.invalid', `field name "${k.slice(0, 40)}": a-z, 0-9 and _, starting with a letter`, `fields.${k}`);
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) return fail('request.invalid', `field ${k} must be a string, number, boolean or null`, `fields.${k}`);
    if (typeof v === 'string' && v.length > MAX_FIELD_CHARS) return fail('request.invalid', `field ${k} is longer than ${MAX_FIELD_CHARS} characters`, `fields.${k}`);
    out[k] = v as Fields[string];
  }
  if (Object.keys(out).length > 100) return fail('request.invalid', 'at most 100 custom fields', 'fields');
  return ok(out);
}

export function createContacts(db: Kysely<Database>, clock: Clock) {
  return {
    /** Finds or creates the contact; fields given are merged into the stored ones. */
    async upsert(tenantId: string, emailIn: string, fieldsIn?: unknown, trx: Kysely<Database> = db): Promise<Result<Contact>> {
      const a = contactAddress(emailIn);
      if (!a.ok) return a;
      const f = checkFields(fieldsIn);
      if (!f.ok) return f;
      const now = clock.now();
      for (let attempt = 0; attempt < 2; attempt++) {
        const existing = await trx.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('address_hash', '=', a.value.hash).executeTakeFirst();
        if (existing) {
          if (existing.status === 'erased') return fail('conflict', 'this address was erased on request and cannot be added again', 'email');
          if (!Object.keys(f.value).length) return ok(existing);
          const fields = JSON.stringify({ ...JSON.parse(existing.fields), ...f.value });
          await trx.updateTable('contacts').set({ fields, updated_at: now }).where('id', '=', existing.id).execute();
          return ok({ ...existing, fields, updated_at: now });
        }
        const c: Contact = {
          id: newId('con', now), tenant_id: tenantId, email: a.value.email, address_hash: a.value.hash, domain: a.value.domain,
          fields: JSON.stringify(f.value), status: 'active', last_open_at: null, last_click_at: null, last_engaged_at: null,
          created_at: now, updated_at: now,
        };
        try {
          await trx.insertInto('contacts').values(c).execute();
          return ok(c);
        } catch (e) {
          // created by a concurrent request a moment ago: read it back
          if (!isUniqueViolation(e) || attempt > 0) throw e;
        }
      }
      return fail('internal', 'contact upsert did not settle');
    },

    /** by id or address, within the tenant */
    find(tenantId: string, ref: string): Promise<Contact | undefined> {
      const byHash = ref.includes('@') ? addressHash(ref) : null;
      return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId)
        .where((eb) => (byHash ? eb('address_hash', '=', byHash) : eb('id', '=', ref))).executeTakeFirst();
    },

    /** A page of contacts, by id; `query` matches the start of the address. */
    page(tenantId: string, opts: { after?: string; limit?: number; query?: string } = {}): Promise<Contact[]> {
      let q = db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('status', '=', 'active')
        .orderBy('id').limit(Math.min(opts.limit ?? 50, 500));
      if (opts.after) q = q.where('id', '>', opts.after);
      if (opts.query) q = q.where('email', 'like', opts.query.replace(/[%_\\]/g, '') + '%');
      return q.execute();
    },

    /** Records an open or click (tracking, issue 6) for the sunset policy. */
    async engaged(tenantId: string, contactId: string, kind: 'open' | 'click', at: number): Promise<void> {
      await db.updateTable('contacts')
        .set(kind === 'open' ? { last_open_at: at, last_engaged_at: at } : { last_click_at: at, last_engaged_at: at })
        .where('tenant_id', '=', tenantId).where('id', '=', contactId).execute();
    },

    /**
     * Privacy request: the personal data goes (address, fields, consent
     * records, subscriptions); a hash of the address stays on the suppression
     * list so the address is never imported and mailed again.
     */
    async erase(tenantId: string, ref: string): Promise<Result<true>> {
      const c = await this.find(tenantId, ref);
      if (!c || c.status === 'erased') return fail('not_found', `no contact ${ref}`);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('consent_records').where('contact_id', '=', c.id).execute();
        await trx.deleteFrom('subscriptions').where('contact_id', '=', c.id).execute();
        await trx.updateTable('contacts').set({ email: null, fields: '{}', domain: '', status: 'erased', updated_at: now }).where('id', '=', c.id).execute();
        await trx.insertInto('suppressions').values({
          id: newId('sup', now), tenant_id: tenantId, address_hash: c.address_hash, email: null, reason: 'manual', source: 'erasure', note: 'erased on request', created_at: now,
        }).onConflict((oc) => oc.columns(['tenant_id', 'address_hash']).doUpdateSet({ email: null, note: 'erased on request' })).execute();
        await appendEvents(trx, [{ tenantId, messageId: c.id, type: 'erased', at: now }]);
      });
      return ok(true);
    },
  };
}

export type Contacts = ReturnType<typeof createContacts>;

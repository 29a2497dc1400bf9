// Tenants: the organisations that send through envoi. Creating one also
// creates its default streams and its first API key, in one transaction.
import type { Kysely } from 'kysely';
import type { Database, Tenant } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { isUniqueViolation } from '../store/connect.ts';
import type { Keys, CreatedKey } from './keys.ts';
import type { Streams } from './streams.ts';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** initialStatus: what a new tenant starts as (MJ-10: 'review' until an operator approves it; reputation/ holds the cap). */
export function createTenants(db: Kysely<Database>, clock: Clock, keys: Keys, streams: Streams, opts: { initialStatus?: 'review' | 'active' } = {}) {
  return {
    async create(name: string): Promise<Result<{ tenant: Tenant; key: CreatedKey }>> {
      if (!NAME.test(name)) return fail('request.invalid', 'a tenant name is 1-63 characters: a-z, 0-9 and -', 'name');
      try {
        return ok(await db.transaction().execute(async (trx) => {
          const tenant: Tenant = { id: newId('ten', clock.now()), name, status: opts.initialStatus ?? 'active', created_at: clock.now() };
          await trx.insertInto('tenants').values(tenant).execute();
          await streams.createDefaults(tenant.id, trx);
          const key = await keys.create(tenant.id, 'default', trx);
          return { tenant, key };
        }));
      } catch (e) {
        if (isUniqueViolation(e)) return fail('conflict', `a tenant named ${name} exists already`, 'name');
        throw e;
      }
    },

    list(): Promise<Tenant[]> {
      return db.selectFrom('tenants').selectAll().orderBy('name').execute();
    },

    /** by id or by name */
    find(ref: string): Promise<Tenant | undefined> {
      return db.selectFrom('tenants').selectAll().where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)])).executeTakeFirst();
    },
  };
}

export type Tenants = ReturnType<typeof createTenants>;

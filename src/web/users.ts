// Dashboard users: operators (no tenant) and the users of a tenant. Sign-in
// answers the same for an unknown address and a wrong password, and takes
// the same time (a decoy hash is checked when the address is unknown).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId, newSecret } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { parseAddress } from '../compose/address.ts';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.ts';

export interface UserView {
  id: string;
  email: string;
  role: 'operator' | 'tenant';
  tenantId: string | null;
  createdAt: string;
  lastLoginAt: string | null;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function createUsers(db: Kysely<Database>, clock: Clock) {
  let decoy: Promise<string> | undefined;
  const view = (u: { id: string; email: string; role: 'operator' | 'tenant'; tenant_id: string | null; created_at: number; last_login_at: number | null }): UserView =>
    ({ id: u.id, email: u.email, role: u.role, tenantId: u.tenant_id, createdAt: new Date(u.created_at).toISOString(), lastLoginAt: iso(u.last_login_at) });

  return {
    /** tenantId null creates an operator. */
    async create(input: { email: string; password: string; tenantId: string | null }): Promise<Result<UserView>> {
      const a = parseAddress(input.email, 'email');
      if (!a.ok) return a;
      const problem = passwordProblem(input.password);
      if (problem) return fail('request.invalid', problem, 'password');
      const email = a.value.email.toLowerCase();
      if (await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) {
        return fail('conflict', `a user ${email} exists already`, 'email');
      }
      const now = clock.now();
      const row = {
        id: newId('usr', now), email, role: input.tenantId ? 'tenant' as const : 'operator' as const, tenant_id: input.tenantId,
        password_hash: await hashPassword(input.password), created_at: now, last_login_at: null, disabled_at: null,
      };
      await db.insertInto('users').values(row).execute();
      return ok(view(row));
    },

    /** The user when the password matches; one failure for every other case. */
    async authenticate(email: string, password: string): Promise<Result<UserView>> {
      const a = parseAddress(email, 'email');
      const key = a.ok ? a.value.email.toLowerCase() : email.trim().toLowerCase();
      const row = await db.selectFrom('users').selectAll().where('email', '=', key).executeTakeFirst();
      decoy ??= hashPassword(newSecret());
      const good = await verifyPassword(password, row?.password_hash ?? await decoy);
      if (!row || !good || row.disabled_at !== null) return fail('auth.invalid', 'wrong email address or password');
      const now = clock.now();
      const rehash = needsRehash(row.password_hash) ? await hashPassword(password) : undefined;
      await db.updateTable('users').set({ last_login_at: now, ...(rehash ? { password_hash: rehash } : {}) }).where('id', '=', row.id).execute();
      return ok(view({ ...row, last_login_at: now }));
    },

    async get(id: string): Promise<UserView | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
      return row && view(row);
    },

    /** tenantId null lists the operators. */
    async list(tenantId: string | null): Promise<UserView[]> {
      const q = db.selectFrom('users').selectAll().where('disabled_at', 'is', null);
      const rows = await (tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId)).orderBy('id').execute();
      return rows.map(view);
    },

    /** Removes a user of this scope (their sessions go with them); another scope's user is "not found". */
    async remove(tenantId: string | null, id: string): Promise<Result<true>> {
      const q = db.deleteFrom('users').where('id', '=', id);
      const res = await (tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId)).executeTakeFirst();
      if (Number(res.numDeletedRows) !== 1) return fail('not_found', `no user ${id}`);
      // SQLite enforces the cascade only with foreign keys on: remove the sessions here too
      await db.deleteFrom('user_sessions').where('user_id', '=', id).execute();
      return ok(true);
    },

    async count(): Promise<number> {
      const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

export type Users = ReturnType<typeof createUsers>;

// API keys: the credential of the REST API (Bearer <id>.<secret> or Basic),
// of the Mailjet-compatible API (Basic <id>:<secret>) and of SMTP submission
// (AUTH with <id> / <secret>). Only the secret's hash is stored; the secret is
// shown once, when the key is created.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId, newSecret } from '../ids.ts';
import { hashSecret, sameHash } from './secrets.ts';
import { fail, ok, type Result } from '../errors.ts';

export interface Principal {
  keyId: string;
  role: 'operator' | 'tenant';
  /** null for operators */
  tenantId: string | null;
}

export interface CreatedKey {
  id: string;
  secret: string;
  /** what goes after "Bearer " */
  token: string;
  label: string;
}

export function createKeys(db: Kysely<Database>, clock: Clock) {
  // A hash of a random 32-byte secret to compare against when a key id is
  // unknown, so a wrong id and a wrong secret take the same time.
  const decoyHash = hashSecret(newSecret());

  return {
    async create(tenantId: string | null, label: string, trx: Kysely<Database> = db): Promise<CreatedKey> {
      const id = newId(tenantId ? 'ek' : 'eo', clock.now());
      const secret = newSecret();
      await trx.insertInto('api_keys').values({
        id,
        tenant_id: tenantId,
        role: tenantId ? 'tenant' : 'operator',
        label,
        secret_hash: hashSecret(secret),
        created_at: clock.now(),
        revoked_at: null,
        last_used_at: null,
      }).execute();
      return { id, secret, token: `${id}.${secret}`, label };
    },

    async verify(id: string, secret: string): Promise<Result<Principal>> {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      const good = sameHash(hashSecret(secret), row?.secret_hash ?? decoyHash);
      if (!row || !good || row.revoked_at !== null) return fail('auth.invalid', 'invalid API key or secret');
      return ok({ keyId: row.id, role: row.role, tenantId: row.tenant_id });
    },

    /** "Bearer <id>.<secret>" */
    async verifyToken(token: string): Promise<Result<Principal>> {
      const dot = token.indexOf('.');
      if (dot < 1) return fail('auth.invalid', 'malformed API token');
      return this.verify(token.slice(0, dot), token.slice(dot + 1));
    },

    async list(tenantId: string | null) {
      const q = db.selectFrom('api_keys').select(['id', 'label', 'role', 'created_at', 'revoked_at']);
      return (tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId)).orderBy('id').execute();
    },

    /** Revokes a key of this tenant; another tenant's key is "not found". */
    async revoke(tenantId: string | null, id: string): Promise<Result<true>> {
      const q = db.updateTable('api_keys').set({ revoked_at: clock.now() }).where('id', '=', id).where('revoked_at', 'is', null);
      const res = await (tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId)).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1 ? ok(true) : fail('not_found', `no active key ${id}`);
    },

    async hasOperatorKey(): Promise<boolean> {
      const row = await db.selectFrom('api_keys').select('id').where('role', '=', 'operator').where('revoked_at', 'is', null).executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type Keys = ReturnType<typeof createKeys>;

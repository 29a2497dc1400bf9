// The dashboard (issue 9): people who sign in — operators (tenant_id null)
// and a tenant's users — and their sessions. A session is stored by the
// SHA-256 of its cookie value, so a database dump holds no usable session.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const users: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // lower-cased; one account per address across the platform
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
      // scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>: the parameters travel with the hash
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('last_login_at', bigint(dialect))
      .addColumn('disabled_at', bigint(dialect))
      .execute();
    await db.schema.createIndex('users_tenant').on('users').column('tenant_id').execute();

    await db.schema.createTable('user_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('expires_at', bigint(dialect), (c) => c.notNull())
      .addColumn('ip', 'text')
      .execute();
    await db.schema.createIndex('user_sessions_user').on('user_sessions').column('user_id').execute();
  },
});

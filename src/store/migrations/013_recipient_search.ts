// The dashboard's message search (issue 9): a tenant finds every message one
// address was sent, newest first, page by page. Without this index the
// search reads every recipient row of the platform. Lower-cased, because a
// person types an address in whatever case (envoi stores the local part as
// the sender wrote it); the same expression on both dialects.
import { sql, type Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';

export const recipientSearch: DialectMigration = () => ({
  async up(db: Kysely<any>) {
    await sql`create index recipients_tenant_address on recipients (tenant_id, lower(address), id)`.execute(db);
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('recipients_tenant_address').execute();
  },
});

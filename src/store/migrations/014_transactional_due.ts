// The transactional lane's claim (delivery/queue.ts) looks for due rows
// without a campaign. Through the (status, next_attempt_at) index it walked
// every queued campaign row ahead of them: 0.4 s behind 950,000 on SQLite, so
// the worker could only afford it now and then, and transactional mail
// waited behind a big campaign up to the poll interval. This index holds the
// queued transactional rows only; campaign rows never enter it, so a
// campaign's writes do not pay for it. The claim writes the same predicate
// with literal values, which SQLite needs to use a partial index.
import { sql, type Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';

export const transactionalDue: DialectMigration = () => ({
  async up(db: Kysely<any>) {
    await sql`create index recipients_due_transactional on recipients (next_attempt_at) where status = 'queued' and campaign_id is null`.execute(db);
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('recipients_due_transactional').execute();
  },
});

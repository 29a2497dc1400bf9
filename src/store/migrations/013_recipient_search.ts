// The dashboard's message search and story (issue 9).
//
// A tenant finds every message one address was sent, newest first, page by
// page: without an index on the address the search reads every recipient
// row of the platform. Lower-cased, because a person types an address in
// whatever case (envoi stores the local part as the sender wrote it); the
// same expression on both dialects.
//
// A story reads the events of a few recipients of a message; a campaign is
// one message with a recipient per contact, so by message_id alone that
// reads every event of the campaign. (message_id, recipient_id) replaces
// the index on message_id (it serves those lookups too), so the event log
// keeps the same number of indexes to write.
import { sql, type Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';

export const recipientSearch: DialectMigration = () => ({
  async up(db: Kysely<any>) {
    await sql`create index recipients_tenant_address on recipients (tenant_id, lower(address), id)`.execute(db);
    await db.schema.createIndex('events_message_recipient').on('events').columns(['message_id', 'recipient_id']).execute();
    await db.schema.dropIndex('events_message').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.createIndex('events_message').on('events').column('message_id').execute();
    await db.schema.dropIndex('events_message_recipient').execute();
    await db.schema.dropIndex('recipients_tenant_address').execute();
  },
});

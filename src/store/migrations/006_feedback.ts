// The feedback stage (issue 6): every message the inbound MX accepts is kept
// here before it is acknowledged with 250 — bounces, complaints, abuse@ and
// postmaster@ reports, mailto unsubscribes — with what the parser made of it
// and what envoi did about it. Unparseable ones stay raw for review.
// Campaigns get an open-tracking switch beside the click one.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint, blob } from '../types.ts';

export const feedback: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('inbound_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // null until a tenant is known (a bounce about a message we never sent has none)
      .addColumn('tenant_id', 'text')
      // bounce | unsubscribe | abuse | postmaster
      .addColumn('mailbox', 'text', (c) => c.notNull())
      .addColumn('rcpt_to', 'text', (c) => c.notNull())
      .addColumn('mail_from', 'text', (c) => c.notNull())
      .addColumn('remote_address', 'text', (c) => c.notNull())
      .addColumn('received_at', bigint(dialect), (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('raw', blob(dialect), (c) => c.notNull())
      // received | processed | unmatched | unparsed
      .addColumn('status', 'text', (c) => c.notNull())
      // bounce | complaint | autoreply | delivery-report | unknown (the parser's verdict)
      .addColumn('kind', 'text')
      .addColumn('recipient_id', 'text')
      .addColumn('message_id', 'text')
      .addColumn('address', 'text')
      .addColumn('subject', 'text')
      // JSON: the parsed recipients, feedback type, reporter, what was done
      .addColumn('summary', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('acknowledged_at', bigint(dialect))
      .execute();
    await db.schema.createIndex('inbound_tenant_received').on('inbound_messages').columns(['tenant_id', 'received_at']).execute();
    await db.schema.createIndex('inbound_sender_ack').on('inbound_messages').columns(['mail_from', 'acknowledged_at']).execute();
    await db.schema.alterTable('campaigns').addColumn('track_opens', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },
});

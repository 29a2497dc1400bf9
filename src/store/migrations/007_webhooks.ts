// Outgoing webhooks (issue 6): a tenant's endpoints, each with its own
// cursor into the event log, and one delivery row per (endpoint, event) that
// is the unit of retry, like a recipient row is for mail.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const webhooks: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('url', 'text', (c) => c.notNull())
      // userinfo of the URL (Mailjet's advice: https://user:pass@host/…), sealed like the signing secret
      .addColumn('auth_enc', 'text')
      .addColumn('secret_enc', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('batch', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('machine_opens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      // the last event id fanned out to this endpoint
      .addColumn('cursor', bigint(dialect), (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_endpoints_tenant').on('webhook_endpoints').column('tenant_id').execute();

    await db.schema.createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('event_id', bigint(dialect), (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      // the event as the endpoint's format shows it (JSON), fixed at fan-out
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', bigint(dialect), (c) => c.notNull())
      .addColumn('last_attempt_at', bigint(dialect))
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('locked_until', bigint(dialect))
      .addColumn('locked_by', 'text')
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('delivered_at', bigint(dialect))
      // a second fan-out of the same event (two processes, a crash before the cursor moved) adds nothing
      .addUniqueConstraint('webhook_deliveries_endpoint_event', ['endpoint_id', 'event_id'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();

    // the fan-out reads a tenant's events after a cursor
    await db.schema.createIndex('events_tenant_id').on('events').columns(['tenant_id', 'id']).execute();
  },
});

// Tenants, credentials, sending domains and their DKIM keys, streams, the
// messages accepted for delivery, their recipients (the queue), the
// append-only event log, the sandbox and idempotency keys.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint, blob, serialId } from '../types.ts';

export const foundation: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();

    await db.schema.createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('revoked_at', bigint(dialect))
      .addColumn('last_used_at', bigint(dialect))
      .execute();

    await db.schema.createTable('domains')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      // one owner per domain across the platform: two tenants never sign for the same name
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('domains_tenant').on('domains').column('tenant_id').execute();

    await db.schema.createTable('dkim_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
      .addColumn('selector', 'text', (c) => c.notNull())
      .addColumn('algorithm', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('private_key_enc', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('dkim_keys_domain_selector', ['domain_id', 'selector'])
      .execute();

    await db.schema.createTable('streams')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('from_address', 'text')
      .addColumn('bounce_label', 'text', (c) => c.notNull())
      .addColumn('ip_pool', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('streams_tenant_name', ['tenant_id', 'name'])
      .execute();

    await db.schema.createTable('messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id'))
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('from_address', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('custom_id', 'text')
      .addColumn('campaign_id', 'text')
      .addColumn('raw', blob(dialect), (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('messages_tenant_created').on('messages').columns(['tenant_id', 'created_at']).execute();
    await db.schema.createIndex('messages_message_id').on('messages').column('message_id').execute();

    await db.schema.createTable('recipients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('envelope_from', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', bigint(dialect), (c) => c.notNull())
      .addColumn('locked_until', bigint(dialect))
      .addColumn('locked_by', 'text')
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recipients_due').on('recipients').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('recipients_message').on('recipients').column('message_id').execute();

    await db.schema.createTable('events')
      .addColumn('id', serialId(dialect), (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('recipient_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('at', bigint(dialect), (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_tenant_at').on('events').columns(['tenant_id', 'at']).execute();
    await db.schema.createIndex('events_message').on('events').column('message_id').execute();

    await db.schema.createTable('sandbox_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
      .addColumn('recipient_id', 'text', (c) => c.notNull().unique())
      .addColumn('mail_from', 'text', (c) => c.notNull())
      .addColumn('rcpt_to', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sandbox_tenant_created').on('sandbox_messages').columns(['tenant_id', 'created_at']).execute();

    await db.schema.createTable('idempotency_keys')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer', (c) => c.notNull())
      .addColumn('response', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'key'])
      .execute();

    await db.schema.createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
});

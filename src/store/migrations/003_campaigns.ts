// Composition and campaigns (issue 4): the tenant's sender identity, versioned
// templates, campaigns with their lifecycle and checkpoint, and the columns
// that let a queue row be a campaign recipient composed at dispatch time.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint, blob } from '../types.ts';

export const campaigns: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    // MC-11, MC-12, MJ-8: who the sender is, printed in every marketing message
    await db.schema.createTable('tenant_profiles')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
      .addColumn('organisation', 'text', (c) => c.notNull())
      .addColumn('postal_address', 'text', (c) => c.notNull())
      .addColumn('phone', 'text', (c) => c.notNull())
      // the tenant's own registrable domain: From on another organisation's domain needs an "on behalf of" line
      .addColumn('organisation_domain', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .execute();

    await db.schema.createTable('templates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('templates_tenant_name', ['tenant_id', 'name'])
      .execute();

    // Versions are immutable: a campaign keeps the exact version it used.
    await db.schema.createTable('template_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('text_body', 'text')
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('template_versions_template_version', ['template_id', 'version'])
      .execute();

    await db.schema.createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      // draft | review | approved | scheduled | sending | paused | completed | cancelled
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('template_version_id', 'text', (c) => c.notNull().references('template_versions.id'))
      // JSON array of list ids, in the order that names the list of a contact on several
      .addColumn('list_ids', 'text', (c) => c.notNull())
      .addColumn('segment', 'text')
      .addColumn('stream', 'text', (c) => c.notNull())
      .addColumn('from_address', 'text', (c) => c.notNull())
      .addColumn('from_name', 'text', (c) => c.notNull())
      .addColumn('reply_to', 'text')
      // the messages row that campaign recipients point at (no stored body per recipient)
      .addColumn('message_row_id', 'text')
      // JSON: the lint findings of the last check
      .addColumn('findings', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('status_reason', 'text')
      .addColumn('approved_by', 'text')
      .addColumn('scheduled_at', bigint(dialect))
      // last contact id enqueued: a restart resumes after it (STYLE 8)
      .addColumn('checkpoint', 'text')
      .addColumn('enqueued', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('audience_done', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .addColumn('started_at', bigint(dialect))
      .addColumn('completed_at', bigint(dialect))
      .execute();
    await db.schema.createIndex('campaigns_status').on('campaigns').columns(['status', 'scheduled_at']).execute();

    await db.schema.alterTable('recipients').addColumn('campaign_id', 'text').execute();
    await db.schema.alterTable('recipients').addColumn('contact_id', 'text').execute();
    await db.schema.alterTable('recipients').addColumn('list_id', 'text').execute();
    // one queue row per (campaign, contact): a resumed enqueue never queues twice
    await db.schema.createIndex('recipients_campaign_contact').on('recipients').columns(['campaign_id', 'contact_id']).unique().execute();
    // campaign captures are composed at dispatch; the sandbox keeps what went out
    await db.schema.alterTable('sandbox_messages').addColumn('raw', blob(dialect)).execute();
  },
});

// Audience and consent (issue 3): lists, contacts, one subscription per
// (contact, list) with its current consent record, consent texts stored once
// per version, the suppression list, CSV imports, and counters for rate limits.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const audience: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('lists')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      // the fixed From of the list's mail, shown on the form (AF-14)
      .addColumn('from_address', 'text', (c) => c.notNull())
      .addColumn('from_name', 'text', (c) => c.notNull())
      .addColumn('stream', 'text', (c) => c.notNull().defaultTo('marketing'))
      // double | single (MJ-5, AF-16: double by default)
      .addColumn('opt_in', 'text', (c) => c.notNull().defaultTo('double'))
      // contacts with an existing relationship but no opt-in may be mailed (soft opt-in)
      .addColumn('allow_relationship', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('consent_text_hash', 'text', (c) => c.notNull())
      .addColumn('form_enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('deleted_at', bigint(dialect))
      .addUniqueConstraint('lists_tenant_name', ['tenant_id', 'name'])
      .execute();

    await db.schema.createTable('contacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      // null once erased (privacy request)
      .addColumn('email', 'text')
      // sha256 of the lower-cased address: kept after erasure so the address is never re-added and mailed
      .addColumn('address_hash', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull().defaultTo(''))
      // custom fields, a JSON object
      .addColumn('fields', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('last_open_at', bigint(dialect))
      .addColumn('last_click_at', bigint(dialect))
      // max(last open, last click): what the sunset policy reads
      .addColumn('last_engaged_at', bigint(dialect))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('contacts_tenant_hash', ['tenant_id', 'address_hash'])
      .execute();

    await db.schema.createTable('consent_texts')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();

    // Append-only: a new record per consent event; the subscription points at the current one.
    await db.schema.createTable('consent_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('list_id', 'text', (c) => c.notNull().references('lists.id').onDelete('cascade'))
      // form | api | import | contest | customer | other
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('collected_at', bigint(dialect), (c) => c.notNull())
      .addColumn('form_url', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('consent_text_hash', 'text')
      .addColumn('checkbox_unchecked', 'integer')
      .addColumn('separate_consent', 'integer')
      // single | confirmed | double | none
      .addColumn('opt_in', 'text', (c) => c.notNull())
      .addColumn('confirmed_at', bigint(dialect))
      .addColumn('confirm_ip', 'text')
      .addColumn('confirm_user_agent', 'text')
      // without opt-in: the nature of the existing relationship and how the person was informed (MJ-6)
      .addColumn('relationship', 'text')
      .addColumn('informed_how', 'text')
      .addColumn('import_id', 'text')
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.schema.createIndex('consent_contact_list').on('consent_records').columns(['contact_id', 'list_id']).execute();

    await db.schema.createTable('subscriptions')
      .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('list_id', 'text', (c) => c.notNull().references('lists.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // pending | subscribed | unsubscribed
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('consent_id', 'text')
      // set by an import that looks like a bought list, until an operator approves it (MJ-4)
      .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('import_id', 'text')
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('confirmed_at', bigint(dialect))
      .addColumn('unsubscribed_at', bigint(dialect))
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .addPrimaryKeyConstraint('subscriptions_pk', ['list_id', 'contact_id'])
      .execute();
    // the mailable-audience query walks a list's subscribed contacts in id order
    await db.schema.createIndex('subscriptions_list_status').on('subscriptions').columns(['list_id', 'status', 'contact_id']).execute();
    await db.schema.createIndex('subscriptions_contact').on('subscriptions').column('contact_id').execute();
    await db.schema.createIndex('subscriptions_import').on('subscriptions').column('import_id').execute();

    // Tenant-wide: an address here receives no marketing from the tenant, whatever the list.
    await db.schema.createTable('suppressions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('address_hash', 'text', (c) => c.notNull())
      // null once the contact is erased
      .addColumn('email', 'text')
      // hard_bounce | complaint | unsubscribe | manual | spamtrap
      .addColumn('reason', 'text', (c) => c.notNull())
      // the event that caused it: an event id, an import line, "operator:<key>"
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addUniqueConstraint('suppressions_tenant_hash', ['tenant_id', 'address_hash'])
      .execute();

    await db.schema.createTable('imports')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('list_id', 'text', (c) => c.notNull().references('lists.id').onDelete('cascade'))
      // sha256 of the file: the same file imported again is recognised (idempotent)
      .addColumn('file_hash', 'text', (c) => c.notNull())
      .addColumn('file_name', 'text', (c) => c.notNull())
      // running | completed | quarantined | approved | rejected | failed
      .addColumn('status', 'text', (c) => c.notNull())
      // JSON: mapping and file-wide provenance
      .addColumn('options', 'text', (c) => c.notNull())
      // JSON: counts, quarantine signals, reasons
      .addColumn('report', 'text', (c) => c.notNull().defaultTo('{}'))
      // last line fully committed: a resumed import starts after it
      .addColumn('checkpoint_line', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .addColumn('finished_at', bigint(dialect))
      .addColumn('reviewed_by', 'text')
      .addUniqueConstraint('imports_tenant_list_file', ['tenant_id', 'list_id', 'file_hash'])
      .execute();

    await db.schema.createTable('import_rejects')
      .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id').onDelete('cascade'))
      .addColumn('line', 'integer', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('import_rejects_pk', ['import_id', 'line'])
      .execute();

    // Fixed-window counters for limits that must survive restarts and hold
    // across processes (confirmation mails per address per day).
    await db.schema.createTable('counters')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', bigint(dialect), (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .execute();
  },
});

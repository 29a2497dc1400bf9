// Templates get a number per tenant: the Mailjet-compatible API names
// templates by a number (TemplateID), so an application switching to envoi
// keeps its calls.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';

export const templateNumbers: DialectMigration = () => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('templates').addColumn('number', 'integer').execute();
    await db.schema.createIndex('templates_tenant_number').on('templates').columns(['tenant_id', 'number']).unique().execute();
  },
});

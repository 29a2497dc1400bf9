// The doctor (issue 8): the last report of each sending domain, kept so the
// gate that stops marketing from a misconfigured domain (doctorGate) answers
// without running every DNS and SMTP check again at submit time.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const doctor: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('doctor_reports')
      .addColumn('domain_id', 'text', (c) => c.primaryKey().references('domains.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('checked_at', bigint(dialect), (c) => c.notNull())
      // 1 when a blocking check failed: no marketing outside the sandbox
      .addColumn('blocked', 'integer', (c) => c.notNull())
      // the whole report (DomainReport), JSON
      .addColumn('report', 'text', (c) => c.notNull())
      .execute();
  },
});

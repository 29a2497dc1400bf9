// Delivery state (issue 5): the warm-up ramp of each (IP pool, sending
// domain, provider) (GM-13), and the configuration faults receivers report
// about a sending domain, with their remedy (GM-11).
import { sql, type Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const deliveryState: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.createTable('warmup_ramps')
      .addColumn('pool', 'text', (c) => c.notNull())
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
      .addColumn('provider', 'text', (c) => c.notNull())
      // the UTC day (YYYY-MM-DD) that day_index and budget apply to
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('day_index', 'integer', (c) => c.notNull())
      .addColumn('budget', 'integer', (c) => c.notNull())
      // start | grow | hold | step-back: how the previous day's health moved the ramp
      .addColumn('verdict', 'text', (c) => c.notNull())
      // the previous day's counts the verdict came from
      .addColumn('prev_sent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('prev_bounced', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('prev_delivered', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('prev_complained', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('started_at', bigint(dialect), (c) => c.notNull())
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .addPrimaryKeyConstraint('warmup_ramps_pk', ['pool', 'domain_id', 'provider'])
      .execute();

    await db.schema.createTable('domain_faults')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
      .addColumn('provider', 'text', (c) => c.notNull())
      // the enhanced status code of the reply (4.7.27), else its basic code
      .addColumn('code', 'text', (c) => c.notNull())
      // ptr | spf | tls | dkim | dmarc | alignment
      .addColumn('cause', 'text', (c) => c.notNull())
      .addColumn('fault', 'text', (c) => c.notNull())
      .addColumn('remedy', 'text', (c) => c.notNull())
      // the last reply that reported it, as received
      .addColumn('example', 'text', (c) => c.notNull())
      .addColumn('first_seen', bigint(dialect), (c) => c.notNull())
      .addColumn('last_seen', bigint(dialect), (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('cleared_at', bigint(dialect))
      .addColumn('cleared_by', 'text')
      .execute();
    // one open fault per (domain, provider, code): a repeat counts on it
    await db.schema.createIndex('domain_faults_open').on('domain_faults').columns(['domain_id', 'provider', 'code']).unique()
      .where(sql.ref('cleared_at'), 'is', null).execute();
    await db.schema.createIndex('domain_faults_domain').on('domain_faults').columns(['domain_id', 'first_seen']).execute();

    // the warm-up reads a day of outcomes by type and time
    await db.schema.createIndex('events_type_at').on('events').columns(['type', 'at']).execute();
  },
});

// Click tracking (issue 4): each tenant's own tracking host (a name under one
// of its sending domains, never a shared one) and a per-campaign switch.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';

export const tracking: DialectMigration = () => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('tenant_profiles').addColumn('tracking_host', 'text').execute();
    await db.schema.alterTable('campaigns').addColumn('track_clicks', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },
});

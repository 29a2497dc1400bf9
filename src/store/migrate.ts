// Runs the migrations in src/store/migrations in order. One set of migrations
// for both dialects: each receives the dialect name for the few column types
// that differ (binary data, auto-increment keys).
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Store, DialectName } from './connect.ts';
import { foundation } from './migrations/001_foundation.ts';
import { audience } from './migrations/002_audience.ts';
import { campaigns } from './migrations/003_campaigns.ts';
import { tracking } from './migrations/004_tracking.ts';
import { templateNumbers } from './migrations/005_template_numbers.ts';
import { deliveryState } from './migrations/008_delivery_state.ts';
import { webhooks } from './migrations/007_webhooks.ts';
import { feedback } from './migrations/006_feedback.ts';
import { importLease } from './migrations/009_import_lease.ts';
import { reputation } from './migrations/010_reputation.ts';
import { doctor } from './migrations/011_doctor.ts';
import { users } from './migrations/012_users.ts';
import { recipientSearch } from './migrations/013_recipient_search.ts';
import { transactionalDue } from './migrations/014_transactional_due.ts';

export type DialectMigration = (dialect: DialectName) => Migration;

const ALL: Record<string, DialectMigration> = {
  '001_foundation': foundation,
  '002_audience': audience,
  '003_campaigns': campaigns,
  '004_tracking': tracking,
  '005_template_numbers': templateNumbers,
  '008_delivery_state': deliveryState,
  '007_webhooks': webhooks,
  '006_feedback': feedback,
  '009_import_lease': importLease,
  '010_reputation': reputation,
  '011_doctor': doctor,
  '012_users': users,
  '013_recipient_search': recipientSearch,
  '014_transactional_due': transactionalDue,
};

export async function migrateToLatest(store: Store): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      return Object.fromEntries(Object.entries(ALL).map(([name, m]) => [name, m(store.dialect)]));
    },
  };
  // Kysely looks for its own tables across every schema it can see; pin them
  // to ours, or another schema's migration table would be taken for ours.
  const migrator = new Migrator({ db: store.db, provider, ...(store.schema ? { migrationTableSchema: store.schema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return;
    // Kysely's introspection reads the catalog of every schema; one dropped by
    // another session at that moment fails it with 3F000 ("schema … does not
    // exist", seen when test files drop theirs in parallel). Kysely runs the
    // migrations in one transaction on PostgreSQL, so a failed try leaves
    // nothing half done and trying again is safe.
    if ((error as { code?: string }).code !== '3F000' || attempt >= 3) throw error;
  }
}

/** Registers a migration; later issues add theirs here, in name order. */
export function registerMigration(name: string, m: DialectMigration): void {
  ALL[name] = m;
}

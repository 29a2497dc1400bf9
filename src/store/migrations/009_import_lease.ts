// An import is claimed with a lease before its file is read: two processes
// resuming the same import (two `envoi import` runs, a CLI run and an API
// upload) would otherwise both read the file and race batch by batch. The
// holder renews the lease with every batch it commits; a dead holder's lease
// expires and a later run resumes from the checkpoint.
import type { Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import { bigint } from '../types.ts';

export const importLease: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('imports').addColumn('locked_by', 'text').execute();
    await db.schema.alterTable('imports').addColumn('locked_until', bigint(dialect)).execute();
  },
});

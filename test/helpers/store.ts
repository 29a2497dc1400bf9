// Every storage test runs on each dialect (STYLE 14): SQLite in a temp folder
// and PostgreSQL in a schema of its own, dropped afterwards.
import crypto from 'node:crypto';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

export const PG_URL = process.env.ENVOI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** scripts/test.mjs sets ENVOI_TEST_PG=off only outside CI when no PostgreSQL answers. */
export const DIALECTS: Dialect[] = process.env.ENVOI_TEST_PG === 'off' ? ['sqlite'] : ['sqlite', 'postgres'];

export function newSchemaName(): string {
  return 't_' + crypto.randomBytes(6).toString('hex');
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

// The per-recipient queries of the hot path (store/hot.ts) are compiled once
// and run with new values; SQLite statements are kept prepared
// (store/connect.ts). Both must give what a freshly built query gives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/connect.ts';
import { hotQuery } from '../../src/store/hot.ts';
import { DIALECTS, PG_URL, dropSchema, newSchemaName } from '../helpers/store.ts';

for (const dialect of DIALECTS) {
  describe(`hot queries (${dialect})`, () => {
    let store: Store;
    const schema = newSchemaName();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-hot-'));
    before(async () => {
      store = await openStore(dialect === 'postgres' ? { url: PG_URL, schema, poolSize: 1 } : { sqliteFile: path.join(dir, 'envoi.db') });
      await sql`create table hot_t (k text, n integer, tag text)`.execute(store.db);
      await sql`insert into hot_t values ('a', 1, 'x'), ('a', 2, 'y'), ('b', 3, 'x'), ('c', 4, 'x')`.execute(store.db);
    });
    after(async () => {
      await store.close();
      if (dialect === 'postgres') await dropSchema(schema);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('each call binds its own arguments; the constants of the builder stay', async () => {
      const db = store.db as never as import('kysely').Kysely<{ hot_t: { k: string; n: number; tag: string } }>;
      const q = hotQuery(db, (k: string, min: number) => db.selectFrom('hot_t').select(['k', 'n']).where('k', '=', k).where('n', '>=', min).where('tag', '=', 'x').orderBy('n'));
      assert.deepEqual(await q('a', 0), [{ k: 'a', n: 1 }]);
      assert.deepEqual(await q('b', 0), [{ k: 'b', n: 3 }]);
      assert.deepEqual(await q('b', 4), []);
      assert.deepEqual(await q('zzz', 0), []);
    });

    if (dialect === 'postgres') {
      test('PostgreSQL plans a hot query once per connection: it is a named prepared statement there', async () => {
        const db = store.db as never as import('kysely').Kysely<{ hot_t: { k: string; n: number; tag: string } }>;
        const q = hotQuery(db, (k: string) => db.selectFrom('hot_t').select('n').where('k', '=', k).where('n', '<', 100));
        for (const k of ['a', 'b', 'a']) await q(k);
        // one connection in this store: the statement lives where the next query runs
        const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'envoi_hot_%'`.execute(store.db);
        assert.equal(rows.filter((r) => r.statement.includes('"n" < $2')).length, 1, JSON.stringify(rows));
      });
    }

    test('a builder that drops an argument is refused, not run with a stale value', async () => {
      const db = store.db as never as import('kysely').Kysely<{ hot_t: { k: string; n: number; tag: string } }>;
      const q = hotQuery(db, (k: string, _unused: string) => db.selectFrom('hot_t').select('n').where('k', '=', k));
      await assert.rejects(q('a', 'b'), /argument 1 is not a query parameter/);
    });

    test('a kept statement sees a column added after it was first run', async () => {
      const read = () => sql<Record<string, unknown>>`select * from hot_t where k = ${'c'}`.execute(store.db);
      assert.deepEqual(Object.keys((await read()).rows[0]).sort(), ['k', 'n', 'tag']);
      await sql`alter table hot_t add column extra text`.execute(store.db);
      assert.deepEqual(Object.keys((await read()).rows[0]).sort(), ['extra', 'k', 'n', 'tag']);
    });
  });
}

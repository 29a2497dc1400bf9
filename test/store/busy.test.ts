// A write that must wait for another connection's write transaction (two
// delivery workers on one SQLite file, the API beside a worker) waits without
// freezing its process: timers, sockets and the other connection go on. On
// SQLite, busy_timeout used to sleep inside the synchronous call: here the
// holder's own commit could not run until the waiter gave up, 5 s later, with
// SQLITE_BUSY.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openStore, type Store } from '../../src/store/connect.ts';
import { DIALECTS, PG_URL, dropSchema, newSchemaName } from '../helpers/store.ts';

type Db = Kysely<{ busy_t: { k: string; n: number } }>;

for (const dialect of DIALECTS) {
  describe(`waiting for another writer (${dialect})`, () => {
    let a: Store;
    let b: Store;
    const schema = newSchemaName();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-busy-'));
    const open = () => openStore(dialect === 'postgres' ? { url: PG_URL, schema, poolSize: 2 } : { sqliteFile: path.join(dir, 'envoi.db') });
    before(async () => {
      a = await open();
      b = await open();
      await sql`create table busy_t (k text primary key, n integer not null)`.execute(a.db);
      await sql`insert into busy_t values ('x', 0)`.execute(a.db);
    });
    after(async () => {
      await a.close();
      await b.close();
      if (dialect === 'postgres') await dropSchema(schema);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the second writer waits for the first, and the process keeps running meanwhile', async () => {
      const dbA = a.db as never as Db;
      const dbB = b.db as never as Db;
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const first = dbA.transaction().execute(async (trx) => {
          await trx.updateTable('busy_t').set((eb) => ({ n: eb('n', '+', 1) })).where('k', '=', 'x').execute();
          await held;
        });
        await new Promise((r) => setTimeout(r, 50));
        const t0 = performance.now();
        const second = dbB.transaction().execute(async (trx) => {
          await trx.updateTable('busy_t').set((eb) => ({ n: eb('n', '+', 10) })).where('k', '=', 'x').execute();
        });
        // the first writer finishes a while later, from a timer: it could not if the waiter held the thread
        const ticksBefore = ticks;
        setTimeout(release, 300);
        await first;
        await second;
        const waited = performance.now() - t0;
        assert.ok(waited >= 250 && waited < 3_000, `the second writer waited for the first's commit (${Math.round(waited)} ms)`);
        assert.ok(ticks - ticksBefore >= 10, `timers ran while it waited (${ticks - ticksBefore} ticks of 10 ms)`);
        const row = await dbA.selectFrom('busy_t').select('n').where('k', '=', 'x').executeTakeFirstOrThrow();
        assert.equal(Number(row.n), 11, 'both writes are there');
      } finally {
        clearInterval(ticker);
      }
    });
  });
}

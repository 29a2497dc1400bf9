// A campaign's claim reads the due rows in time order through the queue's
// index, even right after a big enqueue into a table whose planner
// statistics predate it (store/stats.ts): on PostgreSQL a stale "nothing is
// queued" made it gather and sort every queued row of the campaign, 49 ms a
// claim in the benchmark instead of 3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { openStore, type Store } from '../../src/store/connect.ts';
import { crossedStatsStep, queueStatsRefresher } from '../../src/store/stats.ts';
import { claimQuery } from '../../src/delivery/queue.ts';
import { DIALECTS, PG_URL, dropSchema, newSchemaName } from '../helpers/store.ts';

test('statistics are refreshed at 1,000, 4,000, 16,000… rows of a campaign: a handful per campaign', () => {
  assert.equal(crossedStatsStep(0, 1_000), true);
  assert.equal(crossedStatsStep(0, 999), false);
  assert.equal(crossedStatsStep(1_000, 2_000), false);
  assert.equal(crossedStatsStep(3_000, 4_000), true);
  assert.equal(crossedStatsStep(15_000, 16_000), true);
  let n = 0;
  for (let at = 0; at < 1_000_000; at += 1_000) if (crossedStatsStep(at, at + 1_000)) n++;
  assert.equal(n, 5, 'five refreshes for a million recipients enqueued 1,000 at a time');
});

const N = 20_000;

for (const dialect of DIALECTS) {
  describe(`the claim's plan after a big enqueue (${dialect})`, () => {
    let store: Store;
    const schema = newSchemaName();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-stats-'));
    before(async () => {
      store = await openStore(dialect === 'postgres' ? { url: PG_URL, schema, poolSize: 1 } : { sqliteFile: path.join(dir, 'envoi.db') });
      const db = store.db;
      if (dialect === 'postgres') await sql`analyze recipients`.execute(db); // statistics of an empty queue
      // rows only: the planner does not care who they belong to
      await sql.raw(dialect === 'postgres' ? 'set session_replication_role = replica' : 'pragma foreign_keys = off').execute(db);
      await sql`insert into campaigns (id, tenant_id, name, status, template_version_id, list_ids, stream, from_address, from_name, created_at, updated_at)
        values ('cmp_1', 'ten_1', 'c', 'sending', 'tv_1', '[]', 'marketing', 'a@b.example', 'A', 0, 0)`.execute(db);
      for (let i = 0; i < N; i += 1_000) {
        const rows = Array.from({ length: 1_000 }, (_, k) => ({
          id: `rcp_${String(i + k).padStart(8, '0')}`, message_id: 'msg_1', tenant_id: 'ten_1', address: `m${i + k}@d${k % 20}.example`, kind: 'to',
          envelope_from: 'b@b.example', status: 'queued', attempts: 0, next_attempt_at: 1_000 + i + k, locked_until: null, locked_by: null,
          updated_at: 0, campaign_id: 'cmp_1', contact_id: `ct_${i + k}`, list_id: 'lst_1',
        }));
        await db.insertInto('recipients').values(rows).execute();
      }
      await queueStatsRefresher(db, store.dialect, pino({ level: 'silent' }))();
    });
    after(async () => {
      await store.close();
      if (dialect === 'postgres') await dropSchema(schema);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the due rows are read in time order through the queue index, not gathered and sorted', async () => {
      const q = claimQuery(store.db, store.dialect, { workerId: 'w', now: 10_000_000, limit: 30, leaseMs: 60_000, lane: 'campaign' }).compile();
      const plan = dialect === 'postgres'
        ? (await store.db.executeQuery<{ 'QUERY PLAN': string }>({ ...q, sql: `explain ${q.sql}` })).rows.map((r) => r['QUERY PLAN']).join('\n')
        : (await store.db.executeQuery<{ detail: string }>({ ...q, sql: `explain query plan ${q.sql}` })).rows.map((r) => r.detail).join('\n');
      assert.match(plan, /recipients_due\b/, plan);
      assert.doesNotMatch(plan, dialect === 'postgres' ? /\bSort\b|Bitmap/ : /TEMP B-TREE FOR ORDER BY/, plan);
      const claimed = await claimQuery(store.db, store.dialect, { workerId: 'w', now: 10_000_000, limit: 30, leaseMs: 60_000, lane: 'campaign' }).execute();
      assert.deepEqual(claimed.map((r) => r.id).sort(), Array.from({ length: 30 }, (_, k) => `rcp_${String(k).padStart(8, '0')}`), 'the 30 oldest');
      assert.ok(claimed.every((r) => r.locked_by === 'w' && Number(r.next_attempt_at) === 10_060_000), 'held until the lease ends, due again then');
    });
  });
}

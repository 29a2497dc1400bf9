// Benchmark: count and stream the mailable audience of a 1,000,000-contact
// list (issue 3: < 2 s on SQLite and PostgreSQL, constant memory).
//   node --import tsx bench/audience.ts [--rows 1000000] [--dialect sqlite|postgres] [--batch 1000]
// The machine is shared: the output ends with the load average, re-run when it is high.
// PLAN=1 prints the walk's query plan (SQLite) or its statements for psql (PostgreSQL).
// Seeds with set-based SQL (generate_series / a recursive CTE): the seeding is
// not what is measured. 2 % of the contacts are suppressed, 3 % unsubscribed,
// 5 % sunset, so the query has real work to do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const rows = Number(arg('rows', '1000000'));
const batchSize = Number(arg('batch', '1000'));
const dialect = arg('dialect', 'sqlite');
const pgUrl = process.env.ENVOI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_${process.pid}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-bench-'));

const cfg = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, database: dialect === 'postgres' ? { url: pgUrl, schema } : {} } });
if (!cfg.ok) throw new Error(cfg.problems.join('; '));
const core = await openServices(cfg.config);
const { db } = core.store;
const t = await core.services.tenants.create('bench');
if (!t.ok) throw new Error(t.error.detail);
const tenantId = t.value.tenant.id;
await core.services.domains.add(tenantId, 'shop.example');
const list = await core.services.audience.lists.create(tenantId, { name: 'big', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'yes', optIn: 'single' });
if (!list.ok) throw new Error(list.error.detail);
const listId = list.value.id;
const now = Date.now();
const DAY = 86_400_000;

const seedStart = performance.now();
if (dialect === 'postgres') {
  await sql`INSERT INTO contacts (id, tenant_id, email, address_hash, domain, fields, status, last_engaged_at, created_at, updated_at)
    SELECT 'con_' || lpad(i::text, 10, '0'), ${tenantId}, 'user' || i || '@d' || (i % 20) || '.example', md5('user' || i), 'd' || (i % 20) || '.example', '{"n":' || i || '}', 'active',
      CASE WHEN i % 20 = 7 THEN ${now - 200 * DAY}::bigint ELSE ${now - DAY}::bigint END, ${now - 300 * DAY}::bigint, ${now}::bigint
    FROM generate_series(1, ${rows}) AS i`.execute(db);
  await sql`INSERT INTO consent_records (id, tenant_id, contact_id, list_id, source, collected_at, opt_in, created_at)
    SELECT 'cns_' || lpad(i::text, 10, '0'), ${tenantId}, 'con_' || lpad(i::text, 10, '0'), ${listId}, 'import', ${now - 300 * DAY}::bigint, 'single', ${now}::bigint FROM generate_series(1, ${rows}) AS i`.execute(db);
  await sql`INSERT INTO subscriptions (contact_id, list_id, tenant_id, status, consent_id, quarantined, created_at, confirmed_at, updated_at)
    SELECT 'con_' || lpad(i::text, 10, '0'), ${listId}, ${tenantId}, CASE WHEN i % 33 = 5 THEN 'unsubscribed' ELSE 'subscribed' END, 'cns_' || lpad(i::text, 10, '0'), 0, ${now}::bigint, ${now}::bigint, ${now}::bigint
    FROM generate_series(1, ${rows}) AS i`.execute(db);
  await sql`INSERT INTO suppressions (id, tenant_id, address_hash, email, reason, source, created_at)
    SELECT 'sup_' || lpad(i::text, 10, '0'), ${tenantId}, md5('user' || i), NULL, 'hard_bounce', 'bench', ${now}::bigint FROM generate_series(1, ${rows}) AS i WHERE i % 50 = 3`.execute(db);
  await sql`ANALYZE`.execute(db);
} else {
  const gen = sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})`;
  await sql`${gen} INSERT INTO contacts (id, tenant_id, email, address_hash, domain, fields, status, last_engaged_at, created_at, updated_at)
    SELECT 'con_' || printf('%010d', i), ${tenantId}, 'user' || i || '@d' || (i % 20) || '.example', 'h' || i, 'd' || (i % 20) || '.example', '{"n":' || i || '}', 'active',
      CASE WHEN i % 20 = 7 THEN ${now - 200 * DAY} ELSE ${now - DAY} END, ${now - 300 * DAY}, ${now} FROM n`.execute(db);
  await sql`${gen} INSERT INTO consent_records (id, tenant_id, contact_id, list_id, source, collected_at, opt_in, created_at)
    SELECT 'cns_' || printf('%010d', i), ${tenantId}, 'con_' || printf('%010d', i), ${listId}, 'import', ${now - 300 * DAY}, 'single', ${now} FROM n`.execute(db);
  await sql`${gen} INSERT INTO subscriptions (contact_id, list_id, tenant_id, status, consent_id, quarantined, created_at, confirmed_at, updated_at)
    SELECT 'con_' || printf('%010d', i), ${listId}, ${tenantId}, CASE WHEN i % 33 = 5 THEN 'unsubscribed' ELSE 'subscribed' END, 'cns_' || printf('%010d', i), 0, ${now}, ${now}, ${now} FROM n`.execute(db);
  await sql`${gen} INSERT INTO suppressions (id, tenant_id, address_hash, email, reason, source, created_at)
    SELECT 'sup_' || printf('%010d', i), ${tenantId}, 'h' || i, NULL, 'hard_bounce', 'bench', ${now} FROM n WHERE i % 50 = 3`.execute(db);
  await sql`ANALYZE`.execute(db);
}
const seedSeconds = (performance.now() - seedStart) / 1000;

const a = core.services.audience;
if (process.env.PLAN) {
  const { streamMailable } = await import('../src/audience/mailable.ts');
  const nodes: any[] = [];
  const spy = db.withPlugin({ transformQuery: (x: any) => { nodes.push(x.node); return x.node; }, transformResult: async (x: any) => x.result } as any);
  const it = streamMailable(spy, { dialect: dialect as 'sqlite' | 'postgres', tenantId, listIds: [listId], now, sunsetDays: 180 }, 1000, process.env.PLAN_CURSOR ?? 'con_0000500000');
  await it.next();
  await it.return(undefined);
  const compiled = nodes.map((n) => db.getExecutor().compileQuery(n, { queryId: 'plan' } as any));
  if (dialect === 'postgres') {
    // EXPLAIN cannot show a cursor's plan (DECLARE plans for fast start): print the walk's statements for psql with auto_explain
    console.log("-- in psql: LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; BEGIN; then:");
    for (const c of compiled) if (/^(set local|declare)/i.test(c.sql)) console.log(`${c.sql.replace(/\$(\d+)/g, (_, i) => `'${c.parameters[Number(i) - 1]}'`)};`);
    console.log('FETCH ALL FROM mailable_walk; COMMIT; -- the plan is in the server log');
  } else {
    const c = compiled[compiled.length - 1];
    console.log((await db.executeQuery({ ...c, sql: 'EXPLAIN QUERY PLAN ' + c.sql } as any)).rows);
  }
}
const counts: number[] = [];
let count = 0;
for (let i = 0; i < 3; i++) {
  const s = performance.now();
  count = await a.mailable.count(tenantId, [listId]);
  counts.push(performance.now() - s);
}
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const cpu0 = process.cpuUsage();
const s = performance.now();
let streamed = 0;
let batches = 0;
for await (const batch of a.mailable.stream(tenantId, [listId], { batchSize })) {
  streamed += batch.length;
  if (++batches % 50 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
const streamMs = performance.now() - s;
const cpu = process.cpuUsage(cpu0);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
console.log(JSON.stringify({
  dialect, rows, batchSize, seedSeconds: +seedSeconds.toFixed(1), mailable: count, streamed,
  countMs: counts.map((c) => Math.round(c)), streamMs: Math.round(streamMs), streamCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  rssBeforeStreamMB: +mb(rssBefore), peakRssDuringStreamMB: +mb(peakRss), loadAverage: os.loadavg().map((x) => +x.toFixed(1)),
}));
if (streamed !== count) throw new Error(`streamed ${streamed} but counted ${count}`);
await core.close();
if (dialect === 'postgres') {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
fs.rmSync(dataDir, { recursive: true, force: true });

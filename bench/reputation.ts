// Benchmark: reputation over 1,000,000 events (issue 7: reading every
// indicator of a tenant < 100 ms on SQLite and PostgreSQL; rollups keep up
// with delivery).
//   node --import tsx bench/reputation.ts [--events 1000000] [--dialect sqlite|postgres] [--reads 20]
// Seeds (not measured) 10 tenants, 3 sending domains and 2 streams each, 40
// campaigns for the largest tenant, and recipients' stories over 30 days, in
// time order, written to the event log the way delivery and feedback write them:
// delivered (some deferred first), bounced at delivery (hard and soft),
// blocked, expired, dropped, then asynchronous bounces, opens (a quarter by
// machines), clicks, complaints and unsubscribes after a delivery, to Gmail,
// Yahoo, Microsoft, Orange and others; 30 % of the messages transactional
// (one messages row each). A deterministic generator: the same run twice
// writes the same log. Measured: the rollup of the whole log (events/s), then
// the full report of the largest tenant (every scope's indicators, 7 and 30
// days, daily series, checks, bulk status, recovery windows, actions), read
// --reads times. One JSON line on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { appendEvents, type EventInput, type EventType } from '../src/events/log.ts';
import { newId } from '../src/ids.ts';

const { values: args } = parseArgs({ options: {
  events: { type: 'string', default: '1000000' }, dialect: { type: 'string', default: 'sqlite' }, reads: { type: 'string', default: '20' },
} });
const TARGET = Number(args.events);
const dialect = args.dialect!;
const pgUrl = process.env.ENVOI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_rep_${process.pid}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-bench-'));
const cfg = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, database: dialect === 'postgres' ? { url: pgUrl, schema } : {} } });
if (!cfg.ok) throw new Error(cfg.problems.join('; '));
const core = await openServices(cfg.config);
const { db } = core.store;

// mulberry32: a small deterministic generator
let seed = 42;
const rnd = () => {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];

const DAY = 86_400_000;
const now = Date.now();
const PROVIDERS = [['google', 'gmail.com', 0.35], ['yahoo', 'yahoo.com', 0.15], ['microsoft', 'outlook.com', 0.15], ['orange', 'orange.fr', 0.1], ['default', 'example.net', 0.25]] as const;
const providerFor = () => {
  let r = rnd();
  for (const p of PROVIDERS) if ((r -= p[2]) < 0) return p;
  return PROVIDERS[4];
};

interface Sender { tenantId: string; domains: string[]; streams: { id: string; kind: string }[]; campaigns: { id: string; messageId: string; domain: string; stream: string }[] }
const seedStart = performance.now();
const senders: Sender[] = [];
for (let t = 0; t < 10; t++) {
  const r = await core.services.tenants.create(`bench${t}`);
  if (!r.ok) throw new Error(r.error.detail);
  const tenantId = r.value.tenant.id;
  const domains: string[] = [];
  for (const name of [`news.shop${t}.example`, `mail.shop${t}.example`, `shop${t}.example`]) {
    const d = await core.services.domains.add(tenantId, name);
    if (!d.ok) throw new Error(d.error.detail);
    domains.push(d.value.id);
  }
  const streams = (await core.services.streams.list(tenantId)).map((s) => ({ id: s.id, kind: s.kind }));
  const campaigns = [];
  for (let c = 0; c < (t === 0 ? 40 : 4); c++) {
    const id = newId('cmp', now);
    const messageId = newId('msg', now);
    const domain = pick(domains);
    const stream = streams.find((s) => s.kind === 'marketing')!.id;
    await db.insertInto('messages').values({ id: messageId, tenant_id: tenantId, stream_id: stream, domain_id: domain, message_id: `${id}@x`, from_address: 'news@x', subject: 's', custom_id: null, campaign_id: id, raw: Buffer.alloc(0), size: 0, created_at: now }).execute();
    campaigns.push({ id, messageId, domain, stream });
  }
  senders.push({ tenantId, domains, streams, campaigns });
}

let written = 0;
let pending: EventInput[] = [];
const messages: { id: string; tenant_id: string; stream_id: string; domain_id: string; message_id: string; from_address: string; subject: string; custom_id: null; campaign_id: null; raw: Buffer; size: number; created_at: number }[] = [];
const flush = async () => {
  while (messages.length) await db.insertInto('messages').values(messages.splice(0, 1000)).execute();
  for (let i = 0; i < pending.length; i += 2000) await appendEvents(db, pending.slice(i, i + 2000));
  written += pending.length;
  pending = [];
};
while (written + pending.length < TARGET) {
  const s = rnd() < 0.6 ? senders[0] : pick(senders.slice(1));
  // the log is written in time order: stories spread evenly over 30 days, their later events minutes to a day after
  const at = now - 30 * DAY + Math.floor(((written + pending.length) / TARGET) * 30 * DAY);
  const [provider, domainPart] = providerFor();
  const to = `r${Math.floor(rnd() * 1e9)}@${domainPart}`;
  let messageId: string;
  let campaign: string | null = null;
  if (rnd() < 0.3) {
    messageId = newId('msg', at);
    const stream = s.streams.find((x) => x.kind === 'transactional')!.id;
    messages.push({ id: messageId, tenant_id: s.tenantId, stream_id: stream, domain_id: pick(s.domains), message_id: `${messageId}@x`, from_address: 'hello@x', subject: 's', custom_id: null, campaign_id: null, raw: Buffer.alloc(0), size: 0, created_at: at });
  } else {
    const c = pick(s.campaigns);
    messageId = c.messageId;
    campaign = c.id;
  }
  const recipientId = newId('rcp', at);
  const ev = (type: EventType, dt: number, data: Record<string, unknown>) => pending.push({ tenantId: s.tenantId, messageId, recipientId, type, at: at + dt, data: { to, campaign, ...data } });
  const r = rnd();
  if (r < 0.86) {
    if (r >= 0.80) ev('deferred', 0, { provider, code: 451 });
    ev('delivered', 60_000, { provider, code: 250 });
    const after = rnd();
    if (after < 0.01) ev('bounced', 3600_000, { async: true, hard: true, category: 'unknown-user' });
    if (rnd() < 0.2) ev('opened', 7200_000, rnd() < 0.25 ? { machine: true } : {});
    if (rnd() < 0.05) ev('clicked', 7300_000, { url: 'https://shop.example/x' });
    if (rnd() < 0.0008) ev('complained', 86_000_000, { feedbackType: 'abuse', source: 'bounce' });
    if (rnd() < 0.004) pending.push({ tenantId: s.tenantId, messageId: newId('con', at), type: 'unsubscribed', at: at + 9000_000, data: { list: 'lst_x', source: 'one-click' } });
  } else if (r < 0.92) {
    ev('bounced', 60_000, { provider, classification: { kind: 'bounced', category: rnd() < 0.6 ? 'unknown-user' : 'mailbox-full', hard: rnd() < 0.6 } });
  } else if (r < 0.94) {
    ev('blocked', 60_000, { provider, classification: { kind: 'blocked', category: 'policy', permanent: true } });
  } else if (r < 0.95) {
    ev('expired', 60_000, { provider, reason: 'expired' });
  } else {
    ev('dropped', 0, { reason: 'suppressed (hard_bounce)' });
  }
  if (pending.length >= 20_000) await flush();
}
await flush();
if (dialect === 'postgres') await sql`ANALYZE`.execute(db);
const seedSeconds = (performance.now() - seedStart) / 1000;

// the rollup of the whole log, as the loop would do it (pass after pass), with the rules on what each pass changed
const cpu0 = process.cpuUsage();
const r0 = performance.now();
await core.services.reputation.catchUp();
const rollupSeconds = (performance.now() - r0) / 1000;
const rollupCpu = process.cpuUsage(cpu0);
const counterRows = Number((await db.selectFrom('reputation_counters').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
if (dialect === 'postgres') await sql`ANALYZE`.execute(db);

// reading every indicator of the largest tenant
const reads = Number(args.reads);
const times: number[] = [];
let report;
for (let i = 0; i < reads + 2; i++) {
  const s = performance.now();
  report = await core.services.reputation.report(senders[0].tenantId);
  if (i >= 2) times.push(performance.now() - s); // two warm-up reads
}
times.sort((a, b) => a - b);
const tenantScope = report!.scopes.find((x) => x.scope === 'tenant')!;
const small = [];
for (const s of senders.slice(1, 4)) {
  const t0 = performance.now();
  await core.services.reputation.report(s.tenantId);
  small.push(Math.round(performance.now() - t0));
}
console.log(JSON.stringify({
  dialect, events: written, seedSeconds: +seedSeconds.toFixed(1),
  rollupSeconds: +rollupSeconds.toFixed(1), rollupEventsPerSecond: Math.round(written / rollupSeconds), rollupCpuSeconds: +((rollupCpu.user + rollupCpu.system) / 1e6).toFixed(1),
  counterRows, scopes: report!.scopes.length, tenantEvents30d: tenantScope.window.sent,
  reportMs: { median: +times[Math.floor(times.length / 2)].toFixed(1), p95: +times[Math.floor(times.length * 0.95) - 1 < 0 ? 0 : Math.min(times.length - 1, Math.floor(times.length * 0.95))].toFixed(1), max: +times[times.length - 1].toFixed(1) },
  smallerTenantsReportMs: small, actions: report!.actions.length,
}));
await core.close();
if (dialect === 'postgres') {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
fs.rmSync(dataDir, { recursive: true, force: true });

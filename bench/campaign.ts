// Benchmark: a campaign delivered end to end through envoi (issue 5).
//
//   node --import tsx bench/campaign.ts [--recipients 100000] [--dialect sqlite|postgres]
//        [--concurrency 100] [--refs 20000] [--sessions 50] [--sink /path/to/smtp-sink]
//        [--workers 1] [--profile DIR] [--api-clients 200]
//
// Postfix's smtp-sink listens on 127.0.0.1 (no TLS); a loopback DNS server
// routes 20 test domains to it, each through its own MX name (20 egress
// paths of the "default" provider, 5 connections each as shipped; the bench
// only turns that provider's TLS to opportunistic, since the sink has none).
// A tenant with a verified domain (RSA-2048 + Ed25519 DKIM), a profile, a
// list of N contacts (seeded with set-based SQL, not measured) and an HTML
// newsletter; the campaign is created and submitted through the services,
// then a separate worker process (`startDelivery`: the campaign runner and
// one delivery worker, as `envoi worker` runs them) enqueues and delivers it.
// Measured from scheduling to the campaign's completion: messages/s, the
// worker's CPU per 1,000 messages and its peak RSS (its own process, so the
// seeding does not count), plus the CPU of the sink and of PostgreSQL.
// References in the same run, to the same sink: smtp-source sending a copy of
// one of envoi's messages (-F, same bytes) over `--sessions` reused sessions,
// and a nodemailer pool (maxConnections = --sessions) sending the same
// personalised HTML composed (MailComposer) and DKIM-signed (RSA; nodemailer
// skips Ed25519) by nodemailer itself. With --api-clients, the main process
// also serves envoi's HTTPS API (as `envoi up` with embeddedWorkers off) and
// bench/api-load.ts keeps that many requests in flight against it from its
// own process while the campaign sends: latency percentiles in `api`.
// One JSON line on stdout.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { openServices, startApp, startDelivery } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { compileTemplate, renderTemplate } from '../src/compose/templates/index.ts';
import { startDnsServer } from '../test/peers/dns.ts';

const { values: args } = parseArgs({ options: {
  role: { type: 'string', default: 'main' }, config: { type: 'string' }, campaign: { type: 'string' },
  recipients: { type: 'string', default: '100000' }, dialect: { type: 'string', default: 'sqlite' },
  concurrency: { type: 'string', default: '100' }, refs: { type: 'string', default: '20000' }, sessions: { type: 'string', default: '50' },
  sink: { type: 'string' }, keep: { type: 'boolean', default: false }, workers: { type: 'string', default: '1' },
  profile: { type: 'string' }, 'api-clients': { type: 'string', default: '0' },
} });

const DOMAINS = Array.from({ length: 20 }, (_, i) => `d${i}.example`);
const SUBJECT = 'Hello {{ contact.first_name | default: "there" }}, the spring collection is here';
const PARAS = [
  'Our spring collection is in the shop: washed linen in four new colours, hand-thrown stoneware from a workshop in Limousin, and the first plants of the season.',
  'As a member you get 15% off everything new until 30 April with the code SPRING15, in store and online. Free delivery from 60 euros, carbon-neutral.',
  'We spent a week with Claire and Mathieu, who throw every bowl of the collection by hand. Read their story in the journal, with photographs from the kiln.',
  'Cold wash, line dry, never iron: five habits that keep linen soft for twenty years. Our guide to caring for washed linen is online.',
];
const PRODUCTS = ['Washed linen throw, sage', 'Stoneware bowls, set of four', 'Olive tree, 80 cm', 'Linen napkins, set of four', 'Oat mug', 'Fig tree'];
const HTML = `<!doctype html><html><body style="margin:0;background:#f3f5f1;font-family:Helvetica,Arial,sans-serif;color:#2d3b36">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center"><table role="presentation" width="620" cellpadding="0" cellspacing="0" style="background:#ffffff">
<tr><td style="padding:24px"><h1 style="font-size:26px;margin:0 0 12px">Hello {{ contact.first_name | default: "there" }}, spring has arrived</h1>
${PARAS.map((p) => `<p style="font-size:15px;line-height:23px;margin:0 0 12px">${p}</p>`).join('\n')}
<p style="margin:18px 0"><a href="https://shop.example/spring?utm_campaign=spring" style="background:#1f6f50;color:#ffffff;padding:12px 26px;border-radius:6px;text-decoration:none">Discover the collection</a></p></td></tr>
${PRODUCTS.map((p, i) => `<tr><td style="padding:8px 24px;border-bottom:1px solid #e3e8e4"><a href="https://shop.example/p/${i}?utm_campaign=spring" style="color:#2d3b36;font-weight:600;text-decoration:none">${p}</a><br><span style="color:#7a8a84;font-size:12px">New this season{% if contact.city %}, in our {{ contact.city }} store{% endif %}</span></td><td style="padding:8px 24px;text-align:right;color:#1f6f50;font-weight:700">€ ${29 + i * 15}</td></tr>`).join('\n')}
<tr><td style="padding:24px;font-size:13px;color:#7a8a84">Member no. {{ contact.member_id | default: "-" }}. You have {{ contact.points | default: 0 }} green points. Shop SARL, 12 rue de la Paix, 75002 Paris.</td></tr>
</table></td></tr></table></body></html>`;

const mb = (b: number) => Math.round(b / 1024 / 1024);
const round = (x: number, d = 1) => Number(x.toFixed(d));
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** user+system seconds of processes, from /proc (the sink, PostgreSQL's backends) */
function procCpuSeconds(match: (cmd: string, pid: number) => boolean): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!match(cmd, Number(pid))) continue;
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / 100;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function findSink(): string {
  const candidates = [args.sink, '/usr/sbin/smtp-sink', '/tmp/postfix-deb/root/usr/sbin/smtp-sink'].filter(Boolean) as string[];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error('smtp-sink not found: apt-get install postfix (or extract the .deb with dpkg-deb -x) and pass --sink');
  return found;
}
/** the .deb extracted by hand keeps its shared libraries beside the binaries */
const postfixEnv = (bin: string) => ({ ...process.env, LD_LIBRARY_PATH: path.resolve(path.dirname(bin), '../lib/postfix') });

function startSink(bin: string, port: number): ChildProcess {
  const p = spawn(bin, ['-u', 'nobody', `127.0.0.1:${port}`, '1024'], { env: postfixEnv(bin), stdio: 'ignore' });
  process.on('exit', () => p.kill());
  return p;
}

// ---------------------------------------------------------------- the DNS server
// In a process of its own: in the API process a busy event loop answered
// too late and the workers' MX lookups timed out (every recipient deferred).
if (args.role === 'dns') {
  const server = await startDnsServer(JSON.parse(args.config!));
  process.send!({ address: server.address });
  process.on('disconnect', () => process.exit(0));
} else if (args.role === 'worker') {
  const cfg = loadConfig({ env: {}, overrides: JSON.parse(args.config!) as ConfigInput });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const core = await openServices(cfg.config);
  const delivery = await startDelivery(core);
  const profiler = args.profile ? new inspector.Session() : undefined;
  if (profiler) {
    profiler.connect();
    await new Promise((r) => profiler.post('Profiler.enable', () => profiler.post('Profiler.start', r)));
  }
  const cpu0 = process.cpuUsage();
  // a stalled event loop delays every reply the worker waits for (DNS, SMTP, the database)
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let peakRss = process.memoryUsage().rss;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    samples.push(mb(rss));
  }, 1000);
  process.send!({ ready: true });
  process.on('message', async (m: { stop?: boolean }) => {
    if (!m.stop) return;
    clearInterval(sampler);
    const cpu = cpuSeconds(process.cpuUsage(cpu0));
    if (profiler) {
      const { profile } = await new Promise<{ profile: object }>((r) => profiler.post('Profiler.stop', (_e, res) => r(res as never)));
      fs.mkdirSync(args.profile!, { recursive: true });
      fs.writeFileSync(path.join(args.profile!, `worker-${process.pid}.cpuprofile`), JSON.stringify(profile));
    }
    await delivery.stop();
    await core.close();
    process.send!({ cpuSeconds: cpu, peakRssMB: mb(peakRss), maxRssMB: mb(process.resourceUsage().maxRSS * 1024), rssSamplesMB: samples, loopDelayMs: { p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) } }, () => process.exit(0));
  });
} else {
  await main();
}

async function main() {
  const n = Number(args.recipients);
  const dialect = args.dialect as 'sqlite' | 'postgres';
  const pgUrl = process.env.ENVOI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${process.pid}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-bench-campaign-'));
  const sinkBin = findSink();
  const sinkPort = await freePort();
  const sink = startSink(sinkBin, sinkPort);
  const zone: Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[]; TXT?: string[] }> = {};
  DOMAINS.forEach((d, i) => {
    zone[d] = { MX: [{ exchange: `mx${i}.sink.test`, priority: 10 }] };
    zone[`mx${i}.sink.test`] = { A: ['127.0.0.1'] };
  });
  const dns = await startDnsServer(zone);
  const overrides: ConfigInput = {
    dataDir, hostname: 'mta.bench.test', log: { level: 'warn' }, dns: { servers: [dns.address] },
    // an established sender: no review cap for a new tenant (MJ-10), no warm-up ramp (GM-13)
    reputation: { review: { enabled: false } },
    database: dialect === 'postgres' ? { url: pgUrl, schema } : {},
    delivery: {
      mode: 'smtp', port: sinkPort, concurrency: Number(args.concurrency), warmup: { enabled: false },
      // the sink speaks no STARTTLS: this bench (only) lets the default provider send in clear
      providers: { default: { tls: 'opportunistic', ratePerMinute: 1e9 } },
    },
  } as ConfigInput;
  const apiClients = Number(args['api-clients']);
  // the API process: its own ports, no delivery of its own (the forked workers deliver)
  const apiOverrides = { ...overrides, http: { host: '127.0.0.1', port: 0 }, submission: { host: '127.0.0.1', port: 0 }, inbound: { host: '127.0.0.1', port: 0 },
    delivery: { ...overrides.delivery, embeddedWorkers: false } } as ConfigInput;
  const cfg = loadConfig({ env: {}, overrides: apiClients > 0 ? apiOverrides : overrides });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const core = apiClients > 0 ? await startApp(cfg.config) : await openServices(cfg.config);
  const { db } = core.store;
  const s = core.services;
  const must = <T>(r: { ok: true; value: T } | { ok: false; error: { detail: string } }): T => {
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  };

  // ------------------------------------------------------------ seeding
  const seed0 = performance.now();
  const tenantId = must(await s.tenants.create('bench')).tenant.id;
  const domain = must(await s.domains.add(tenantId, 'shop.example'));
  // what the sender publishes: the records envoi prints, and an MX for the From domain
  zone['mta.bench.test'] = { A: ['127.0.0.1'] };
  zone['shop.example'] = { MX: [{ exchange: 'mta.bench.test', priority: 10 }] };
  dns.set('mta.bench.test', zone['mta.bench.test']);
  dns.set('shop.example', zone['shop.example']);
  for (const r of await s.domains.records(domain)) {
    const z = (zone[r.name] ??= {});
    if (r.type === 'TXT') (z.TXT ??= []).push(r.value);
    if (r.type === 'MX') (z.MX ??= []).push({ priority: Number(r.value.split(' ')[0]), exchange: r.value.split(' ')[1] });
    dns.set(r.name, z);
  }
  must(await s.domains.verify(domain, s.resolver));
  must(await s.profiles.set(tenantId, { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' }));
  const list = must(await s.audience.lists.create(tenantId, { name: 'members', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Send me Shop News', optIn: 'single' }));
  await seedContacts(db, dialect, tenantId, list.id, n);
  must(await s.campaigns.templates.create(tenantId, 'spring', { format: 'html', subject: SUBJECT, body: HTML }));
  const campaign = must(await s.campaigns.lifecycle.create(tenantId, { name: 'Spring', template: 'spring', lists: ['members'] }));
  const submitted = must(await s.campaigns.lifecycle.submit(tenantId, campaign.id));
  if (submitted.status !== 'approved') throw new Error(`campaign ${submitted.status}: ${submitted.verdict}`);
  const mailable = await s.audience.mailable.count(tenantId, [list.id]);
  log(`seeded ${n} contacts (${mailable} mailable) in ${round((performance.now() - seed0) / 1000)} s`);

  // ------------------------------------------------------------ envoi, end to end
  // `--workers` delivery processes (each `startDelivery`: a runner and a worker, as `envoi worker`), --profile: V8 CPU profiles of them
  // the zone as seeded, served from its own process to the delivery side
  const dnsChild = fork(new URL(import.meta.url).pathname, ['--role', 'dns', '--config', JSON.stringify(zone)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const dnsAddress = await new Promise<string>((r) => dnsChild.once('message', (m) => r((m as { address: string }).address)));
  const workerOverrides = { ...overrides, dns: { servers: [dnsAddress] } } as ConfigInput;
  const workers = Array.from({ length: Number(args.workers) }, () =>
    fork(new URL(import.meta.url).pathname, ['--role', 'worker', '--config', JSON.stringify(workerOverrides), ...(args.profile ? ['--profile', path.resolve(args.profile)] : [])],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  // the API process's event loop: a synchronous wait (SQLite's busy handler) shows here as delay
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const apiProfiler = apiClients > 0 && args.profile ? new inspector.Session() : undefined;
  if (apiProfiler) {
    apiProfiler.connect();
    await new Promise((r) => apiProfiler.post('Profiler.enable', () => apiProfiler.post('Profiler.start', r)));
  }
  const load = apiClients > 0 ? await startApiLoad(core as Awaited<ReturnType<typeof startApp>>, tenantId, campaign.id, list.id, n, apiClients) : null;
  const isPg = (cmd: string) => /^postgres: /.test(cmd);
  const sinkCpu0 = procCpuSeconds((_c, pid) => pid === sink.pid);
  const pgCpu0 = dialect === 'postgres' ? procCpuSeconds(isPg) : 0;
  const loadAvg = os.loadavg().map((x) => round(x, 2));
  const t0 = performance.now();
  must(await s.campaigns.lifecycle.schedule(tenantId, campaign.id));
  let lastLog = t0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const c = await db.selectFrom('campaigns').select(['status', 'enqueued']).where('id', '=', campaign.id).executeTakeFirstOrThrow();
    if (c.status === 'completed') break;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      const p = await s.campaigns.progress(campaign.id);
      log(`enqueued ${c.enqueued}, ${JSON.stringify(p)}, ${Math.round((p.delivered ?? 0) / ((lastLog - t0) / 1000))} msg/s`);
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  const api = load ? await load.stop() : null;
  loopDelay.disable();
  if (apiProfiler) {
    const { profile } = await new Promise<{ profile: object }>((r) => apiProfiler.post('Profiler.stop', (_e, res) => r(res as never)));
    fs.mkdirSync(args.profile!, { recursive: true });
    fs.writeFileSync(path.join(args.profile!, `api-${process.pid}.cpuprofile`), JSON.stringify(profile));
  }
  if (api) {
    api.eventLoopDelayMs = { p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) };
    log(`API under ${apiClients} clients: ${JSON.stringify(api.overallMs)}, event loop delay ${JSON.stringify(api.eventLoopDelayMs)}`);
  }
  const sinkCpu = procCpuSeconds((_c, pid) => pid === sink.pid) - sinkCpu0;
  const pgCpu = dialect === 'postgres' ? procCpuSeconds(isPg) - pgCpu0 : 0;
  const loadAvgEnd = os.loadavg().map((x) => round(x, 2));
  type WorkerReport = { cpuSeconds: number; peakRssMB: number; maxRssMB: number; rssSamplesMB: number[]; loopDelayMs: { p99: number; max: number } };
  const reports = await Promise.all(workers.map((worker) => {
    worker.send({ stop: true });
    return new Promise<WorkerReport>((r) => worker.once('message', r as never));
  }));
  const w = {
    cpuSeconds: reports.reduce((a, x) => a + x.cpuSeconds, 0), peakRssMB: Math.max(...reports.map((x) => x.peakRssMB)),
    maxRssMB: Math.max(...reports.map((x) => x.maxRssMB)), rssSamplesMB: reports[0].rssSamplesMB,
    loopDelayMs: { p99: Math.max(...reports.map((x) => x.loopDelayMs.p99)), max: Math.max(...reports.map((x) => x.loopDelayMs.max)) },
  };
  const progress = await s.campaigns.progress(campaign.id);
  // attempts that did not deliver (a lost DNS reply, a stalled worker): each is a retry minutes later
  const deferred = Number((await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'deferred').executeTakeFirstOrThrow()).n);
  const delivered = progress.delivered ?? 0;
  log(`envoi: ${delivered} delivered in ${round(wallS)} s: ${Math.round(delivered / wallS)} msg/s, ${JSON.stringify(progress)}`);

  // one of envoi's messages, for the references' size (and smtp-source's content)
  const row = await db.selectFrom('recipients').selectAll().where('campaign_id', '=', campaign.id).limit(1).executeTakeFirstOrThrow();
  const sample = await s.campaigns.dispatch.decide(row);
  if (!('deliver' in sample)) throw new Error('could not compose a sample message');
  const messageBytes = sample.deliver.length;

  // ------------------------------------------------------------ references
  const refN = Number(args.refs);
  const sessions = Number(args.sessions);
  const source = refN > 0 ? await runSmtpSource(sinkBin, sinkPort, refN, sessions, sample.deliver) : null;
  const pool = refN > 0 ? await runNodemailerPool(sinkPort, refN, sessions, domain.name, await s.domains.signingKeys(domain)) : null;

  const rate = Math.round(delivered / wallS);
  console.log(JSON.stringify({
    bench: 'campaign', dialect, recipients: n, mailable, node: process.version, cpus: os.availableParallelism(), loadAvgAtStart: loadAvg, loadAvgAtEnd: loadAvgEnd,
    envoi: {
      delivered, seconds: round(wallS), msgPerSec: rate, workers: workers.length, concurrency: Number(args.concurrency), messageBytes,
      workerCpuSeconds: round(w.cpuSeconds), cpuSecondsPer1000: round(w.cpuSeconds / delivered * 1000, 2),
      sinkCpuSeconds: round(sinkCpu), postgresCpuSeconds: dialect === 'postgres' ? round(pgCpu) : undefined,
      workerPeakRssMB: w.peakRssMB, workerMaxRssMB: w.maxRssMB, rssSamplesMB: sample10(w.rssSamplesMB),
      workerLoopDelayMs: w.loopDelayMs, deferred,
    },
    ...(api ? { api } : {}),
    smtpSource: source, nodemailerPool: pool,
    ratioToNodemailer: pool ? round(rate / pool.msgPerSec, 2) : null,
    ratioToSmtpSource: source ? round(rate / source.msgPerSec, 3) : null,
  }));

  sink.kill();
  await dns.close();
  dnsChild.kill();
  await core.close();
  if (dialect === 'postgres') {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
  if (!args.keep) fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

/** bench/api-load.ts in its own process, with a key of the tenant; stop() returns its report */
async function startApiLoad(app: Awaited<ReturnType<typeof startApp>>, tenantId: string, campaignId: string, listId: string, contacts: number, clients: number) {
  const key = await app.services.keys.create(tenantId, 'bench api load');
  const child = fork(new URL('./api-load.ts', import.meta.url).pathname, [
    '--url', app.httpUrl.replace(/^https:\/\/[^:/]+/, 'https://localhost'), '--token', key.token, '--campaign', campaignId, '--list', listId,
    '--contacts', String(contacts), '--clients', String(clients),
  ], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('message', r));
  return {
    stop: () => new Promise<Record<string, unknown> & { overallMs: unknown }>((resolve) => {
      child.once('message', (m) => resolve(m as never));
      child.send({ stop: true });
    }),
  };
}

/** about ten points of the worker's RSS curve, evenly spaced */
function sample10(xs: number[]): number[] {
  if (xs.length <= 10) return xs;
  return Array.from({ length: 10 }, (_, i) => xs[Math.round((i * (xs.length - 1)) / 9)]);
}

async function seedContacts(db: Awaited<ReturnType<typeof openServices>>['store']['db'], dialect: string, tenantId: string, listId: string, rows: number) {
  const now = Date.now();
  const DAY = 86_400_000;
  const first = `'Anne','Bruno','Chloé','David','Élodie','Hugo','Inès','Julien','Léa','Marc'`;
  if (dialect === 'postgres') {
    await sql`INSERT INTO contacts (id, tenant_id, email, address_hash, domain, fields, status, last_engaged_at, created_at, updated_at)
      SELECT 'con_' || lpad(i::text, 10, '0'), ${tenantId}, 'member' || i || '@d' || (i % 20) || '.example', md5('member' || i), 'd' || (i % 20) || '.example',
        '{"first_name":"' || (ARRAY[${sql.raw(first)}])[1 + i % 10] || '","member_id":"MV-' || i || '","points":' || (i * 37 % 900) || ',"city":"Lyon"}', 'active',
        ${now - DAY}::bigint, ${now - 300 * DAY}::bigint, ${now}::bigint FROM generate_series(1, ${rows}) AS i`.execute(db);
    await sql`INSERT INTO consent_records (id, tenant_id, contact_id, list_id, source, collected_at, opt_in, created_at)
      SELECT 'cns_' || lpad(i::text, 10, '0'), ${tenantId}, 'con_' || lpad(i::text, 10, '0'), ${listId}, 'import', ${now - 300 * DAY}::bigint, 'single', ${now}::bigint FROM generate_series(1, ${rows}) AS i`.execute(db);
    await sql`INSERT INTO subscriptions (contact_id, list_id, tenant_id, status, consent_id, quarantined, created_at, confirmed_at, updated_at)
      SELECT 'con_' || lpad(i::text, 10, '0'), ${listId}, ${tenantId}, 'subscribed', 'cns_' || lpad(i::text, 10, '0'), 0, ${now}::bigint, ${now}::bigint, ${now}::bigint FROM generate_series(1, ${rows}) AS i`.execute(db);
    await sql`ANALYZE`.execute(db);
  } else {
    const gen = sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})`;
    await sql`${gen} INSERT INTO contacts (id, tenant_id, email, address_hash, domain, fields, status, last_engaged_at, created_at, updated_at)
      SELECT 'con_' || printf('%010d', i), ${tenantId}, 'member' || i || '@d' || (i % 20) || '.example', 'h' || i, 'd' || (i % 20) || '.example',
        '{"first_name":"' || (CASE i % 4 WHEN 0 THEN 'Anne' WHEN 1 THEN 'Bruno' WHEN 2 THEN 'Chloé' ELSE 'Hugo' END) || '","member_id":"MV-' || i || '","points":' || (i * 37 % 900) || ',"city":"Lyon"}', 'active',
        ${now - DAY}, ${now - 300 * DAY}, ${now} FROM n`.execute(db);
    await sql`${gen} INSERT INTO consent_records (id, tenant_id, contact_id, list_id, source, collected_at, opt_in, created_at)
      SELECT 'cns_' || printf('%010d', i), ${tenantId}, 'con_' || printf('%010d', i), ${listId}, 'import', ${now - 300 * DAY}, 'single', ${now} FROM n`.execute(db);
    await sql`${gen} INSERT INTO subscriptions (contact_id, list_id, tenant_id, status, consent_id, quarantined, created_at, confirmed_at, updated_at)
      SELECT 'con_' || printf('%010d', i), ${listId}, ${tenantId}, 'subscribed', 'cns_' || printf('%010d', i), 0, ${now}, ${now}, ${now} FROM n`.execute(db);
    await sql`ANALYZE`.execute(db);
  }
}

/** Postfix's smtp-source: a copy of envoi's message (same bytes), `sessions` parallel reused sessions. */
async function runSmtpSource(sinkBin: string, port: number, count: number, sessions: number, message: Buffer) {
  const bin = path.join(path.dirname(sinkBin), 'smtp-source');
  const file = path.join(os.tmpdir(), `envoi-bench-msg-${process.pid}.eml`);
  // -F sends the file's lines with CRLF appended: give it LF line ends
  fs.writeFileSync(file, message.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const argv = ['-d', '-s', String(sessions), '-m', String(count), '-F', file, '-f', 'bounce@shop.example', '-t', 'member@d0.example', '-M', 'mta.bench.test', `127.0.0.1:${port}`];
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => spawn(bin, argv, { env: postfixEnv(bin), stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)));
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(file, { force: true });
  if (code !== 0) throw new Error(`smtp-source exited ${code}`);
  log(`smtp-source: ${count} in ${round(seconds)} s`);
  return { messages: count, sessions, seconds: round(seconds, 2), msgPerSec: Math.round(count / seconds), command: `smtp-source ${argv.join(' ')}` };
}

/** What a developer would write by hand: a nodemailer pool, the HTML personalised with Liquid, MIME and DKIM by nodemailer. */
async function runNodemailerPool(port: number, count: number, sessions: number, domainName: string, keys: { selector: string; algorithm: string; privateKey: unknown }[]) {
  const rsa = keys.find((k) => k.algorithm === 'rsa-sha256')!;
  const pem = typeof rsa.privateKey === 'string' ? rsa.privateKey : (rsa.privateKey as { export(o: object): string }).export({ type: 'pkcs8', format: 'pem' });
  const transport = nodemailer.createTransport({
    pool: true, maxConnections: sessions, maxMessages: Infinity, host: '127.0.0.1', port, secure: false, ignoreTLS: true,
    dkim: { domainName, keySelector: rsa.selector, privateKey: pem },
  });
  const tpl = await compileTemplate({ format: 'html', subject: SUBJECT, body: HTML }, {});
  if (!tpl.ok) throw new Error(tpl.error.detail);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  const one = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const contact = { first_name: 'Anne', member_id: `MV-${i}`, points: (i * 37) % 900, city: 'Lyon', email: `member${i}@d${i % 20}.example` };
      const r = renderTemplate(tpl.value, { contact });
      if (!r.ok) throw new Error(r.error.detail);
      const info = await transport.sendMail({
        from: { name: 'Shop News', address: `news@${domainName}` }, to: contact.email, subject: r.value.subject, html: r.value.html, text: r.value.text,
        envelope: { from: `bounce@${domainName}`, to: contact.email },
        headers: { 'List-Unsubscribe': `<https://shop.example/u/${i}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
      bytes += (info as { messageSize?: number }).messageSize ?? 0;
    }
  };
  await Promise.all(Array.from({ length: sessions * 2 }, one));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  transport.close();
  log(`nodemailer pool: ${count} in ${round(seconds)} s`);
  return { messages: count, maxConnections: sessions, seconds: round(seconds, 2), msgPerSec: Math.round(count / seconds), cpuSecondsPer1000: round(cpu / count * 1000, 2), messageBytes: bytes ? Math.round(bytes / count) : undefined };
}

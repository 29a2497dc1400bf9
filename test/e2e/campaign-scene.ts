// The stage of the crash and scale-out proofs: an API-only envoi in smtp
// mode (delivery.embeddedWorkers off) in the test process, a list of
// recipients spread over loopback "providers" (scripted SMTP peers with
// STARTTLS from a test CA, behind MX records of a loopback DNS server), a
// campaign to them, and real `envoi worker` child processes on the same
// store. The peers are in the test process: they count what each recipient
// received, by Message-ID, however many workers died or ran at once.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { zoneFromRecords } from '../helpers/zone.ts';
import type { Dialect } from '../helpers/store.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startPeer, type Peer } from '../peers/smtp-peer.ts';

const BIN = new URL('../../bin/envoi.mjs', import.meta.url).pathname;
export const REDIS_URL = process.env.ENVOI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** the connection cap of each peer's egress path (the "default" provider's, configured) */
export const SESSION_CAP = 10;

/** n loopback addresses from 127.0.0.<first> */
export const loopbacks = (first: number, n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);

export interface WorkerProcess {
  child: ChildProcess;
  /** its worker id, once it says it is up */
  id: Promise<string>;
  /** the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
  output(): string;
}

export interface Scene {
  t: TestApp;
  /** the sending tenant's API token */
  token: string;
  peers: Peer[];
  /** the recipients' addresses */
  addresses: string[];
  /** creates, submits and schedules a campaign to the whole list; its id */
  campaign(name: string): Promise<string>;
  /** waits until the campaign is completed */
  completed(id: string, timeoutMs?: number): Promise<void>;
  /** what the peers received of a campaign: copies per Message-ID and per recipient */
  tally(campaignId: string): { messages: number; byMessageId: Map<string, number>; byAddress: Map<string, number> };
  worker(): WorkerProcess;
  /** `envoi up` on the same store, listeners on free ports, no delivery workers: its inbound SMTP port once it is up */
  server(): WorkerProcess & { inboundPort: Promise<number> };
  /** the owners of the connection slots held in Redis now ("<host>:<pid>:<uuid>"; with redis only) */
  slotHolders(): Promise<string[]>;
  close(): Promise<void>;
}

export interface SceneOptions {
  recipients: number;
  /** loopback addresses of the peers, one recipient domain each */
  hosts: string[];
  /** workers share their limits through Redis (a random key prefix per scene) */
  redis?: boolean;
  /** the Redis URL they use (default REDIS_URL; a test puts a cuttable proxy there) */
  redisUrl?: string;
}

export async function startScene(dialect: Dialect, o: SceneOptions): Promise<Scene> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-scene-'));
  const ca = await createTestCa();
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.caPem);
  const peers: Peer[] = [];
  const zone: Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[] }> = {};
  for (const [i, host] of o.hosts.entries()) {
    const mx = `mx.r${i}.test`;
    peers.push(await startPeer({ host, port: peers[0]?.port ?? 0, tls: await ca.issue([mx]) }));
    zone[`r${i}.test`] = { MX: [{ exchange: mx, priority: 10 }] };
    zone[mx] = { A: [host] };
  }
  const dns: DnsServer = await startDnsServer(zone);
  const prefix = `envoi-test:${crypto.randomBytes(6).toString('hex')}:`;
  const shared = {
    hostname: 'mta.envoi.test',
    dns: { servers: [dns.address] },
    ...(o.redis ? { redis: { url: o.redisUrl ?? REDIS_URL, prefix } } : {}),
    // the tenant is new, so in review with a daily cap (MJ-10): a scene bigger than the cap
    // (the full-size kill run, 50,000 recipients) would wait for the next UTC day
    ...(o.recipients > 4_000 ? { reputation: { review: { dailyCap: o.recipients * 2 } } } : {}),
  };
  // warm-up off: a few thousand recipients on a new domain would otherwise wait for tomorrow
  const delivery = { mode: 'smtp' as const, port: peers[0].port, caFile, pollMs: 50, warmup: { enabled: false }, providers: { default: { maxConnections: SESSION_CAP, ratePerMinute: 60_000 } } };
  const t = await startTestApp(dialect, { ...shared, delivery: { ...delivery, embeddedWorkers: false } });
  // the workers' configuration: the same store (t.cliEnv), the same peers
  const configFile = path.join(dir, 'worker.json');
  fs.writeFileSync(configFile, JSON.stringify({ ...shared, delivery }));
  const serverConfigFile = path.join(dir, 'server.json');
  fs.writeFileSync(serverConfigFile, JSON.stringify({
    ...shared, delivery: { ...delivery, embeddedWorkers: false },
    http: { host: '127.0.0.1', port: 0 }, submission: { host: '127.0.0.1', port: 0 }, inbound: { host: '127.0.0.1', port: 0 },
  }));

  const acme = await tenantWithDomain(t, 'acme', 'shop.example');
  const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
  for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
  assert.equal((await api('POST', '/v1/domains/shop.example/verify')).status, 200);
  await api('PUT', '/v1/profile', { organisation: 'Shop SARL', postalAddress: '1 rue X, 75001 Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example', timezone: 'Europe/Paris' });
  assert.equal((await api('POST', '/v1/lists', { name: 'all', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'News from Shop', optIn: 'single' })).status, 201);
  assert.equal((await api('POST', '/v1/templates', { name: 'news', format: 'html', subject: 'News from Shop', body: '<p>Hello, here is our news of the week. Shop SARL</p>' })).status, 201);
  const addresses = Array.from({ length: o.recipients }, (_, i) => `person${i}@r${i % o.hosts.length}.test`);
  const csv = ['email', ...addresses].join('\n') + '\n';
  const prov = 'list=all&source=customer&collectedAt=2026-05-01T00:00:00Z&method=single&consentText=News%20from%20Shop';
  const up = await t.api('POST', `/v1/imports?${prov}`, { token: acme.token, rawBody: csv, headers: { 'content-type': 'text/csv' } });
  assert.equal(up.status, 202, up.text);
  await eventually(async () => (await api('GET', '/v1/imports?list=all')).body.data.find((i: { status: string }) => i.status === 'completed'), 30_000);
  assert.equal((await api('POST', '/v1/audience/count', { lists: ['all'] })).body.mailable, o.recipients);

  const workers: WorkerProcess[] = [];
  /** an envoi child process on the scene's store; ready resolves with its output once it said it is up */
  function spawnEnvoi(command: 'worker' | 'up', config: string): Omit<WorkerProcess, 'id'> & { ready: Promise<string> } {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENVOI_')));
    const child = spawn(process.execPath, [BIN, command], { env: { ...base, ...t.cliEnv, ENVOI_CONFIG: config }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const upLine = command === 'worker' ? /envoi worker \S+ is up/ : /inbound SMTP \(bounces\)\s+\S+:\d+/;
    const ready = new Promise<string>((resolve, reject) => {
      const seen = () => {
        if (upLine.test(out)) resolve(out);
      };
      child.stdout!.on('data', seen);
      void exited.then((code) => reject(new Error(`envoi ${command} exited (${code}) before it was up:\n${out}`)));
    });
    ready.catch(() => {});
    const w = { child, id: ready, exited, output: () => out };
    workers.push(w);
    return { child, exited, output: () => out, ready };
  }
  return {
    t, peers, addresses, token: acme.token,
    async campaign(name) {
      const c = await api('POST', '/v1/campaigns', { name, template: 'news', lists: ['all'] });
      assert.equal(c.status, 201, c.text);
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/submit`)).body.status, 'approved');
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {})).body.status, 'scheduled');
      return c.body.id as string;
    },
    async completed(id, timeoutMs = 60_000) {
      await eventually(async () => (await api('GET', `/v1/campaigns/${id}`)).body.status === 'completed', timeoutMs);
    },
    tally(campaignId) {
      const byMessageId = new Map<string, number>();
      const byAddress = new Map<string, number>();
      let messages = 0;
      for (const p of peers) {
        for (const r of p.received) {
          const head = r.raw.subarray(0, r.raw.indexOf('\r\n\r\n')).toString('latin1');
          if (!head.includes(`Feedback-ID: ${campaignId}:`)) continue;
          messages++;
          const mid = /^Message-ID: <([^>]+)>/im.exec(head)![1];
          byMessageId.set(mid, (byMessageId.get(mid) ?? 0) + 1);
          for (const to of r.to) byAddress.set(to, (byAddress.get(to) ?? 0) + 1);
        }
      }
      return { messages, byMessageId, byAddress };
    },
    worker() {
      const w = spawnEnvoi('worker', configFile);
      const id = w.ready.then((out) => /envoi worker (\S+) is up/.exec(out)![1]);
      id.catch(() => {});
      return { ...w, id };
    },
    server() {
      const w = spawnEnvoi('up', serverConfigFile);
      const inboundPort = w.ready.then((out) => Number(/inbound SMTP \(bounces\)\s+\S+:(\d+)/.exec(out)![1]));
      inboundPort.catch(() => {});
      return { ...w, id: w.ready.then(() => `up:${w.child.pid}`), inboundPort };
    },
    async slotHolders() {
      const r = new Redis(o.redisUrl ?? REDIS_URL);
      try {
        const out: string[] = [];
        for (const key of await r.keys(`${prefix}slots:*`)) out.push(...(await r.zrange(key, '0', '-1')));
        return out;
      } finally {
        await r.quit();
      }
    },
    async close() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await t.close();
      await dns.close();
      for (const p of peers) await p.close();
      if (o.redis) {
        const r = new Redis(REDIS_URL);
        const keys = await r.keys(`${prefix}*`);
        if (keys.length) await r.del(...keys);
        await r.quit();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stops a worker with SIGTERM and waits for its exit code. */
export async function terminate(w: WorkerProcess): Promise<number | null> {
  w.child.kill('SIGTERM');
  return w.exited;
}

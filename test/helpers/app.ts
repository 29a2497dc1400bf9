// Starts a whole envoi (HTTPS API, SMTP listeners, workers) on loopback with
// random ports, a temp data folder and the chosen dialect, and gives tests an
// HTTPS client that trusts envoi's generated certificate and nothing else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { openServices, startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { Clock } from '../../src/clock.ts';
import { dropSchema, newSchemaName, PG_URL, type Dialect } from './store.ts';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export interface TestApp {
  app: App;
  dataDir: string;
  ca: string;
  operatorToken: string;
  /** ENVOI_* variables that point a CLI process at this app's store */
  cliEnv: Record<string, string>;
  api(method: string, path: string, opts?: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startTestApp(dialect: Dialect, overrides: ConfigInput = {} as ConfigInput, opts: { clock?: Clock; pgUrl?: string } = {}): Promise<TestApp> {
  const given = (overrides as { dataDir?: string }).dataDir;
  if (given) fs.mkdirSync(given, { recursive: true });
  const dataDir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-test-'));
  const schema = dialect === 'postgres' ? newSchemaName() : undefined;
  const cfg = loadConfig({
    env: {},
    overrides: {
      hostname: 'localhost',
      http: { port: 0 },
      submission: { port: 0 },
      inbound: { port: 0 },
      log: { level: 'silent' },
      ...overrides,
      dataDir,
      database: dialect === 'postgres' ? { url: opts.pgUrl ?? PG_URL, schema, poolSize: 4 } : {},
      delivery: { pollMs: 50, ...(overrides.delivery ?? {}) },
    } as ConfigInput,
  });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const app = await startApp(cfg.config, { clock: opts.clock });
  const ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
  const operatorToken = app.operatorKey!.token;

  function api(method: string, p: string, o: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
    const payload = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization ??= `Bearer ${o.token}`;
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: app.ports.http, path: p, method, headers, ca, servername: 'localhost' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (/json/.test(String(res.headers['content-type']))) body = JSON.parse(text);
          resolve({ status: res.statusCode!, headers: res.headers, body, text });
        });
      });
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  const cliEnv: Record<string, string> = { ENVOI_DATA_DIR: dataDir, ENVOI_LOG_LEVEL: 'warn' };
  if (schema) Object.assign(cliEnv, { ENVOI_DATABASE_URL: PG_URL, ENVOI_DATABASE_SCHEMA: schema });
  return {
    app, dataDir, ca, operatorToken, api, cliEnv,
    async close() {
      await app.close();
      if (schema) await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tenant with a sending domain, through the API as a user would do it. */
export async function tenantWithDomain(t: TestApp, name: string, domain: string): Promise<{ token: string; keyId: string; secret: string; tenantId: string }> {
  const created = await t.api('POST', '/v1/tenants', { token: t.operatorToken, body: { name } });
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${created.text}`);
  const { token, id: keyId, secret } = created.body.apiKey;
  const d = await t.api('POST', '/v1/domains', { token, body: { name: domain } });
  if (d.status !== 201) throw new Error(`domain: ${d.status} ${d.text}`);
  return { token, keyId, secret, tenantId: created.body.id };
}

/** Polls until the check returns a value (delivery is asynchronous). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The stages on a fresh store, without listeners: for stage-level tests. */
export async function openTestCore(dialect: Dialect, overrides: ConfigInput = {} as ConfigInput, opts: { clock?: Clock } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-core-'));
  const schema = dialect === 'postgres' ? newSchemaName() : undefined;
  const cfg = loadConfig({
    env: {},
    overrides: { dataDir, log: { level: 'silent' }, ...overrides, database: dialect === 'postgres' ? { url: PG_URL, schema, poolSize: 4 } : {} } as ConfigInput,
  });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const core = await openServices(cfg.config, { clock: opts.clock });
  return Object.assign(core, {
    dataDir,
    async dispose() {
      await core.close();
      if (schema) await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2026-11-25T09:00:00Z')) {
  let t = start;
  return { now: () => t, set: (v: number) => { t = v; }, advance: (ms: number) => { t += ms; } };
}

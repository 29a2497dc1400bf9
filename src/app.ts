// The one place where the stages are wired together (STYLE 11). Nothing in
// src/ starts work when imported; `envoi up` calls startApp, the CLI calls
// openServices, tests call either with their own config and clock.
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { systemClock, type Clock } from './clock.ts';
import { openStore, type Store } from './store/connect.ts';
import { createSecrets, loadOrCreateMasterKey, type Secrets } from './accounts/secrets.ts';
import { createKeys, type CreatedKey } from './accounts/keys.ts';
import { createStreams } from './accounts/streams.ts';
import { createTenants } from './accounts/tenants.ts';
import { createDomains } from './accounts/domains.ts';
import { createTransactional } from './campaigns/transactional.ts';
import { createSandbox } from './delivery/sandbox.ts';
import { createAudience } from './audience/index.ts';
import { createProfiles } from './accounts/profile.ts';
import { createCampaigns } from './campaigns/index.ts';
import { createResolver } from './net/resolver.ts';
import { startLoop } from './loop.ts';
import fs from 'node:fs';
import { createDeliver } from './delivery/deliver.ts';
import { createSmtpDelivery } from './delivery/smtp-deliver.ts';
import { createOutcomes } from './delivery/outcomes.ts';
import { createMxRouter } from './delivery/route/mx.ts';
import { startWorker } from './delivery/worker.ts';
import { buildHttpServer } from './http/server.ts';
import { loadOrCreateTls } from './net/tls.ts';
import { startSubmissionServer } from './submission/server.ts';
import { startInboundServer } from './feedback/inbound.ts';
import { parseAddress } from './compose/address.ts';
import { fail, ok } from './errors.ts';
import { newId } from './ids.ts';
import type { Services } from './services.ts';

export interface Core {
  config: Config;
  store: Store;
  secrets: Secrets;
  clock: Clock;
  logger: Logger;
  services: Services;
  /** set by startApp: wakes the delivery workers */
  notify: () => void;
  /** set by startApp once the HTTP port is known (port 0 in tests) */
  setPublicUrl: (url: string) => void;
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.log.level, redact: ['req.headers.authorization', '*.secret', '*.password'] });
}

/** Storage and the stages, without listeners: what the CLI needs. */
export async function openServices(config: Config, opts: { logger?: Logger; clock?: Clock } = {}): Promise<Core> {
  const logger = opts.logger ?? createLogger(config);
  const clock = opts.clock ?? systemClock;
  const store = await openStore({
    url: config.database.url,
    schema: config.database.schema,
    sqliteFile: path.join(config.dataDir, 'envoi.db'),
    poolSize: config.database.poolSize,
  });
  const secrets = createSecrets(loadOrCreateMasterKey({ secretKey: config.secretKey, dataDir: config.dataDir }));
  const { db } = store;
  const keys = createKeys(db, clock);
  const streams = createStreams(db, clock);
  const tenants = createTenants(db, clock, keys, streams);
  const domains = createDomains(db, clock, secrets, streams, { hostname: config.hostname, autoVerify: config.delivery.mode === 'sandbox' });
  const core: Core = {
    config, store, secrets, clock, logger,
    notify: () => {},
    setPublicUrl: () => {},
    services: undefined as unknown as Services,
    close: () => store.close(),
  };
  const transactional = createTransactional({
    db, clock, secrets, tenants, domains, streams,
    limits: config.limits,
    notify: () => core.notify(),
  });
  let publicUrl = (config.publicUrl ?? `https://${config.hostname}:${config.http.port}`).replace(/\/$/, '');
  const audience = createAudience(db, clock, { ...config.audience, dialect: store.dialect });
  const profiles = createProfiles(db, clock);
  const platformResolver = createResolver({ servers: config.dns.servers.length ? config.dns.servers : undefined });
  // content checks look domains up only where a resolver was configured (sandbox users have no DNS to check against)
  const resolver = config.dns.servers.length ? platformResolver : undefined;
  const campaigns = createCampaigns({
    db, clock, secrets, audience, domains, profiles, streams, resolver, sandbox: config.delivery.mode === 'sandbox',
    publicUrl: () => publicUrl, notify: () => core.notify(),
  });
  core.services = {
    keys, tenants, domains, streams, transactional, sandbox: createSandbox(db, clock), audience, profiles, campaigns,
    resolver: platformResolver, publicUrl: () => publicUrl,
  };
  core.setPublicUrl = (u: string) => { publicUrl = u.replace(/\/$/, ''); };
  return core;
}

export interface App extends Core {
  httpUrl: string;
  ports: { http: number; submission: number; inbound: number };
  /** the operator key generated on the first start, shown once; undefined afterwards */
  operatorKey?: CreatedKey;
}

/** Everything in one process: HTTPS API, SMTP submission, inbound SMTP, delivery workers. */
export async function startApp(config: Config, opts: { logger?: Logger; clock?: Clock } = {}): Promise<App> {
  const core = await openServices(config, opts);
  const { services, logger } = core;
  const closers: (() => Promise<void>)[] = [];
  try {
    let operatorKey: CreatedKey | undefined;
    if (!(await services.keys.hasOperatorKey())) operatorKey = await services.keys.create(null, 'first operator key');

    const tls = await loadOrCreateTls({ ...config.tls, dataDir: config.dataDir, hostname: config.hostname });

    const worker = startWorker({
      db: core.store.db, dialect: core.store.dialect, clock: core.clock, logger,
      workerId: `${os.hostname()}:${process.pid}:${newId('w').slice(2, 12)}`,
      pollMs: config.delivery.pollMs, batchSize: config.delivery.batchSize,
      deliver: createDeliver({
        db: core.store.db, sandbox: services.sandbox, dispatch: services.campaigns.dispatch,
        smtp: config.delivery.mode === 'smtp'
          ? createSmtpDelivery({
            clock: core.clock, logger: logger.child({ component: 'delivery' }),
            router: createMxRouter(services.resolver, core.clock),
            outcomes: createOutcomes(core.store.db, services.audience.suppression),
            ehloName: config.delivery.ehloName ?? config.hostname, pools: config.delivery.pools, port: config.delivery.port,
            ca: config.delivery.caFile ? fs.readFileSync(config.delivery.caFile, 'utf8') : undefined,
          })
          : undefined,
      }),
    });
    core.notify = worker.notify;
    closers.push(() => worker.stop());
    const runner = startLoop('campaign runner', config.delivery.pollMs, logger, async () => {
      const worked = await services.campaigns.runner.pass();
      if (worked) worker.notify();
      return worked;
    });
    services.campaigns.setPoke(runner.poke);
    closers.push(() => runner.stop());

    const publicBase = config.publicUrl;
    const http = await buildHttpServer({ dialect: core.store.dialect, dataDir: config.dataDir, services, tls, logger, maxMessageBytes: config.limits.maxMessageBytes, publicUrl: () => services.publicUrl(), secrets: core.secrets, clock: core.clock, audience: config.audience, db: core.store.db });
    await http.listen({ host: config.http.host, port: config.http.port });
    closers.push(() => http.close());
    const httpPort = (http.server.address() as { port: number }).port;
    const httpUrl = publicBase ?? `https://${config.hostname}:${httpPort}`;
    core.setPublicUrl(httpUrl);

    const submission = await startSubmissionServer({
      host: config.submission.host, port: config.submission.port, tls, hostname: config.hostname,
      maxMessageBytes: config.limits.maxMessageBytes, logger: logger.child({ component: 'submission' }),
      handler: {
        async authenticate(user, pass) {
          const r = await services.keys.verify(user, pass);
          if (!r.ok) return r;
          if (!r.value.tenantId) return fail('auth.forbidden', 'submission needs a tenant API key');
          return ok({ tenantId: r.value.tenantId, keyId: r.value.keyId });
        },
        async checkRecipient(_p, address) {
          const a = parseAddress(address, 'RCPT TO');
          return a.ok ? ok(true as const) : a;
        },
        async submit(p, envelope, raw) {
          const r = await services.transactional.sendRaw(p.tenantId, envelope, raw);
          return r.ok ? ok({ id: r.value.id }) : r;
        },
      },
    });
    closers.push(() => submission.close());

    const inbound = await startInboundServer({
      host: config.inbound.host, port: config.inbound.port, tls, hostname: config.hostname,
      maxMessageBytes: config.limits.maxMessageBytes, logger: logger.child({ component: 'inbound' }),
      handler: {
        // The feedback stage (bounces, complaints, abuse@) will own addresses here;
        // until then no address is ours, so nothing is accepted and nothing relayed.
        acceptRecipient: async (address) => fail('not_found', `no mailbox ${address} here`),
        receive: async () => fail('not_found', 'no mailbox here'),
      },
    });
    closers.push(() => inbound.close());

    return {
      ...core,
      operatorKey,
      httpUrl,
      ports: { http: httpPort, submission: submission.port, inbound: inbound.port },
      async close() {
        for (const c of closers.reverse()) await c().catch((err) => logger.warn({ err }, 'while closing'));
        await core.close();
      },
    };
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => {});
    await core.close();
    throw e;
  }
}

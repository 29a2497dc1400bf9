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
import { createMtaSts, httpsPolicyFetcher } from './delivery/route/mta-sts.ts';
import { startWorker } from './delivery/worker.ts';
import { egressStateOf } from './delivery/egress/state.ts';
import { loadProviders, withOverrides } from './policy/providers.ts';
import { processAlive, releaseDeadLocalLeases, releaseLeases } from './delivery/leases.ts';
import { queueStatsRefresher } from './store/stats.ts';
import { createLimiter, type Limiter } from './delivery/limits/index.ts';
import { createFaults } from './delivery/faults.ts';
import { createWarmup } from './delivery/warmup.ts';
import { createDoctor } from './doctor/index.ts';
import { createSimulator } from './delivery/simulator/index.ts';
import { buildHttpServer } from './http/server.ts';
import { createWebhooks, startWebhookSender, webhookCa } from './webhooks/index.ts';
import { loadOrCreateTls } from './net/tls.ts';
import { startSubmissionServer } from './submission/server.ts';
import { startInboundServer } from './feedback/inbound.ts';
import { createFeedback } from './feedback/index.ts';
import { createReputation, startReputationLoop } from './reputation/index.ts';
import { acknowledgement } from './feedback/acknowledge.ts';
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
  /** connection caps, rates, holds and daily budgets: in Redis when redis.url is set, in process otherwise */
  limiter: Limiter;
  /** set by startDelivery: wakes the delivery workers */
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
  const tenants = createTenants(db, clock, keys, streams, { initialStatus: config.reputation.review.enabled ? 'review' : 'active' });
  const domains = createDomains(db, clock, secrets, streams, { hostname: config.hostname, autoVerify: config.delivery.mode === 'sandbox' });
  // Redis connects lazily: CLI commands that count nothing never open it
  const limiter = createLimiter(config.redis.url, clock, config.redis.prefix);
  const core: Core = {
    config, store, secrets, clock, logger, limiter,
    notify: () => {},
    setPublicUrl: () => {},
    services: undefined as unknown as Services,
    close: async () => {
      await limiter.close();
      await store.close();
    },
  };
  // before the send paths, which ask its controls; it pauses campaigns through their lifecycle, built below
  const reputation = createReputation({
    db, dialect: store.dialect, clock, logger, limiter, config: config.reputation,
    lifecycle: () => campaigns.lifecycle,
    googleTls: () => withOverrides(loadProviders(), config.delivery.providers).find((p) => p.name === 'google')?.tls ?? 'required',
  });
  const transactional = createTransactional({
    db, clock, secrets, tenants, domains, streams,
    limits: config.limits,
    notify: () => core.notify(),
    admit: (t, n, kind) => reputation.controls.admit(t, n, kind),
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
    gate: (r, fromDomain) => reputation.controls.marketing(r, fromDomain),
    refreshQueueStats: queueStatsRefresher(db, store.dialect, logger),
  });
  const feedback = createFeedback({
    db, secrets, clock, logger, suppression: audience.suppression, subscriptions: audience.subscriptions, hostname: config.hostname,
    // the answer to a report comes from the abuse@/postmaster@ written to, through the tenant's transactional stream (DKIM-signed for that domain)
    acknowledge: (a) => transactional.send(a.tenantId, acknowledgement(a)),
  });
  core.services = {
    keys, tenants, domains, streams, transactional, sandbox: createSandbox(db, clock), audience, profiles, campaigns, feedback, reputation,
    resolver: platformResolver, publicUrl: () => publicUrl,
    webhooks: createWebhooks({ db, dialect: store.dialect, clock, secrets, config: config.webhooks }),
    faults: createFaults({ db, clock }),
    warmup: createWarmup({ db, dialect: store.dialect, clock, limiter, schedule: config.delivery.warmup, enabled: config.delivery.warmup.enabled }),
    doctor: createDoctor({ db, clock, resolver: platformResolver, domains, streams, profiles, campaigns, sandbox: createSandbox(db, clock), config }),
  };
  core.setPublicUrl = (u: string) => { publicUrl = u.replace(/\/$/, ''); };
  return core;
}

/**
 * The delivery workers and the campaign runner: what `envoi up` runs beside
 * its listeners, and all that `envoi worker` runs. stop() lets the
 * deliveries in flight finish, then hands back the rows claimed but not
 * reached, for another worker to take at once.
 */
export async function startDelivery(core: Core): Promise<{ workerId: string; stop(): Promise<void> }> {
  const { config, services, logger } = core;
  const workerId = `${os.hostname()}:${process.pid}:${newId('w').slice(2, 12)}`;
  const revived = await releaseDeadLocalLeases(core.store.db, os.hostname(), core.clock.now());
  if (revived.length) logger.warn({ workers: revived }, 'took back the rows of dead workers of this host');
  // and their connection slots in Redis, which would otherwise hold part of the paths' caps until their TTL
  const freed = await core.limiter.releaseDeadLocal(os.hostname(), processAlive).catch((err) => {
    logger.warn({ err }, 'could not look for the connection slots of dead processes (they expire by themselves)');
    return [];
  });
  if (freed.length) logger.warn({ processes: freed }, 'gave back the connection slots of dead processes of this host');
  const d = config.delivery;
  // one group writer for the worker's outcomes: a transaction per few hundred rows, not per row
  const outcomes = createOutcomes(core.store.db, services.audience.suppression);
  const deliveryCa = d.caFile ? fs.readFileSync(d.caFile, 'utf8') : undefined;
  const smtp = d.mode === 'smtp'
    ? createSmtpDelivery({
      clock: core.clock, logger: logger.child({ component: 'delivery' }),
      router: createMxRouter(services.resolver, core.clock), outcomes,
      ehloName: d.ehloName ?? config.hostname, pools: d.pools, port: d.port, timeoutsMs: d.timeoutsMs,
      ca: deliveryCa,
      mtaSts: d.mtaSts.enabled ? createMtaSts({
        resolver: services.resolver, clock: core.clock, logger,
        fetchPolicy: httpsPolicyFetcher(services.resolver, { port: d.mtaSts.port, ca: deliveryCa, timeoutMs: d.mtaSts.timeoutMs }),
      }) : undefined,
      providers: withOverrides(loadProviders(), d.providers), concurrency: d.concurrency, idleMs: d.connectionIdleMs,
      state: egressStateOf(core.limiter), faults: services.faults, warmup: services.warmup,
      smartHost: d.smartHost && {
        ...d.smartHost, auth: d.smartHost.user !== undefined ? { user: d.smartHost.user, pass: d.smartHost.password! } : undefined,
      },
    })
    : undefined;
  const worker = startWorker({
    db: core.store.db, dialect: core.store.dialect, clock: core.clock, logger,
    workerId,
    pollMs: d.pollMs, batchSize: d.batchSize, maxHeld: Math.max(d.batchSize, d.concurrency * 4),
    deliver: createDeliver({
      db: core.store.db, clock: core.clock, sandbox: services.sandbox, dispatch: services.campaigns.dispatch, outcomes, smtp, concurrency: d.concurrency,
      simulator: createSimulator({
        db: core.store.db, clock: core.clock, sandbox: services.sandbox, domains: services.domains, outcomes,
        inbound: () => services.feedback.handler,
      }),
    }),
    // on stop: what waits in the ready queues goes back, the lanes finish the message in hand
    drain: async () => {
      await smtp?.close();
      await outcomes.flush();
    },
  });
  core.notify = worker.notify;
  const runner = startLoop('campaign runner', config.delivery.pollMs, logger, async () => {
    const worked = await services.campaigns.runner.pass();
    if (worked) worker.poke();
    return worked;
  });
  services.campaigns.setPoke(runner.poke);
  // the event log rolled up into indicators, and the rules that act on them (issue 7)
  const rollup = config.reputation.enabled ? startReputationLoop(services.reputation, { pollMs: config.reputation.pollMs, logger }) : undefined;
  return {
    workerId,
    async stop() {
      await rollup?.stop();
      await runner.stop();
      await worker.stop();
      core.notify = () => {};
      await releaseLeases(core.store.db, workerId, core.clock.now());
    },
  };
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

    if (config.delivery.embeddedWorkers) {
      const delivery = await startDelivery(core);
      closers.push(() => delivery.stop());
    }
    const hooks = startWebhookSender({
      store: services.webhooks.store, dialect: core.store.dialect, clock: core.clock, logger, secrets: core.secrets,
      config: config.webhooks, ca: webhookCa(config.webhooks), workerId: `${os.hostname()}:${process.pid}:${newId('h').slice(2, 12)}`,
    });
    closers.push(() => hooks.stop());

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
      handler: services.feedback.handler,
    });
    closers.push(() => inbound.close());
    // messages accepted before a crash but not yet processed
    void services.feedback.reprocessPending().catch((err) => logger.error({ err }, 'reprocessing inbound messages failed'));

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

// The HTTPS listener: the own REST API, the Mailjet-compatible Send API,
// public pages. Failures become RFC 9457 problem responses here and nowhere
// else; business rules live in the stages.
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify';
import formbody from '@fastify/formbody';
import type { Logger } from 'pino';
import type { Services } from '../services.ts';
import type { TlsMaterial } from '../net/tls.ts';
import { serverTlsOptions } from '../net/tls.ts';
import { storageFault, RETRY_AFTER_S } from '../store/faults.ts';
import { FailureError, problem, type Failure } from '../errors.ts';
import { installAuth, type RouteAuth } from './auth.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { keyRoutes } from './routes/keys.ts';
import { domainRoutes } from './routes/domains.ts';
import { doctorRoutes } from './routes/doctor.ts';
import { faultRoutes } from './routes/faults.ts';
import { warmupRoutes } from './routes/warmup.ts';
import { reputationRoutes } from './routes/reputation.ts';
import { streamRoutes } from './routes/streams.ts';
import { messageRoutes } from './routes/messages.ts';
import { sandboxRoutes } from './routes/sandbox.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { audienceCountRoute, listRoutes } from './routes/lists.ts';
import { contactRoutes } from './routes/contacts.ts';
import { mailjetRoutes } from './mailjet/routes.ts';
import { formRoutes } from './public/forms.ts';
import { unsubscribeRoutes } from './public/unsubscribe.ts';
import { clickRoutes } from './public/click.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { importRoutes } from './routes/imports.ts';
import { createImports } from '../audience/import/index.ts';
import { consentProofRoutes } from './routes/consent-proof.ts';
import { createDashboard } from '../web/index.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/**
 * Every route the HTTPS servers of this process registered, with who may call
 * it. The tenant isolation test walks it (test/hardening/isolation.test.ts),
 * so a new route is covered the day it is added.
 */
export const routeTable = new Map<string, { method: string; url: string; auth: RouteAuth }>();

export interface HttpOptions {
  dialect: 'sqlite' | 'postgres';
  dataDir: string;
  services: Services;
  tls: TlsMaterial;
  logger: Logger;
  maxMessageBytes: number;
  publicUrl: () => string;
  /** for the public consent pages: form and confirmation tokens, time, limits, counters */
  secrets: Secrets;
  clock: Clock;
  audience: Config['audience'];
  db: Kysely<Database>;
}

export async function buildHttpServer(o: HttpOptions): Promise<FastifyInstance> {
  const https = Fastify({
    https: serverTlsOptions(o.tls),
    loggerInstance: o.logger.child({ component: 'http' }),
    // one log line per request is noise at our volumes; failures are logged by the error handler
    logController: new LogController({ disableRequestLogging: true }),
    // base64 attachments grow by 4/3; the composed message is checked against the exact limit later
    bodyLimit: Math.ceil(o.maxMessageBytes * 1.37) + 64 * 1024,
    trustProxy: false,
  });
  // The route modules take the plain FastifyInstance type; the HTTPS server and
  // pino logger generics add nothing they use.
  const app = https as unknown as FastifyInstance;
  await app.register(formbody);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const stored = storageFault(err);
    const f = stored ?? toFailure(err);
    if (f.code === 'internal') req.log.error({ err }, 'request failed');
    if (stored) {
      req.log.warn({ err }, 'request refused: storage unavailable or full');
      if (stored.code === 'unavailable') reply.header('retry-after', String(RETRY_AFTER_S));
    }
    return reply.code(problem(f).status as number).type('application/problem+json').send(problem(f, req.url.split('?')[0]));
  });
  app.setNotFoundHandler((req, reply) => {
    const f: Failure = { code: 'not_found', detail: `no route ${req.method} ${req.url.split('?')[0]}` };
    return reply.code(404).type('application/problem+json').send(problem(f));
  });

  // The Mailjet-compatible routes authenticate themselves (Mailjet's own 401 shape).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v3.1/')) route.config = { ...(route.config ?? {}), auth: 'self' };
    for (const method of [route.method].flat()) routeTable.set(`${method} ${route.url}`, { method, url: route.url, auth: route.config?.auth ?? 'tenant' });
  });
  // PostgreSQL text cannot hold NUL: a NUL in a path parameter, a query value
  // or a JSON string reached a query and failed as a 500 (test/hardening).
  // No id, name, address or message text of ours holds one (RFC 5322 forbids
  // NUL in mail), so the request is malformed, on every route.
  app.addHook('preValidation', async (req, reply) => {
    if (!holdsNul([req.params, req.query, Buffer.isBuffer(req.body) ? null : req.body])) return;
    const f: Failure = { code: 'request.malformed', detail: 'the request holds a NUL character' };
    return reply.code(400).type('application/problem+json').send(problem(f, req.url.split('?')[0]));
  });
  const dashboard = createDashboard({ db: o.db, clock: o.clock, tenants: o.services.tenants, logger: o.logger });
  installAuth(app, o.services.keys, dashboard.authenticator);

  app.get('/healthz', { config: { auth: 'public' } }, async () => ({ ok: true }));
  tenantRoutes(app, o.services);
  keyRoutes(app, o.services);
  domainRoutes(app, o.services);
  doctorRoutes(app, o.services);
  faultRoutes(app, o.services);
  warmupRoutes(app, o.services);
  reputationRoutes(app, o.services);
  streamRoutes(app, o.services);
  messageRoutes(app, o.services);
  sandboxRoutes(app, o.services);
  webhookRoutes(app, o.services);
  feedbackRoutes(app, o.services);
  consentProofRoutes(app, o.services);
  campaignRoutes(app, o.services);
  importRoutes(app, o.services, createImports({ db: o.db, dialect: o.dialect, clock: o.clock, resolver: o.services.resolver }), o.dataDir);
  await app.register(unsubscribeRoutes({ services: o.services, secrets: o.secrets, db: o.db, clock: o.clock }));
  await app.register(clickRoutes({ services: o.services, secrets: o.secrets, db: o.db, clock: o.clock }));
  await app.register(formRoutes({ services: o.services, secrets: o.secrets, clock: o.clock, audience: o.audience, db: o.db }));
  dashboard.routes(app);
  listRoutes(app, o.services);
  audienceCountRoute(app, o.services);
  contactRoutes(app, o.services);
  await app.register(mailjetRoutes({
    get baseUrl() {
      return o.publicUrl();
    },
    authenticate: async (user, pass) => {
      const r = await o.services.keys.verify(user, pass);
      if (!r.ok) return r;
      if (!r.value.tenantId) return { ok: false, error: { code: 'auth.forbidden', detail: 'a tenant API key is required' } };
      return { ok: true, value: { tenantId: r.value.tenantId, keyId: r.value.keyId } };
    },
    send: async (p, msg) => {
      const rendered = await o.services.campaigns.templates.apply(p.tenantId, msg);
      return rendered.ok ? o.services.transactional.send(p.tenantId, rendered.value) : rendered;
    },
  }));
  return app;
}

/** Whether a string anywhere in these values holds a NUL (iterative: a body may nest deep). */
function holdsNul(roots: unknown[]): boolean {
  const stack = [...roots];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

function toFailure(err: FastifyError): Failure {
  if (err instanceof FailureError) return err.failure;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'message.too_large', detail: 'the request body is larger than the message size limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'request.unsupported_media_type', detail: 'send application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'request.malformed', detail: 'the body is not valid JSON' };
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return { code: 'request.malformed', detail: 'the body is not valid JSON' };
  }
  if (err.statusCode && err.statusCode < 500) return { code: 'request.invalid', detail: err.message };
  return { code: 'internal', detail: 'internal error; the request was not carried out' };
}

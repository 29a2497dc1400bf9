// The dashboard's own API: sign in and out (/v1/session) and the users who
// may sign in (/v1/users). Everything else the dashboard shows comes from the
// same /v1 API that API keys use.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Tenants } from '../accounts/tenants.ts';
import { scopeOf } from '../http/auth.ts';
import { parseBody, unwrap } from '../http/validate.ts';
import { FailureError } from '../errors.ts';
import { CSRF_COOKIE, SESSION_COOKIE, clearCookie, parseCookies, setCookie } from './cookies.ts';
import { SESSION_TTL_MS, type Sessions } from './sessions.ts';
import type { Users } from './users.ts';
import type { LoginThrottle } from './throttle.ts';
import { MAX_PASSWORD } from './passwords.ts';

const Login = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(MAX_PASSWORD) }).strict();
const CreateUser = z.object({
  email: z.string().min(3).max(320),
  password: z.string().max(MAX_PASSWORD),
  /** operators only: the tenant (id or name) the user belongs to; absent creates an operator */
  tenant: z.string().min(1).max(100).optional(),
}).strict();

export interface SessionRouteDeps {
  users: Users;
  sessions: Sessions;
  throttle: LoginThrottle;
  tenants: Tenants;
}

function setSessionCookies(reply: FastifyReply, token: string, csrf: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', [
    setCookie(SESSION_COOKIE, token, { maxAgeSeconds, httpOnly: true }),
    setCookie(CSRF_COOKIE, csrf, { maxAgeSeconds, httpOnly: false }),
  ]);
}

export function sessionRoutes(app: FastifyInstance, d: SessionRouteDeps): void {
  app.post('/v1/session', { config: { auth: 'public' } }, async (req, reply) => {
    // JSON only: an HTML form on another site can post url-encoded bodies without a preflight, never JSON
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      throw new FailureError({ code: 'request.unsupported_media_type', detail: 'sign in with an application/json body' });
    }
    const b = parseBody(Login, req.body);
    const wait = d.throttle.retryAfter(req.ip, b.email);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new FailureError({ code: 'rate_limited', detail: 'too many failed sign-ins: wait before trying again' });
    }
    const r = await d.users.authenticate(b.email, b.password);
    if (!r.ok) {
      d.throttle.failed(req.ip, b.email);
      throw new FailureError(r.error);
    }
    d.throttle.succeeded(b.email);
    const s = await d.sessions.create(r.value, req.ip);
    setSessionCookies(reply, s.token, s.csrf, Math.floor(SESSION_TTL_MS / 1000));
    return reply.code(201).send({ user: s.user, csrf: s.csrf, expiresAt: new Date(s.expiresAt).toISOString() });
  });

  /** Who is signed in (or which key is calling), and the CSRF token the page echoes. */
  app.get('/v1/session', { config: { auth: 'any' } }, async (req) => {
    const s = req.dashboardSession;
    if (s) return { user: s.user, csrf: s.csrf, expiresAt: new Date(s.expiresAt).toISOString() };
    const p = req.principal!;
    return { user: null, key: { id: p.keyId, role: p.role, tenantId: p.tenantId } };
  });

  /** Signing out ends the session on the server, not only in the browser. */
  app.delete('/v1/session', { config: { auth: 'any' } }, async (req, reply) => {
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (req.dashboardSession && token) await d.sessions.destroy(token);
    reply.header('set-cookie', [clearCookie(SESSION_COOKIE, true), clearCookie(CSRF_COOKIE, false)]);
    return reply.code(204).send();
  });

  const scopeForCreate = async (req: FastifyRequest, tenant: string | undefined): Promise<string | null> => {
    const scope = scopeOf(req);
    if (scope !== null) {
      if (tenant !== undefined) throw new FailureError({ code: 'auth.forbidden', detail: 'a tenant creates users of its own tenant only', field: 'tenant' });
      return scope;
    }
    if (tenant === undefined) return null;
    const t = await d.tenants.find(tenant);
    if (!t) throw new FailureError({ code: 'not_found', detail: `no tenant ${tenant}`, field: 'tenant' });
    return t.id;
  };

  app.get<{ Querystring: { tenant?: string } }>('/v1/users', { config: { auth: 'any' } }, async (req) => {
    const scope = scopeOf(req);
    const tenantId = scope ?? (req.query.tenant ? (await d.tenants.find(req.query.tenant))?.id ?? '-' : null);
    return { data: await d.users.list(tenantId) };
  });

  app.post('/v1/users', { config: { auth: 'any' } }, async (req, reply) => {
    const b = parseBody(CreateUser, req.body);
    const tenantId = await scopeForCreate(req, b.tenant);
    return reply.code(201).send(unwrap(await d.users.create({ email: b.email, password: b.password, tenantId })));
  });

  app.delete<{ Params: { id: string } }>('/v1/users/:id', { config: { auth: 'any' } }, async (req, reply) => {
    const scope = scopeOf(req);
    if (req.dashboardSession?.user.id === req.params.id) throw new FailureError({ code: 'conflict', detail: 'you cannot remove yourself while signed in' });
    const target = scope === null ? await d.users.get(req.params.id) : undefined;
    unwrap(await d.users.remove(scope === null ? target?.tenantId ?? null : scope, req.params.id));
    return reply.code(204).send();
  });
}

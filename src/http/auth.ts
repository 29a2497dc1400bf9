// Authentication at the HTTP edge. Every route is private unless it says
// `config: { auth: 'public' }`: a route someone forgets to mark is closed, not
// open. Credentials: "Authorization: Bearer <key id>.<secret>" or HTTP Basic
// with the key id as user and the secret as password.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Keys, Principal } from '../accounts/keys.ts';
import { FailureError, type Failure, type Result } from '../errors.ts';

export type RouteAuth = 'public' | 'self' | 'operator' | 'tenant' | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function parseAuthorization(header: string | undefined): { id: string; secret: string } | null {
  if (!header) return null;
  const [scheme, value = ''] = header.split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) {
    const dot = value.indexOf('.');
    return dot > 0 ? { id: value.slice(0, dot), secret: value.slice(dot + 1) } : null;
  }
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : null;
  }
  return null;
}

/**
 * The dashboard's session cookie (src/web/sessions.ts): the same principal as
 * an API key, asked only when the request has no Authorization header; null
 * when the request carries no session. It checks the CSRF token itself.
 */
export interface SessionAuthenticator {
  authenticate(req: FastifyRequest): Promise<Result<Principal> | null>;
}

export function installAuth(app: FastifyInstance, keys: Keys, sessions?: SessionAuthenticator): void {
  app.addHook('onRequest', async (req) => {
    const mode = req.routeOptions.config?.auth ?? 'tenant';
    if (mode === 'public' || mode === 'self') return;
    const creds = parseAuthorization(req.headers.authorization);
    const session = creds || !sessions ? null : await sessions.authenticate(req);
    if (!creds && !session) throw new FailureError({ code: 'auth.required', detail: 'send "Authorization: Bearer <key id>.<secret>"' });
    const r = creds ? await keys.verify(creds.id, creds.secret) : session!;
    if (!r.ok) throw new FailureError(r.error);
    if (mode === 'operator' && r.value.role !== 'operator') throw new FailureError(forbidden('an operator key is required'));
    if (mode === 'tenant' && r.value.role !== 'tenant') throw new FailureError(forbidden('a tenant API key is required'));
    req.principal = r.value;
  });
}

/** The tenant of the request's key (tenant routes only). */
export function tenantOf(req: FastifyRequest): string {
  const id = req.principal?.tenantId;
  if (!id) throw new FailureError(forbidden('a tenant API key is required'));
  return id;
}

/** The tenant scope of a request that operators may also make: null = every tenant. */
export function scopeOf(req: FastifyRequest): string | null {
  return req.principal?.role === 'operator' ? null : tenantOf(req);
}

const forbidden = (detail: string): Failure => ({ code: 'auth.forbidden', detail });

// Dashboard sessions: a random 256-bit cookie value, stored as its SHA-256.
// A session authorises the same /v1 API as an API key, as the same principal
// shape (src/http/auth.ts); every state-changing request from a session also
// carries the CSRF token in X-CSRF-Token, equal to the CSRF cookie and to
// HMAC(session value): a page on another site can neither read the cookie
// nor compute the token, and SameSite=Strict keeps the cookies off its
// requests in the first place.
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Principal } from '../accounts/keys.ts';
import type { SessionAuthenticator } from '../http/auth.ts';
import { newSecret } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, parseCookies } from './cookies.ts';
import type { Users, UserView } from './users.ts';

/** A session lasts this long from sign-in, used or not. */
export const SESSION_TTL_MS = 12 * 3600_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface DashboardSession {
  token: string;
  csrf: string;
  user: UserView;
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set when the request was authenticated by a dashboard session cookie */
    dashboardSession?: DashboardSession;
  }
}

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');
export const csrfOf = (token: string) => crypto.createHmac('sha256', token).update('envoi csrf v1').digest('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export const principalOf = (u: UserView): Principal => ({ keyId: u.id, role: u.role, tenantId: u.tenantId });

export function createSessions(db: Kysely<Database>, clock: Clock, users: Users) {
  const sessions = {
    async create(user: UserView, ip: string | null): Promise<DashboardSession> {
      const token = newSecret();
      const now = clock.now();
      const expiresAt = now + SESSION_TTL_MS;
      await db.insertInto('user_sessions').values({ id_hash: hash(token), user_id: user.id, created_at: now, expires_at: expiresAt, ip }).execute();
      // expired sessions of anyone are swept at sign-in: no timer needed
      await db.deleteFrom('user_sessions').where('expires_at', '<', now).execute();
      return { token, csrf: csrfOf(token), user, expiresAt };
    },

    async find(token: string): Promise<DashboardSession | undefined> {
      const row = await db.selectFrom('user_sessions').selectAll().where('id_hash', '=', hash(token)).executeTakeFirst();
      if (!row || row.expires_at <= clock.now()) return undefined;
      const user = await users.get(row.user_id);
      return user && { token, csrf: csrfOf(token), user, expiresAt: row.expires_at };
    },

    async destroy(token: string): Promise<void> {
      await db.deleteFrom('user_sessions').where('id_hash', '=', hash(token)).execute();
    },

    /** What src/http/auth.ts asks when a request has no Authorization header. */
    authenticator: {
      async authenticate(req: FastifyRequest): Promise<Result<Principal> | null> {
        const cookies = parseCookies(req.headers.cookie);
        const token = cookies.get(SESSION_COOKIE);
        if (!token) return null;
        const s = await sessions.find(token);
        if (!s) return fail('auth.invalid', 'the session has expired or was ended: sign in again');
        if (!SAFE_METHODS.has(req.method)) {
          const header = req.headers[CSRF_HEADER];
          const sent = typeof header === 'string' ? header : '';
          if (!sent || !same(sent, cookies.get(CSRF_COOKIE) ?? '') || !same(sent, s.csrf)) {
            return fail('auth.forbidden', `a request from a dashboard session must carry the ${CSRF_HEADER} header`);
          }
        }
        req.dashboardSession = s;
        return ok(principalOf(s.user));
      },
    } satisfies SessionAuthenticator,
  };
  return sessions;
}

export type Sessions = ReturnType<typeof createSessions>;

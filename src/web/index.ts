// The dashboard on the HTTPS listener: users, sessions, the sign-in routes
// and the built single-page app. src/http/server.ts asks for the session
// authenticator before its routes and adds the routes with the others.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Tenants } from '../accounts/tenants.ts';
import { createUsers } from './users.ts';
import { createSessions } from './sessions.ts';
import { createLoginThrottle } from './throttle.ts';
import { sessionRoutes } from './routes.ts';
import { staticRoutes } from './static.ts';

export function createDashboard(o: { db: Kysely<Database>; clock: Clock; tenants: Tenants; logger: Logger; dist?: string }) {
  const users = createUsers(o.db, o.clock);
  const sessions = createSessions(o.db, o.clock, users);
  const throttle = createLoginThrottle(() => o.clock.now());
  return {
    users,
    authenticator: sessions.authenticator,
    routes(app: FastifyInstance): void {
      sessionRoutes(app, { users, sessions, throttle, tenants: o.tenants });
      staticRoutes(app, { dist: o.dist, logger: o.logger });
    },
  };
}

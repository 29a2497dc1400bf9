// The warm-up ramps (GM-13) as they stand: a tenant sees those of its
// sending domains, an operator every tenant's.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { scopeOf } from '../auth.ts';

export function warmupRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/warmup', { config: { auth: 'any' } }, async (req) => ({ data: await s.warmup.status(scopeOf(req)) }));
}

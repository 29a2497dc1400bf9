// The sandbox through the API: list, show, raw source. Operators see every
// tenant's captures, a tenant only its own.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { scopeOf } from '../auth.ts';
import { FailureError } from '../../errors.ts';

export function sandboxRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: { limit?: string; before?: string } }>('/v1/sandbox/messages', { config: { auth: 'any' } }, async (req) => {
    const limit = Math.max(1, Math.min(500, Number(req.query.limit ?? 50) || 50));
    const data = await s.sandbox.list(scopeOf(req), { limit, before: req.query.before });
    return { data, next: data.length === limit ? data[data.length - 1].id : null };
  });

  app.get<{ Params: { id: string } }>('/v1/sandbox/messages/:id', { config: { auth: 'any' } }, async (req) => {
    const e = await s.sandbox.get(scopeOf(req), req.params.id);
    if (!e) throw new FailureError({ code: 'not_found', detail: `no sandbox message ${req.params.id}` });
    const { raw, ...meta } = e;
    return { ...meta, raw: raw.toString('utf8') };
  });

  app.get<{ Params: { id: string } }>('/v1/sandbox/messages/:id/raw', { config: { auth: 'any' } }, async (req, reply) => {
    const e = await s.sandbox.get(scopeOf(req), req.params.id);
    if (!e) throw new FailureError({ code: 'not_found', detail: `no sandbox message ${req.params.id}` });
    return reply.type('message/rfc822').send(e.raw);
  });
}

// A tenant's webhook endpoints: register (the signing secret is shown once),
// list, show with delivery counts, pause/resume, delete, the deliveries with
// their status and last error, and a test POST. Another tenant's endpoint is
// a 404, like every tenant resource.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { WEBHOOK_FORMATS, WEBHOOK_TYPES } from '../../webhooks/shapes.ts';

const Create = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(z.enum(WEBHOOK_TYPES)).min(1).max(WEBHOOK_TYPES.length).optional(),
  format: z.enum(WEBHOOK_FORMATS).optional(),
  batch: z.boolean().optional(),
  includeMachineOpens: z.boolean().optional(),
  description: z.string().max(200).regex(/^[^\r\n]*$/).optional(),
}).strict();

const Patch = z.object({ active: z.boolean() }).strict();

const Deliveries = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  before: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
}).strict();

export function webhookRoutes(app: FastifyInstance, s: Services): void {
  app.post('/v1/webhooks', async (req, reply) => {
    const body = parseBody(Create, req.body ?? {});
    return reply.code(201).send(unwrap(await s.webhooks.create(tenantOf(req), body)));
  });

  app.get('/v1/webhooks', async (req) => ({ data: await s.webhooks.list(tenantOf(req)) }));

  app.get<{ Params: { id: string } }>('/v1/webhooks/:id', async (req) => unwrap(await s.webhooks.get(tenantOf(req), req.params.id)));

  app.patch<{ Params: { id: string } }>('/v1/webhooks/:id', async (req) => {
    const body = parseBody(Patch, req.body ?? {});
    return unwrap(await s.webhooks.setActive(tenantOf(req), req.params.id, body.active));
  });

  app.delete<{ Params: { id: string } }>('/v1/webhooks/:id', async (req, reply) => {
    unwrap(await s.webhooks.remove(tenantOf(req), req.params.id));
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v1/webhooks/:id/deliveries', async (req) => {
    const q = parseBody(Deliveries, req.query ?? {});
    return unwrap(await s.webhooks.deliveries(tenantOf(req), req.params.id, q));
  });

  app.post<{ Params: { id: string } }>('/v1/webhooks/:id/test', async (req) => unwrap(await s.webhooks.test(tenantOf(req), req.params.id)));
}

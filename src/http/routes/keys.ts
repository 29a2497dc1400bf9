// A tenant's API keys: create (the secret is shown once), list, revoke.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';

const CreateKey = z.object({ label: z.string().min(1).max(100).regex(/^[^\r\n]*$/) }).strict();

export function keyRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/keys', async (req) => ({ data: await s.keys.list(tenantOf(req)) }));

  app.post('/v1/keys', async (req, reply) => {
    const body = parseBody(CreateKey, req.body ?? {});
    return reply.code(201).send(await s.keys.create(tenantOf(req), body.label));
  });

  app.delete<{ Params: { id: string } }>('/v1/keys/:id', async (req, reply) => {
    unwrap(await s.keys.revoke(tenantOf(req), req.params.id));
    return reply.code(204).send();
  });
}

// Operator routes: tenants.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { parseBody, unwrap } from '../validate.ts';

const CreateTenant = z.object({ name: z.string() }).strict();

export function tenantRoutes(app: FastifyInstance, s: Services): void {
  app.post('/v1/tenants', { config: { auth: 'operator' } }, async (req, reply) => {
    const body = parseBody(CreateTenant, req.body);
    const { tenant, key } = unwrap(await s.tenants.create(body.name));
    return reply.code(201).send({ ...tenant, apiKey: key });
  });

  app.get('/v1/tenants', { config: { auth: 'operator' } }, async () => ({ data: await s.tenants.list() }));
}

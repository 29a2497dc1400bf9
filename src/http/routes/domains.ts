// Sending domains and the DNS records to publish for them.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { Domain } from '../../store/schema.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const AddDomain = z.object({ name: z.string().min(1).max(253) }).strict();

const view = (d: Domain) => ({ id: d.id, name: d.name, verified: d.verified === 1, createdAt: new Date(d.created_at).toISOString() });

export function domainRoutes(app: FastifyInstance, s: Services): void {
  const load = async (tenantId: string, ref: string) => {
    const d = await s.domains.find(tenantId, ref);
    if (!d) throw new FailureError({ code: 'not_found', detail: `no domain ${ref}` });
    return d;
  };

  app.post('/v1/domains', async (req, reply) => {
    const body = parseBody(AddDomain, req.body);
    const d = unwrap(await s.domains.add(tenantOf(req), body.name));
    return reply.code(201).send({ ...view(d), records: await s.domains.records(d) });
  });

  app.get('/v1/domains', async (req) => ({ data: (await s.domains.list(tenantOf(req))).map(view) }));

  app.get<{ Params: { id: string } }>('/v1/domains/:id', async (req) => {
    const d = await load(tenantOf(req), req.params.id);
    return { ...view(d), records: await s.domains.records(d) };
  });

  app.post<{ Params: { id: string } }>('/v1/domains/:id/verify', async (req) => {
    const d = await load(tenantOf(req), req.params.id);
    return view(unwrap(await s.domains.verify(d, s.resolver)));
  });

  app.get<{ Params: { id: string } }>('/v1/domains/:id/records', async (req) => {
    return { data: await s.domains.records(await load(tenantOf(req), req.params.id)) };
  });
}

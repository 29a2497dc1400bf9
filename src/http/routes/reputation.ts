// Reputation (issue 7): a tenant reads its own indicators against their
// thresholds, with the actions taken; an operator reads any tenant's, the
// recent actions of every tenant, and decides: approve a tenant in review
// and change its caps or profiles (MJ-10), suspend it, resume it. Every
// decision is recorded with the operator's key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const Query = z.object({
  domain: z.string().min(1).max(253).optional(),
  campaign: z.string().min(1).max(64).optional(),
  days: z.coerce.number().int().min(1).max(90).optional(),
}).strict();
const Review = z.object({
  approve: z.boolean().optional(),
  dailyCap: z.number().int().min(0).nullable().optional(),
  profiles: z.array(z.string().min(1)).max(10).optional(),
  note: z.string().max(1000).optional(),
}).strict();
const Suspend = z.object({
  reason: z.string().trim().min(3).max(1000),
  /** stop transactional mail too (default: it keeps flowing) */
  stopTransactional: z.boolean().optional(),
}).strict();
const Resume = z.object({ note: z.string().max(1000).optional() }).strict();

const actorOf = (req: FastifyRequest) => `operator:${req.principal?.keyId ?? 'unknown'}`;

export function reputationRoutes(app: FastifyInstance, s: Services): void {
  const tenant = async (ref: string) => {
    const t = await s.tenants.find(ref);
    if (!t) throw new FailureError({ code: 'not_found', detail: `no tenant ${ref}` });
    return t;
  };
  const read = async (tenantId: string, query: unknown) => {
    const q = parseBody(Query, query ?? {});
    const r = await s.reputation.report(tenantId, q);
    if (!r) throw new FailureError({ code: 'not_found', detail: 'no such tenant' });
    return { ...r, warmup: await s.warmup.status(tenantId) };
  };

  app.get('/v1/reputation', { config: { auth: 'tenant' } }, async (req) => read(tenantOf(req), req.query));

  app.get<{ Params: { id: string } }>('/v1/tenants/:id/reputation', { config: { auth: 'operator' } }, async (req) => read((await tenant(req.params.id)).id, req.query));

  app.get('/v1/reputation/actions', { config: { auth: 'operator' } }, async (req) => {
    const limit = Math.max(1, Math.min(500, Number((req.query as Record<string, string>).limit ?? 100) || 100));
    return { data: (await s.reputation.actions(null, limit)).map((a) => ({ ...a, at: new Date(a.created_at).toISOString() })) };
  });

  app.post<{ Params: { id: string } }>('/v1/tenants/:id/review', { config: { auth: 'operator' } }, async (req) => {
    const body = parseBody(Review, req.body ?? {});
    return unwrap(await s.reputation.review((await tenant(req.params.id)).id, body, actorOf(req)));
  });

  app.post<{ Params: { id: string } }>('/v1/tenants/:id/suspend', { config: { auth: 'operator' } }, async (req) => {
    const body = parseBody(Suspend, req.body ?? {});
    return unwrap(await s.reputation.suspend((await tenant(req.params.id)).id, body.reason, { stopTransactional: body.stopTransactional, actor: actorOf(req) }));
  });

  app.post<{ Params: { id: string } }>('/v1/tenants/:id/resume', { config: { auth: 'operator' } }, async (req) => {
    const body = parseBody(Resume, req.body ?? {});
    return unwrap(await s.reputation.resume((await tenant(req.params.id)).id, actorOf(req), body.note));
  });
}

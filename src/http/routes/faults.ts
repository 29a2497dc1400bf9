// Configuration faults of a sending domain (GM-11): what a receiver reported,
// the remedy, and the tenant's "fixed it" that resumes marketing to that
// provider. Another tenant's domain is not found.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { faultView } from '../../delivery/faults.ts';
import { tenantOf } from '../auth.ts';
import { unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

export function faultRoutes(app: FastifyInstance, s: Services): void {
  const load = async (tenantId: string, ref: string) => {
    const d = await s.domains.find(tenantId, ref);
    if (!d) throw new FailureError({ code: 'not_found', detail: `no domain ${ref}` });
    return d;
  };

  app.get<{ Params: { id: string } }>('/v1/domains/:id/faults', async (req) => {
    const d = await load(tenantOf(req), req.params.id);
    return { data: (await s.faults.list(d.id)).map(faultView) };
  });

  app.post<{ Params: { id: string; faultId: string } }>('/v1/domains/:id/faults/:faultId/clear', async (req) => {
    const d = await load(tenantOf(req), req.params.id);
    return faultView(unwrap(await s.faults.clear(d.id, req.params.faultId, `key:${req.principal!.keyId}`)));
  });
}

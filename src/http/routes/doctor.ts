// The doctor through the API: the checks of a sending domain (run now, or the
// last report with ?cached=true) and the preflight of one message.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { scopeOf, tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const Preflight = z.object({
  /** the message source (RFC 5322), as text */
  raw: z.string().min(1).optional(),
  campaign: z.string().min(1).max(100).optional(),
  sandbox: z.string().min(1).max(100).optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  kind: z.enum(['marketing', 'transactional']).optional(),
}).strict().refine((b) => [b.raw, b.campaign, b.sandbox].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of raw, campaign, sandbox' });

export function doctorRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Params: { id: string }; Querystring: { cached?: string } }>('/v1/domains/:id/checks', async (req) => {
    const d = await s.domains.find(tenantOf(req), req.params.id);
    if (!d) throw new FailureError({ code: 'not_found', detail: `no domain ${req.params.id}` });
    if (req.query.cached === 'true' || req.query.cached === '1') {
      const last = await s.doctor.last(d.id);
      if (!last) throw new FailureError({ code: 'not_found', detail: `the doctor has not checked ${d.name} yet; call without ?cached` });
      return last;
    }
    return s.doctor.check(d);
  });

  app.post('/v1/preflight', { config: { auth: 'any' } }, async (req) => {
    const b = parseBody(Preflight, req.body);
    const source = b.raw !== undefined ? { raw: Buffer.from(b.raw, 'utf8') } : b.campaign !== undefined ? { campaign: b.campaign } : { sandbox: b.sandbox! };
    return unwrap(await s.doctor.preflight(scopeOf(req), source, { ...(b.ip ? { ip: b.ip } : {}), ...(b.kind ? { kind: b.kind } : {}) }));
  });
}

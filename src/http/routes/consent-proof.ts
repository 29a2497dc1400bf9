// The proof of consent for one address (MJ-6), as JSON for tools or as a
// printable page a sender hands to an ESP or a regulator. Tenant key only; an
// address the tenant does not hold is "not found", whoever else holds it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { FailureError } from '../../errors.ts';
import { tenantOf } from '../auth.ts';
import { parseBody } from '../validate.ts';
import { proofPage } from './consent-proof-page.ts';

const ProofQuery = z.object({
  email: z.string().min(1).max(320),
  list: z.string().min(1).max(100).optional(),
  format: z.enum(['json', 'html']).default('json'),
}).strict();

export function consentProofRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/consent/proof', async (req, reply) => {
    const q = parseBody(ProofQuery, req.query ?? {});
    const proof = await s.audience.proof(tenantOf(req), q.email, q.list);
    if (!proof) throw new FailureError({ code: 'not_found', detail: 'no contact with this address' });
    if (q.list && proof.lists.length === 0) throw new FailureError({ code: 'not_found', detail: `this address has no subscription to the list ${q.list}` });
    if (q.format === 'json') return proof;
    return reply.type('text/html; charset=utf-8').headers({
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    }).send(proofPage(proof));
  });
}

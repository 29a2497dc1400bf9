// Contacts and the suppression list through the API (issue 3).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { Contact, Suppression } from '../../store/schema.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, pathRef, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';
import { SUPPRESSION_REASONS } from '../../audience/suppression.ts';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const contactView = (c: Contact) => ({
  id: c.id, email: c.email, domain: c.domain, fields: JSON.parse(c.fields), lastOpenAt: iso(c.last_open_at), lastClickAt: iso(c.last_click_at),
  createdAt: iso(c.created_at),
});
const suppressionView = (x: Suppression) => ({ id: x.id, email: x.email, reason: x.reason, source: x.source, note: x.note, createdAt: iso(x.created_at) });

const UpdateContact = z.object({ fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) }).strict();
const AddSuppression = z.object({
  email: z.string(),
  reason: z.enum(SUPPRESSION_REASONS as [string, ...string[]]).default('manual'),
  note: z.string().max(1000).optional(),
}).strict();

export function contactRoutes(app: FastifyInstance, s: Services): void {
  const a = s.audience;
  const load = async (tenantId: string, ref: string) => {
    const c = await a.contacts.find(tenantId, pathRef(ref));
    if (!c || c.status !== 'active') throw new FailureError({ code: 'not_found', detail: 'no such contact' });
    return c;
  };

  app.get<{ Querystring: { after?: string; limit?: string; q?: string } }>('/v1/contacts', async (req) => {
    const limit = Math.max(1, Math.min(500, Number(req.query.limit ?? 50) || 50));
    const rows = await a.contacts.page(tenantOf(req), { after: req.query.after, limit, query: req.query.q });
    return { data: rows.map(contactView), next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  app.get<{ Params: { id: string } }>('/v1/contacts/:id', async (req) => {
    const tenantId = tenantOf(req);
    const c = await load(tenantId, req.params.id);
    const subscriptions = await a.subscriptions.ofContact(tenantId, c.id);
    const timeline = await a.timeline(tenantId, c.id);
    return { ...contactView(c), subscriptions, suppression: (await a.suppression.check(tenantId, c.email!)) ?? null, timeline };
  });

  app.patch<{ Params: { id: string } }>('/v1/contacts/:id', async (req) => {
    const tenantId = tenantOf(req);
    const c = await load(tenantId, req.params.id);
    const b = parseBody(UpdateContact, req.body);
    return contactView(unwrap(await a.contacts.upsert(tenantId, c.email!, b.fields)));
  });

  /** Erasure on request: personal data deleted, the address hash kept suppressed. */
  app.delete<{ Params: { id: string } }>('/v1/contacts/:id', async (req, reply) => {
    unwrap(await a.contacts.erase(tenantOf(req), pathRef(req.params.id)));
    return reply.code(204).send();
  });

  app.get<{ Querystring: { before?: string; limit?: string; q?: string; reason?: string } }>('/v1/suppressions', async (req) => {
    const limit = Math.max(1, Math.min(500, Number(req.query.limit ?? 50) || 50));
    const reason = SUPPRESSION_REASONS.find((r) => r === req.query.reason);
    const rows = await a.suppression.page(tenantOf(req), { before: req.query.before, limit, query: req.query.q, reason });
    return { data: rows.map(suppressionView), next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  app.post('/v1/suppressions', async (req, reply) => {
    const b = parseBody(AddSuppression, req.body);
    const row = unwrap(await a.suppression.add(tenantOf(req), b.email, b.reason as Suppression['reason'], `api:${req.principal!.keyId}`, b.note));
    return reply.code(201).send(suppressionView(row));
  });

  app.delete<{ Params: { email: string }; Querystring: { why?: string } }>('/v1/suppressions/:email', async (req, reply) => {
    unwrap(await a.suppression.remove(tenantOf(req), pathRef(req.params.email), `api:${req.principal!.keyId}`, req.query.why));
    return reply.code(204).send();
  });
}

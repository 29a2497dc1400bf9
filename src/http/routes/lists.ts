// Lists and subscriptions through the API (issue 3). Consent is mandatory on
// every subscription made through the API: the caller states how it was
// collected, and the record is kept as the proof (MJ-6).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { List } from '../../store/schema.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, pathRef, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const CreateList = z.object({
  name: z.string(),
  description: z.string().max(2000).optional(),
  fromAddress: z.string(),
  fromName: z.string().max(200),
  optIn: z.enum(['double', 'single']).optional(),
  allowRelationship: z.boolean().optional(),
  consentText: z.string().min(1).max(5000),
  stream: z.string().optional(),
}).strict();

const UpdateList = z.object({ consentText: z.string().min(1).max(5000) }).strict();

const iso = z.string().datetime({ offset: true }).transform((s) => Date.parse(s));
export const ConsentBody = z.object({
  source: z.enum(['form', 'api', 'import', 'contest', 'customer', 'other']),
  collectedAt: iso.optional(),
  formUrl: z.string().url().max(2000).optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  userAgent: z.string().max(1000).optional(),
  consentText: z.string().max(5000).optional(),
  checkboxUnchecked: z.boolean().optional(),
  separateConsent: z.boolean().optional(),
  optIn: z.enum(['single', 'confirmed', 'double', 'none']),
  confirmedAt: iso.optional(),
  relationship: z.string().max(1000).optional(),
  informedHow: z.string().max(1000).optional(),
}).strict();

const Subscribe = z.object({
  email: z.string(),
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  consent: ConsentBody,
}).strict();

export const listView = (l: List) => ({
  id: l.id, name: l.name, description: l.description, fromAddress: l.from_address, fromName: l.from_name, stream: l.stream,
  optIn: l.opt_in, allowRelationship: l.allow_relationship === 1, consentTextSha256: l.consent_text_hash, createdAt: new Date(l.created_at).toISOString(),
});

export function listRoutes(app: FastifyInstance, s: Services): void {
  const a = s.audience;
  const load = async (tenantId: string, ref: string) => {
    const l = await a.lists.find(tenantId, ref);
    if (!l) throw new FailureError({ code: 'not_found', detail: `no list ${ref}` });
    return l;
  };

  app.post('/v1/lists', async (req, reply) => {
    const b = parseBody(CreateList, req.body);
    return reply.code(201).send(listView(unwrap(await a.lists.create(tenantOf(req), b))));
  });

  app.get('/v1/lists', async (req) => ({ data: (await a.lists.list(tenantOf(req))).map(listView) }));

  app.get<{ Params: { id: string } }>('/v1/lists/:id', async (req) => {
    const tenantId = tenantOf(req);
    const l = await load(tenantId, req.params.id);
    return { ...listView(l), audience: await a.mailable.sunset(tenantId, [l.id]) };
  });

  app.patch<{ Params: { id: string } }>('/v1/lists/:id', async (req) => {
    const b = parseBody(UpdateList, req.body);
    return listView(unwrap(await a.lists.setConsentText(tenantOf(req), req.params.id, b.consentText)));
  });

  app.delete<{ Params: { id: string } }>('/v1/lists/:id', async (req, reply) => {
    unwrap(await a.lists.remove(tenantOf(req), req.params.id));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/v1/lists/:id/subscriptions', async (req, reply) => {
    const tenantId = tenantOf(req);
    const b = parseBody(Subscribe, req.body);
    const list = await load(tenantId, req.params.id);
    const r = unwrap(await a.subscriptions.subscribe(tenantId, list, b.email, b.fields, b.consent));
    return reply.code(r.alreadySubscribed ? 200 : 201).send({
      contactId: r.contact.id, list: list.name, status: r.subscription.status, consentId: r.consent.id,
      needsConfirmation: r.needsConfirmation, alreadySubscribed: r.alreadySubscribed,
    });
  });

  app.delete<{ Params: { id: string; contact: string } }>('/v1/lists/:id/subscriptions/:contact', async (req) => {
    const tenantId = tenantOf(req);
    const list = await load(tenantId, req.params.id);
    const c = await a.contacts.find(tenantId, pathRef(req.params.contact));
    if (!c) throw new FailureError({ code: 'not_found', detail: 'no such contact' });
    return { status: unwrap(await a.subscriptions.unsubscribe(tenantId, list.id, c.id, 'api')) };
  });
}

const CountBody = z.object({ lists: z.array(z.string()).min(1).max(50), segment: z.string().max(4000).optional() }).strict();

/** How many contacts a campaign to these lists (and segment) would reach, and how many the sunset policy holds back. */
export function audienceCountRoute(app: FastifyInstance, s: Services): void {
  app.post('/v1/audience/count', async (req) => {
    const tenantId = tenantOf(req);
    const b = parseBody(CountBody, req.body);
    const ids: string[] = [];
    for (const ref of b.lists) {
      const l = await s.audience.lists.find(tenantId, ref);
      if (!l) throw new FailureError({ code: 'not_found', detail: `no list ${ref}`, field: 'lists' });
      ids.push(l.id);
    }
    const segment = b.segment ? unwrap(s.audience.segment(tenantId, b.segment)) : undefined;
    return s.audience.mailable.sunset(tenantId, ids, segment);
  });
}

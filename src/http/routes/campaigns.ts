// Templates, the sender profile and campaigns through the API (issue 4).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { Campaign } from '../../store/schema.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const TemplateBody = z.object({
  format: z.enum(['mjml', 'html']),
  subject: z.string().min(1).max(998),
  body: z.string().min(1),
  text: z.string().optional(),
}).strict();
const CreateTemplate = TemplateBody.extend({ name: z.string() }).strict();
const LintDraft = TemplateBody.extend({
  contactId: z.string().min(1).max(200).optional(),
  email: z.string().min(1).max(320).optional(),
  from: z.object({ email: z.string().min(1).max(320), name: z.string().max(200).optional() }).strict().optional(),
}).strict();
/**
 * The editor posts the draft on every pause in typing: bounded well below the
 * API's message-sized limit. Gmail clips HTML past ~100 KB anyway, and the
 * lint says so long before this.
 */
export const LINT_BODY_LIMIT = 1024 * 1024;

const Profile = z.object({
  organisation: z.string().max(200),
  postalAddress: z.string().max(500),
  phone: z.string().max(40),
  organisationDomain: z.string().max(253),
  timezone: z.string().max(64).optional(),
  trackingHost: z.string().max(253).nullable().optional(),
}).strict();

const CampaignBody = z.object({
  name: z.string(),
  template: z.string(),
  templateVersion: z.number().int().positive().optional(),
  lists: z.array(z.string()).min(1).max(50),
  segment: z.string().max(4000).nullable().optional(),
  fromAddress: z.string().optional(),
  fromName: z.string().max(200).optional(),
  replyTo: z.string().nullable().optional(),
  stream: z.string().optional(),
  trackClicks: z.boolean().optional(),
  trackOpens: z.boolean().optional(),
}).strict();

const Schedule = z.object({ at: z.string().max(40).optional() }).strict();
const TestSend = z.object({ to: z.array(z.string()).min(1).max(10), contact: z.record(z.string(), z.unknown()).optional() }).strict();
const Preview = z.object({ contact: z.record(z.string(), z.unknown()).optional(), email: z.string().optional() }).strict();

export const campaignView = (c: Campaign) => ({
  id: c.id, name: c.name, status: c.status, statusReason: c.status_reason, templateVersionId: c.template_version_id,
  lists: JSON.parse(c.list_ids), segment: c.segment, stream: c.stream, from: { email: c.from_address, name: c.from_name }, replyTo: c.reply_to,
  findings: JSON.parse(c.findings), approvedBy: c.approved_by, scheduledAt: c.scheduled_at === null ? null : new Date(c.scheduled_at).toISOString(),
  enqueued: c.enqueued, audienceDone: c.audience_done === 1, trackClicks: c.track_clicks === 1, trackOpens: c.track_opens === 1,
  createdAt: new Date(c.created_at).toISOString(), startedAt: c.started_at === null ? null : new Date(c.started_at).toISOString(),
  completedAt: c.completed_at === null ? null : new Date(c.completed_at).toISOString(),
});

export function campaignRoutes(app: FastifyInstance, s: Services): void {
  const cs = s.campaigns;
  const load = async (tenantId: string, id: string) => {
    const c = await cs.lifecycle.get(tenantId, id);
    if (!c) throw new FailureError({ code: 'not_found', detail: `no campaign ${id}` });
    return c;
  };

  app.put('/v1/profile', async (req) => unwrap(await s.profiles.set(tenantOf(req), parseBody(Profile, req.body))));
  app.get('/v1/profile', async (req) => {
    const p = await s.profiles.get(tenantOf(req));
    if (!p) throw new FailureError({ code: 'not_found', detail: 'no sender profile yet: PUT /v1/profile' });
    return p;
  });

  app.post('/v1/templates', async (req, reply) => {
    const b = parseBody(CreateTemplate, req.body);
    const { name, ...src } = b;
    return reply.code(201).send(unwrap(await cs.templates.create(tenantOf(req), name, src)));
  });
  // a draft rendered for a contact and linted, nothing saved (the compose editor)
  app.post('/v1/templates/lint', { bodyLimit: LINT_BODY_LIMIT }, async (req) => {
    const { contactId, email, from, ...source } = parseBody(LintDraft, req.body);
    return unwrap(await cs.lintDraft(tenantOf(req), { source, contactId, email, from }));
  });
  app.get('/v1/templates', async (req) => ({ data: await cs.templates.list(tenantOf(req)) }));
  app.put<{ Params: { id: string } }>('/v1/templates/:id', async (req) => unwrap(await cs.templates.update(tenantOf(req), req.params.id, parseBody(TemplateBody, req.body))));
  app.get<{ Params: { id: string }; Querystring: { version?: string } }>('/v1/templates/:id', async (req) => {
    const v = await cs.templates.version(tenantOf(req), req.params.id, req.query.version ? Number(req.query.version) : undefined);
    if (!v) throw new FailureError({ code: 'not_found', detail: `no template ${req.params.id}` });
    return v;
  });

  app.post('/v1/campaigns', async (req, reply) => reply.code(201).send(campaignView(unwrap(await cs.lifecycle.create(tenantOf(req), parseBody(CampaignBody, req.body))))));
  app.get('/v1/campaigns', async (req) => ({ data: (await cs.lifecycle.list(tenantOf(req))).map(campaignView) }));
  app.get<{ Params: { id: string } }>('/v1/campaigns/:id', async (req) => {
    const c = await load(tenantOf(req), req.params.id);
    return { ...campaignView(c), progress: await cs.progress(c.id) };
  });
  app.put<{ Params: { id: string } }>('/v1/campaigns/:id', async (req) => campaignView(unwrap(await cs.lifecycle.update(tenantOf(req), req.params.id, parseBody(CampaignBody, req.body)))));
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/preview', async (req) => {
    const c = await load(tenantOf(req), req.params.id);
    const b = parseBody(Preview, req.body ?? {});
    let fields = b.contact;
    if (b.email) {
      // the campaign as this contact of the tenant will get it
      const contact = await s.audience.contacts.find(c.tenant_id, b.email);
      if (!contact || contact.status !== 'active') throw new FailureError({ code: 'not_found', detail: `no contact ${b.email}`, field: 'email' });
      fields = { ...JSON.parse(contact.fields), email: contact.email, ...(b.contact ?? {}) };
    }
    return unwrap(await cs.lifecycle.check(c, fields));
  });
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/submit', async (req) => campaignView(unwrap(await cs.lifecycle.submit(tenantOf(req), req.params.id))));
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/schedule', async (req) => {
    const b = parseBody(Schedule, req.body ?? {});
    const c = campaignView(unwrap(await cs.lifecycle.schedule(tenantOf(req), req.params.id, b.at)));
    cs.poke();
    return c;
  });
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/pause', async (req) => campaignView(unwrap(await cs.lifecycle.pause(tenantOf(req), req.params.id))));
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/resume', async (req) => {
    const c = campaignView(unwrap(await cs.lifecycle.resume(tenantOf(req), req.params.id)));
    cs.poke();
    return c;
  });
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/cancel', async (req) => campaignView(unwrap(await cs.lifecycle.cancel(tenantOf(req), req.params.id))));
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/test', async (req, reply) => {
    const b = parseBody(TestSend, req.body);
    return reply.code(202).send(unwrap(await cs.testSend(tenantOf(req), req.params.id, b.to, b.contact)));
  });
  // operators approve campaigns held for review (MJ-9)
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/approve', { config: { auth: 'operator' } }, async (req) =>
    campaignView(unwrap(await cs.lifecycle.approve(req.params.id, `operator:${req.principal!.keyId}`))));
}

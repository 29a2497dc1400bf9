// The own REST API for transactional messages: POST /v1/messages (202 once the
// message is stored), with Idempotency-Key; GET /v1/messages/:id, its story;
// GET /v1/messages, the search by recipient or message id (the dashboard's).
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { OutgoingMessage } from '../../compose/types.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const Addr = z.union([z.string(), z.object({ email: z.string(), name: z.string().optional() }).strict()]);
const AddrList = z.union([Addr, z.array(Addr)]);

const SendBody = z.object({
  from: Addr,
  to: AddrList,
  cc: AddrList.optional(),
  bcc: AddrList.optional(),
  replyTo: Addr.optional(),
  subject: z.string().max(998).optional(),
  /** a saved template (name or id) instead of subject/text/html, rendered with `variables` */
  template: z.string().optional(),
  templateVersion: z.number().int().positive().optional(),
  variables: z.record(z.string(), z.unknown()).optional(),
  text: z.string().optional(),
  html: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  attachments: z.array(z.object({
    filename: z.string().max(255),
    contentType: z.string().max(255),
    /** base64 */
    content: z.string(),
    contentId: z.string().max(255).optional(),
  }).strict()).max(100).optional(),
  stream: z.string().optional(),
  customId: z.string().max(255).optional(),
}).strict();

// exactly one of recipient and messageId; the cursor is the last recipient id of the previous page
const Search = z.object({
  recipient: z.string().trim().min(3).max(320).optional(),
  messageId: z.string().trim().min(1).max(998).optional(),
  cursor: z.string().regex(/^rcp_[0-9a-z]{20,40}$/, 'not a cursor this search returned').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
}).strict().refine((q) => (q.recipient === undefined) !== (q.messageId === undefined), { message: 'give either recipient or messageId', path: ['recipient'] });
const Story = z.object({ recipient: z.string().trim().min(1).max(320).optional() }).strict();

type AddrIn = z.infer<typeof Addr>;
const addr = (a: AddrIn) => (typeof a === 'string' ? { email: a } : a);
const list = (a: AddrIn | AddrIn[] | undefined) => (a === undefined ? [] : Array.isArray(a) ? a.map(addr) : [addr(a)]);

function toOutgoing(b: z.infer<typeof SendBody>): OutgoingMessage {
  return {
    from: addr(b.from), to: list(b.to), cc: list(b.cc), bcc: list(b.bcc),
    replyTo: b.replyTo ? addr(b.replyTo) : undefined,
    subject: b.subject ?? '', text: b.text, html: b.html, headers: b.headers, stream: b.stream, customId: b.customId,
    attachments: b.attachments?.map((a, i) => {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(a.content)) {
        throw new FailureError({ code: 'request.invalid', detail: 'attachment content must be base64', field: `attachments[${i}].content` });
      }
      return { filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64'), contentId: a.contentId };
    }),
  };
}

export function messageRoutes(app: FastifyInstance, s: Services): void {
  app.post('/v1/messages', async (req, reply) => {
    const tenantId = tenantOf(req);
    const body = parseBody(SendBody, req.body);
    const keyHeader = req.headers['idempotency-key'];
    let idem: { key: string; requestHash: string } | undefined;
    if (typeof keyHeader === 'string') {
      if (!/^[\x21-\x7e]{1,255}$/.test(keyHeader)) throw new FailureError({ code: 'request.invalid', detail: 'Idempotency-Key: 1-255 printable ASCII characters' });
      idem = { key: keyHeader, requestHash: crypto.createHash('sha256').update(JSON.stringify(req.body)).digest('hex') };
    }
    const msg = toOutgoing(body);
    if (body.template) {
      if (body.subject !== undefined || body.text !== undefined || body.html !== undefined) {
        throw new FailureError({ code: 'request.invalid', detail: 'give either a template or subject/text/html, not both', field: 'template' });
      }
      msg.template = { ref: body.template, variables: body.variables ?? {}, version: body.templateVersion };
    }
    const out = unwrap(await s.transactional.send(tenantId, unwrap(await s.campaigns.templates.apply(tenantId, msg)), idem));
    if (out.replayed) reply.header('Idempotent-Replayed', 'true');
    return reply.code(202).send({ id: out.id, messageId: out.messageId, status: 'queued', recipients: out.recipients });
  });

  app.get('/v1/messages', async (req) => {
    const tenantId = tenantOf(req);
    const q = parseBody(Search, req.query ?? {});
    if (q.messageId !== undefined) return s.transactional.byMessageId(tenantId, q.messageId, q.limit);
    return s.transactional.byRecipient(tenantId, q.recipient!, { before: q.cursor, limit: q.limit });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', async (req) => {
    const q = parseBody(Story, req.query ?? {});
    const m = await s.transactional.get(tenantOf(req), req.params.id, q.recipient);
    if (!m) throw new FailureError({ code: 'not_found', detail: `no message ${req.params.id}` });
    return m;
  });
}

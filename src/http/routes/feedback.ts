// What the inbound MX received: bounces, complaints, abuse@/postmaster@
// reports (AF-8) and mailto unsubscribes, with what envoi made of each.
// A tenant sees its own; the operator sees all, unmatched ones included.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { scopeOf } from '../auth.ts';
import { FailureError } from '../../errors.ts';

const MAILBOXES = new Set(['bounce', 'unsubscribe', 'abuse', 'postmaster']);
const STATUSES = new Set(['received', 'processed', 'unmatched', 'unparsed']);

export function feedbackRoutes(app: FastifyInstance, s: Services): void {
  app.get<{ Querystring: { limit?: string; before?: string; mailbox?: string; status?: string } }>('/v1/feedback', { config: { auth: 'any' } }, async (req) => {
    const { mailbox, status } = req.query;
    if (mailbox && !MAILBOXES.has(mailbox)) throw new FailureError({ code: 'request.invalid', detail: `mailbox is one of ${[...MAILBOXES].join(', ')}`, field: 'mailbox' });
    if (status && !STATUSES.has(status)) throw new FailureError({ code: 'request.invalid', detail: `status is one of ${[...STATUSES].join(', ')}`, field: 'status' });
    const limit = Math.max(1, Math.min(500, Number(req.query.limit ?? 50) || 50));
    const rows = await s.feedback.list(scopeOf(req), { limit, before: req.query.before, mailbox, status });
    return { data: rows.map(view), next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  app.get<{ Params: { id: string } }>('/v1/feedback/:id', { config: { auth: 'any' } }, async (req) => {
    const r = await s.feedback.get(scopeOf(req), req.params.id);
    if (!r.ok) throw new FailureError(r.error);
    const { raw: _raw, ...row } = r.value;
    return view(row);
  });

  app.get<{ Params: { id: string } }>('/v1/feedback/:id/raw', { config: { auth: 'any' } }, async (req, reply) => {
    const r = await s.feedback.get(scopeOf(req), req.params.id);
    if (!r.ok) throw new FailureError(r.error);
    return reply.type('message/rfc822').send(r.value.raw);
  });
}

function view(r: { id: string; tenant_id: string | null; mailbox: string; rcpt_to: string; mail_from: string; remote_address: string; received_at: number; size: number; status: string; kind: string | null; recipient_id: string | null; message_id: string | null; address: string | null; subject: string | null; summary: string; acknowledged_at: number | null }) {
  return {
    id: r.id, tenant: r.tenant_id, mailbox: r.mailbox, rcptTo: r.rcpt_to, mailFrom: r.mail_from, remoteAddress: r.remote_address,
    receivedAt: new Date(r.received_at).toISOString(), size: r.size, status: r.status, kind: r.kind,
    recipientId: r.recipient_id, messageId: r.message_id, address: r.address, subject: r.subject,
    acknowledgedAt: r.acknowledged_at ? new Date(r.acknowledged_at).toISOString() : null,
    ...JSON.parse(r.summary) as Record<string, unknown>,
  };
}

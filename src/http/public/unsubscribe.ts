// One-click unsubscribe (RFC 8058, GM-9, MJ-7, AF-18). The List-Unsubscribe
// URL of every marketing message is /u/<token>, the token naming the queue
// row, so it is bound to (tenant, list, contact, message) and cannot be
// forged (compose/recipient-token.ts).
//   POST /u/<token>: unsubscribes from the list at once — no login, cookie,
//     CSRF token or confirmation, as Gmail and Yahoo send it (body
//     "List-Unsubscribe=One-Click") and as the page's button sends it;
//     idempotent, 200.
//   GET /u/<token>: a page with one button; a GET never unsubscribes,
//     because mail scanners prefetch links.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Secrets } from '../../accounts/secrets.ts';
import type { Services } from '../../services.ts';
import { parseRecipientToken } from '../../compose/recipient-token.ts';
import { html } from './html.ts';
import { page } from './pages.ts';
import { clientKey, createRateLimiter } from './rate-limit.ts';
import type { Clock } from '../../clock.ts';

export interface UnsubscribeDeps {
  services: Services;
  secrets: Secrets;
  db: Kysely<Database>;
  clock: Clock;
}

/**
 * Forged-token probing is limited per client, valid links never are: Gmail
 * and Yahoo send one-click POSTs for many users from a few addresses, and an
 * unsubscribe must always work (MJ-7).
 */
export function invalidTokenLimiter(clock: Clock) {
  const limiter = createRateLimiter({ limit: 30, windowMs: 60_000, clock });
  return (ip: string) => limiter.hit(clientKey(ip));
}

const HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function unsubscribeRoutes(d: UnsubscribeDeps) {
  const probe = invalidTokenLimiter(d.clock);
  async function target(token: string) {
    const rid = parseRecipientToken(d.secrets, 'unsub', token);
    if (!rid) return undefined;
    return d.db.selectFrom('recipients as r').innerJoin('lists as l', 'l.id', 'r.list_id')
      .select(['r.tenant_id', 'r.list_id', 'r.contact_id', 'r.message_id', 'l.name as list', 'l.from_name'])
      .where('r.id', '=', rid).executeTakeFirst();
  }
  const send = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
    reply.code(status).headers(HEADERS).type('text/html; charset=utf-8').send(page(title, body));
  const invalid = (reply: FastifyReply) => {
    const limited = probe(reply.request.ip);
    if (!limited.allowed) return send(reply.header('retry-after', String(limited.retryAfterSeconds)), 429, 'Too many attempts', html`<h1>Too many attempts</h1><p>Try again later.</p>`);
    return send(reply, 400, 'Link not valid', html`<h1>This unsubscribe link is not valid</h1><p>Nothing was changed. Use the link of the most recent email you received, or reply to it and ask to be removed.</p>`);
  };

  return async function plugin(app: FastifyInstance): Promise<void> {
    // RFC 8058 allows the one-click body as multipart/form-data too; only one field matters
    app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, /name="?List-Unsubscribe"?\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click/.test(String(body)) ? { 'List-Unsubscribe': 'One-Click' } : {});
    });
    app.get<{ Params: { token: string } }>('/u/:token', { config: { auth: 'public' } }, async (req, reply) => {
      const t = await target(req.params.token);
      if (!t) return invalid(reply);
      const others = (await d.services.audience.subscriptions.ofContact(t.tenant_id, t.contact_id!)).filter((x) => x.list_id !== t.list_id);
      // the list preferences: the contact's other lists of this sender, each with its own button
      const prefs = others.length ? html`<h2>Your other lists</h2><ul>${others.map((o) => html`<li>${o.list}: ${o.status === 'unsubscribed' ? 'unsubscribed' : html`subscribed <form method="post" action="/u/${req.params.token}" style="display:inline"><input type="hidden" name="list" value="${o.list_id}"><button type="submit">Unsubscribe from ${o.list}</button></form>`}</li>`)}</ul>` : html``;
      return send(reply, 200, `Unsubscribe from ${t.list}`, html`<h1>Unsubscribe from ${t.list}</h1>
<p>You will no longer receive the emails of the list <strong>${t.list}</strong> from ${t.from_name}.</p>
<form method="post" action="/u/${req.params.token}"><button type="submit" name="confirm" value="1">Unsubscribe</button></form>${prefs}`);
    });

    app.post<{ Params: { token: string } }>('/u/:token', { config: { auth: 'public' }, bodyLimit: 4096 }, async (req, reply) => {
      const t = await target(req.params.token);
      if (!t) return invalid(reply);
      // another list of the same contact and sender, chosen on the preferences part of the page
      const other = !isOneClick(req.body) ? otherList(req.body) : undefined;
      const chosen = other ? (await d.services.audience.subscriptions.ofContact(t.tenant_id, t.contact_id!)).find((x) => x.list_id === other) : undefined;
      if (other && !chosen) return invalid(reply);
      const listId = chosen?.list_id ?? t.list_id!;
      const r = await d.services.audience.subscriptions.unsubscribe(t.tenant_id, listId, t.contact_id!, isOneClick(req.body) ? 'one-click' : 'unsubscribe-page');
      if (!r.ok) return invalid(reply);
      return send(reply, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p>You will no longer receive the emails of the list <strong>${chosen?.list ?? t.list}</strong>. It takes effect now, including for a sending already under way.</p>`);
    });
  };
}

function otherList(body: unknown): string | undefined {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).list : undefined;
  return typeof v === 'string' && v.length <= 64 ? v : undefined;
}

function isOneClick(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
}

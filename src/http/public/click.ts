// The click redirect of tracked links (compose/links.ts): verify the
// signature, record the click (event and the contact's engagement, which
// feeds the sunset policy), send the browser on. Only URLs signed at
// composition are ever redirected to: no open redirect.
// And the open pixel (/o/<token>): a 1×1 GIF; the open is recorded, and
// counts as engagement unless a machine fetched it (policy/machine-opens.ts:
// Apple Mail Privacy Protection, security scanners).
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Secrets } from '../../accounts/secrets.ts';
import type { Clock } from '../../clock.ts';
import type { Services } from '../../services.ts';
import { parseClickToken } from '../../compose/links.ts';
import { appendEvents } from '../../events/log.ts';
import { html } from './html.ts';
import { page } from './pages.ts';
import { invalidTokenLimiter } from './unsubscribe.ts';
import { parseRecipientToken } from '../../compose/recipient-token.ts';
import { machineVerdict } from '../../policy/machine-opens.ts';

// the public pages' headers (forms.ts, unsubscribe.ts): the "not valid" page is one of them
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

// the smallest transparent GIF
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function clickRoutes(d: { services: Services; secrets: Secrets; db: Kysely<Database>; clock: Clock }) {
  const probe = invalidTokenLimiter(d.clock);
  /** The event, and engagement when a person did it. */
  async function record(recipientId: string, kind: 'open' | 'click', ip: string, userAgent: string | undefined, extra: Record<string, unknown>) {
    const r = await d.db.selectFrom('recipients').select(['tenant_id', 'message_id', 'contact_id', 'campaign_id', 'status', 'updated_at']).where('id', '=', recipientId).executeTakeFirst();
    if (!r) return;
    const now = d.clock.now();
    const verdict = machineVerdict({ userAgent, ip, sinceDeliveryMs: r.status === 'delivered' ? now - r.updated_at : undefined }, kind);
    const data = { ...extra, campaign: r.campaign_id, ...(verdict.machine ? { machine: true, machineReason: verdict.reason } : {}) };
    await appendEvents(d.db, [{ tenantId: r.tenant_id, messageId: r.message_id, recipientId, type: kind === 'open' ? 'opened' : 'clicked', at: now, data }]);
    if (r.contact_id && !verdict.machine) await d.services.audience.contacts.engaged(r.tenant_id, r.contact_id, kind, now);
  }

  return async function plugin(app: FastifyInstance): Promise<void> {
    // the pixel always answers with the image, valid token or not: a broken image in a reader's mail helps nobody
    app.get<{ Params: { token: string } }>('/o/:token', { config: { auth: 'public' } }, async (req, reply) => {
      const rid = parseRecipientToken(d.secrets, 'open', req.params.token.replace(/\.gif$/i, ''));
      if (rid) await record(rid, 'open', req.ip, req.headers['user-agent'], {});
      else probe(req.ip);
      return reply.code(200).type('image/gif').header('cache-control', 'no-store, max-age=0').header('referrer-policy', 'no-referrer').send(PIXEL);
    });

    // a wildcard: a token carries its URL and is longer than fastify's 100-character parameters
    app.get('/c/*', { config: { auth: 'public' } }, async (req, reply) => {
      const token = (req.params as { '*': string })['*'];
      const t = parseClickToken(d.secrets, token);
      if (!t) {
        const limited = probe(req.ip);
        if (!limited.allowed) return reply.code(429).header('retry-after', String(limited.retryAfterSeconds)).send();
        return reply.code(400).type('text/html; charset=utf-8').headers(PAGE_HEADERS)
          .send(page('Link not valid', html`<h1>This link is not valid</h1><p>It was changed or damaged on the way. Nothing was opened.</p>`));
      }
      await record(t.recipientId, 'click', req.ip, req.headers['user-agent'], { url: t.url });
      return reply.code(302).header('location', t.url).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
    });
  };
}

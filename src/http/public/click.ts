// The click redirect of tracked links (compose/links.ts): verify the
// signature, record the click (event and the contact's engagement, which
// feeds the sunset policy), send the browser on. Only URLs signed at
// composition are ever redirected to: no open redirect.
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

export function clickRoutes(d: { services: Services; secrets: Secrets; db: Kysely<Database>; clock: Clock }) {
  const probe = invalidTokenLimiter(d.clock);
  return async function plugin(app: FastifyInstance): Promise<void> {
    // a wildcard: a token carries its URL and is longer than fastify's 100-character parameters
    app.get('/c/*', { config: { auth: 'public' } }, async (req, reply) => {
      const token = (req.params as { '*': string })['*'];
      const t = parseClickToken(d.secrets, token);
      if (!t) {
        const limited = probe(req.ip);
        if (!limited.allowed) return reply.code(429).header('retry-after', String(limited.retryAfterSeconds)).send();
        return reply.code(400).type('text/html; charset=utf-8').header('cache-control', 'no-store')
          .send(page('Link not valid', html`<h1>This link is not valid</h1><p>It was changed or damaged on the way. Nothing was opened.</p>`));
      }
      const r = await d.db.selectFrom('recipients').select(['tenant_id', 'message_id', 'contact_id', 'campaign_id']).where('id', '=', t.recipientId).executeTakeFirst();
      if (r) {
        const now = d.clock.now();
        await appendEvents(d.db, [{ tenantId: r.tenant_id, messageId: r.message_id, recipientId: t.recipientId, type: 'clicked', at: now, data: { url: t.url, campaign: r.campaign_id } }]);
        if (r.contact_id) await d.services.audience.contacts.engaged(r.tenant_id, r.contact_id, 'click', now);
      }
      return reply.code(302).header('location', t.url).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
    });
  };
}

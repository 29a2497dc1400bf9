// Consent collection at the HTTP edge (MJ-5, MJ-6, AF-14, AF-16): the hosted
// subscription form and its snippet, the sign-up post, and the confirmation
// link. Public routes; what protects them:
// - a signed form token (list, consent wording, issue time) so a post names
//   a form envoi served and the exact words the subscriber saw;
// - a honeypot answered like a success, so a bot learns nothing;
// - a per-IP burst limit here and a per-address daily cap on confirmation
//   mails (persistent), so the form cannot be used to bomb an inbox;
// - one answer for every address, so the form cannot tell who is subscribed;
// - a GET on a confirmation link never confirms: mail scanners prefetch links.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, List } from '../../store/schema.ts';
import type { Services } from '../../services.ts';
import type { Secrets } from '../../accounts/secrets.ts';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config/schema.ts';
import { signToken, verifyToken } from '../../accounts/tokens.ts';
import { consentText } from '../../audience/consent-texts.ts';
import { contactAddress } from '../../audience/address.ts';
import { hit } from '../../audience/counters.ts';
import { confirmationMessage, confirmationToken, readConfirmationToken, type ConfirmationRef } from '../../audience/confirmation.ts';
import { appendEvents } from '../../events/log.ts';
import { FailureError } from '../../errors.ts';
import { tenantOf } from '../auth.ts';
import { clientKey, createRateLimiter } from './rate-limit.ts';
import * as pages from './pages.ts';

export interface FormDeps {
  services: Services;
  secrets: Secrets;
  clock: Clock;
  audience: Config['audience'];
  /** for the confirmation-mail counter and the event log, both audience-owned SQL */
  db: Kysely<Database>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A hosted form may sit in an open tab overnight; a stale one is simply shown again with a fresh token. */
const PAGE_TOKEN_TTL = DAY;
/** The snippet lives in the sender's site; it must be regenerated after a year. */
const SNIPPET_TOKEN_TTL = 365 * DAY;
const MAX_FORM_BYTES = 16 * 1024;

// The brief's policy, plus frame-ancestors: a framed consent box invites
// clickjacking, and neither the hosted page nor the snippet's answers need a frame.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  // pages carry single-use tokens and personal answers: never cached
  'cache-control': 'no-store',
};

type FormKind = 'page' | 'snippet';
interface FormToken { l: string; h: string; k: FormKind }

export function formRoutes(d: FormDeps) {
  const { services: s, secrets, clock } = d;
  const lists = s.audience.lists;
  const limiter = createRateLimiter({ limit: d.audience.formRequestsPerIpPerMinute, windowMs: 60_000, clock });

  const formToken = (list: List, kind: FormKind, ttl: number) =>
    signToken(secrets, 'form', { l: list.id, h: list.consent_text_hash, k: kind, i: Math.floor(clock.now() / 1000) }, clock.now() + ttl);

  async function view(list: List, textHash = list.consent_text_hash): Promise<pages.FormView> {
    const text = (await consentText(d.db, textHash)) ?? (await consentText(d.db, list.consent_text_hash)) ?? '';
    return {
      listId: list.id, name: list.name, description: list.description, fromName: list.from_name, fromAddress: list.from_address,
      optIn: list.opt_in, consentText: text,
    };
  }

  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

  /** The form again, with the current wording and a fresh token; the consent box is never re-ticked for them. */
  async function formAgain(reply: FastifyReply, list: List, state: pages.FormState) {
    return html(reply, 400, pages.formPage(await view(list), formToken(list, 'page', PAGE_TOKEN_TTL), state));
  }

  function readFormToken(token: string, listId: string): FormToken | null {
    const v = verifyToken<Partial<FormToken>>(secrets, 'form', token, clock.now());
    if (!v.ok || v.payload.l !== listId || typeof v.payload.h !== 'string') return null;
    return { l: listId, h: v.payload.h, k: v.payload.k === 'snippet' ? 'snippet' : 'page' };
  }

  /** The page the subscriber filled in: ours, or for a snippet the sender's page as the browser reports it. */
  function formUrl(req: FastifyRequest, listId: string, kind: FormKind): string {
    const hosted = `${s.publicUrl()}/f/${listId}`;
    if (kind === 'page') return hosted;
    const reported = req.headers.referer ?? req.headers.origin;
    return typeof reported === 'string' && /^https?:\/\/[^\s]{1,500}$/.test(reported) ? reported : hosted;
  }

  async function sendConfirmation(req: FastifyRequest, list: List, email: string, ids: { contactId: string; consentId: string }) {
    // Only an unsubscribe is lifted by confirming; mailing a bounced, complaining
    // or trap address would only hurt the sender's reputation for nothing.
    const suppressed = await s.audience.suppression.check(list.tenant_id, email);
    if (suppressed && suppressed.reason !== 'unsubscribe') return;
    const now = clock.now();
    const expiresAt = now + d.audience.confirmationTtlHours * HOUR;
    const token = confirmationToken(secrets, { tenantId: list.tenant_id, listId: list.id, ...ids }, expiresAt);
    const msg = confirmationMessage({ list, to: email, link: `${s.publicUrl()}/confirm/${token}`, expiresAt });
    const sent = await s.transactional.send(list.tenant_id, msg);
    if (!sent.ok) {
      // the tenant cannot send (disabled, domain gone): the visitor sees the usual page, the operator the log
      req.log.warn({ list: list.id, code: sent.error.code, detail: sent.error.detail }, 'confirmation mail not sent');
      return;
    }
    await appendEvents(d.db, [{
      tenantId: list.tenant_id, messageId: ids.contactId, type: 'confirmation_sent', at: now,
      data: { list: list.name, listId: list.id, consent: ids.consentId, message: sent.value.id },
    }]);
  }

  async function signUp(req: FastifyRequest<{ Params: { listId: string } }>, reply: FastifyReply) {
    const limited = limiter.hit(clientKey(req.ip));
    if (!limited.allowed) {
      return html(reply.header('retry-after', String(limited.retryAfterSeconds)), 429, pages.rateLimitedPage(limited.retryAfterSeconds));
    }
    const list = await lists.findPublic(req.params.listId);
    if (!list) return html(reply, 404, pages.notFoundPage());
    const field = formField(req.body);
    const state = { email: field('email').slice(0, 254), firstName: field('first_name').slice(0, 100) };

    const token = readFormToken(field('token'), list.id);
    if (!token) return formAgain(reply, list, { ...state, error: 'This form was out of date or could not be checked. Please submit it again.' });
    const v = await view(list, token.h);
    const done = () => html(reply, 200, list.opt_in === 'double' ? pages.checkInboxPage(v, d.audience.confirmationTtlHours) : pages.subscribedPage(v));
    if (field('website')) return done(); // honeypot: a person never sees this field
    if (!['yes', 'on'].includes(field('consent'))) {
      return formAgain(reply, list, { ...state, error: 'Please tick the consent box to subscribe: we send nothing without your consent.' });
    }
    const address = contactAddress(state.email);
    if (!address.ok) return formAgain(reply, list, { ...state, error: 'Please enter a valid email address.' });
    const firstName = state.firstName.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();

    if (list.opt_in === 'double') {
      // Checked before storing anything: a sign-up over the cap must not write a
      // new consent record, which would supersede the link already mailed.
      const key = `confirm:${list.tenant_id}:${address.value.hash}`;
      if (!(await hit(d.db, key, DAY, d.audience.confirmationsPerAddressPerDay, clock.now()))) return done();
    }
    const r = await s.audience.subscriptions.subscribe(list.tenant_id, list, address.value.email, firstName ? { first_name: firstName } : {}, {
      source: 'form', ip: req.ip, userAgent: userAgent(req), formUrl: formUrl(req, list.id, token.k), consentText: v.consentText,
      checkboxUnchecked: true, separateConsent: true, optIn: 'single',
    });
    // An erased address and the like get the usual page: the form must not tell who is known.
    if (!r.ok) req.log.info({ list: list.id, code: r.error.code }, 'form sign-up not stored');
    else if (r.value.needsConfirmation) await sendConfirmation(req, list, address.value.email, { contactId: r.value.contact.id, consentId: r.value.consent.id });
    return done();
  }

  /** What a confirmation link points to, read without changing anything; or why it cannot be used. */
  async function linkState(token: string): Promise<{ problem: pages.LinkProblem } | { ref: ConfirmationRef; view: pages.FormView }> {
    const c = readConfirmationToken(secrets, token, clock.now());
    if (!c.ok) return { problem: c.reason === 'expired' ? 'expired' : 'invalid' };
    const list = await lists.find(c.ref.tenantId, c.ref.listId);
    if (!list) return { problem: 'closed' };
    return { ref: c.ref, view: await view(list) };
  }

  const problemPage = (reply: FastifyReply, p: pages.LinkProblem) => html(reply, p === 'invalid' ? 400 : 410, pages.linkProblemPage(p));

  async function publicPages(app: FastifyInstance) {
    app.addHook('onSend', async (_req, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    app.setErrorHandler((err: { statusCode?: number }, req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) req.log.error({ err }, 'public page failed');
      return html(reply, status, pages.errorPage());
    });
    const pub = { config: { auth: 'public' as const } };

    app.get<{ Params: { listId: string } }>('/f/:listId', pub, async (req, reply) => {
      const list = await lists.findPublic(req.params.listId);
      if (!list) return html(reply, 404, pages.notFoundPage());
      return html(reply, 200, pages.formPage(await view(list), formToken(list, 'page', PAGE_TOKEN_TTL)));
    });

    app.post<{ Params: { listId: string } }>('/f/:listId', { ...pub, bodyLimit: MAX_FORM_BYTES }, signUp);

    // A wildcard, not ":token": the router refuses a named parameter over 100
    // characters (414), and a signed token is longer; verifyToken caps it at 2048.
    app.get<{ Params: { '*': string } }>('/confirm/*', pub, async (req, reply) => {
      const token = req.params['*'];
      const st = await linkState(token);
      if ('problem' in st) return problemPage(reply, st.problem);
      const sub = (await s.audience.subscriptions.ofContact(st.ref.tenantId, st.ref.contactId)).find((x) => x.list_id === st.ref.listId);
      if (!sub || sub.consent_id !== st.ref.consentId) return problemPage(reply, 'superseded');
      if (sub.status === 'unsubscribed') return problemPage(reply, 'unsubscribed');
      if (sub.status === 'subscribed') return html(reply, 200, pages.confirmedPage(st.view, true));
      return html(reply, 200, pages.confirmAskPage(st.view, `/confirm/${token}`));
    });

    app.post<{ Params: { '*': string } }>('/confirm/*', { ...pub, bodyLimit: MAX_FORM_BYTES }, async (req, reply) => {
      const st = await linkState(req.params['*']);
      if ('problem' in st) return problemPage(reply, st.problem);
      const { tenantId, listId, contactId, consentId } = st.ref;
      const r = await s.audience.subscriptions.confirm(tenantId, listId, contactId, consentId, req.ip, userAgent(req));
      if (!r.ok) return problemPage(reply, r.error.code === 'conflict' ? 'unsubscribed' : 'superseded');
      return html(reply, 200, pages.confirmedPage(st.view, r.value === 'already'));
    });
  }

  return async function forms(app: FastifyInstance): Promise<void> {
    await app.register(publicPages);

    // The snippet is an API answer (tenant key, problem documents), not a public page.
    app.get<{ Params: { id: string } }>('/v1/lists/:id/form-snippet', async (req, reply) => {
      const list = await lists.find(tenantOf(req), req.params.id);
      if (!list) throw new FailureError({ code: 'not_found', detail: `no list ${req.params.id}` });
      if (list.form_enabled !== 1) throw new FailureError({ code: 'conflict', detail: `the subscription form of ${list.name} is closed` });
      const snippet = pages.formSnippet(await view(list), `${s.publicUrl()}/f/${list.id}`, formToken(list, 'snippet', SNIPPET_TOKEN_TTL));
      return reply.type('text/html; charset=utf-8').header('x-content-type-options', 'nosniff').send(snippet);
    });
  };
}

/** One string field of a form body; a repeated field counts by its first value. */
function formField(body: unknown): (name: string) => string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return (name) => {
    const v = Array.isArray(b[name]) ? (b[name] as unknown[])[0] : b[name];
    return typeof v === 'string' ? v : '';
  };
}

const userAgent = (req: FastifyRequest) => {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 512) : null;
};

// Outgoing webhooks (issue 6): what the edges see. A tenant registers
// endpoints for event types; the sender loop (sender.ts) POSTs each
// matching event of the log, signed with the endpoint's secret (shown once,
// stored sealed), retried with backoff for the retry window, then failed;
// every delivery stays listed with its status and last error.
import fs from 'node:fs';
import tls from 'node:tls';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { DialectName } from '../store/connect.ts';
import type { Database, WebhookDelivery, WebhookEndpoint } from '../store/schema.ts';
import { fail, ok, type Result } from '../errors.ts';
import { newId } from '../ids.ts';
import { createWebhookStore, type DeliveryStatus } from './store.ts';
import { checkUrl, hostOf, resolveTarget } from './targets.ts';
import { typesOf, testEvent, type WebhookFormat, type WebhookType } from './shapes.ts';
import { newWebhookSecret, SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import { postWebhook } from './post.ts';

export interface WebhooksConfig {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  allowHttp: boolean;
  caFile?: string;
}

export interface NewEndpoint {
  url: string;
  /** default: every type the format has */
  events?: WebhookType[];
  format?: WebhookFormat;
  /** several events per POST, as a JSON array (Mailjet's Event API "Version 2") */
  batch?: boolean;
  includeMachineOpens?: boolean;
  description?: string;
}

export interface EndpointView {
  id: string;
  url: string;
  basicAuth: boolean;
  events: WebhookType[];
  format: WebhookFormat;
  batch: boolean;
  includeMachineOpens: boolean;
  description: string;
  active: boolean;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function endpointView(e: WebhookEndpoint): EndpointView {
  return {
    id: e.id, url: e.url, basicAuth: e.auth_enc !== null, events: JSON.parse(e.events), format: e.format, batch: e.batch === 1,
    includeMachineOpens: e.machine_opens === 1, description: e.description, active: e.active === 1, createdAt: iso(e.created_at)!,
  };
}

export function deliveryView(d: WebhookDelivery): DeliveryView {
  return {
    id: d.id, eventId: `evt_${d.event_id}`, type: d.event_type, status: d.status, attempts: d.attempts,
    lastStatus: d.last_status, lastError: d.last_error, lastAttemptAt: iso(d.last_attempt_at),
    nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null, createdAt: iso(d.created_at)!, deliveredAt: iso(d.delivered_at),
  };
}

/** The CA file's certificates added to the system's, or none: read once. */
export function webhookCa(config: Pick<WebhooksConfig, 'caFile'>): string | undefined {
  return config.caFile ? fs.readFileSync(config.caFile, 'utf8') : undefined;
}

export function createWebhooks(d: { db: Kysely<Database>; dialect: DialectName; clock: Clock; secrets: Secrets; config: WebhooksConfig }) {
  const store = createWebhookStore(d.db, d.dialect);
  const ca = webhookCa(d.config);
  const find = async (tenantId: string, id: string): Promise<Result<WebhookEndpoint>> => {
    const e = await store.getEndpoint(tenantId, id);
    return e ? ok(e) : fail('not_found', `no webhook ${id}`);
  };

  return {
    store,

    /** Registers an endpoint; the answer carries the signing secret, the only time it is shown. */
    async create(tenantId: string, input: NewEndpoint): Promise<Result<EndpointView & { secret: string }>> {
      const url = checkUrl(input.url, { allowHttp: d.config.allowHttp });
      if (!url.ok) return url;
      const target = await resolveTarget(hostOf(url.value.url), d.config.allowPrivateTargets);
      if (!target.ok) return target;
      const format = input.format ?? 'native';
      const events = [...new Set(input.events ?? typesOf(format))];
      if (format === 'mailjet' && events.includes('deferred')) {
        return fail('request.invalid', 'events: Mailjet\'s format has no "deferred" event', 'events');
      }
      const secret = newWebhookSecret();
      const now = d.clock.now();
      const row = {
        id: newId('wh', now), tenant_id: tenantId, url: url.value.url,
        auth_enc: url.value.auth ? d.secrets.seal(JSON.stringify(url.value.auth)) : null,
        secret_enc: d.secrets.seal(secret), events: JSON.stringify(events), format,
        batch: input.batch ? 1 : 0, machine_opens: input.includeMachineOpens ? 1 : 0, description: input.description ?? '',
        active: 1,
        // from now on: an endpoint does not receive the history
        cursor: await store.maxEventId(), created_at: now,
      };
      await store.insertEndpoint(row);
      return ok({ ...endpointView(row), secret });
    },

    async list(tenantId: string): Promise<EndpointView[]> {
      return (await store.listEndpoints(tenantId)).map(endpointView);
    },

    async get(tenantId: string, id: string): Promise<Result<EndpointView & { deliveries: Record<DeliveryStatus, number> }>> {
      const e = await find(tenantId, id);
      if (!e.ok) return e;
      return ok({ ...endpointView(e.value), deliveries: await store.statusCounts(id) });
    },

    async remove(tenantId: string, id: string): Promise<Result<true>> {
      return (await store.deleteEndpoint(tenantId, id)) ? ok(true) : fail('not_found', `no webhook ${id}`);
    },

    /** Pauses (nothing fanned out or sent; events wait in the log) or resumes an endpoint. */
    async setActive(tenantId: string, id: string, active: boolean): Promise<Result<EndpointView>> {
      if (!(await store.setActive(tenantId, id, active))) return fail('not_found', `no webhook ${id}`);
      const e = await find(tenantId, id);
      return e.ok ? ok(endpointView(e.value)) : e;
    },

    async deliveries(tenantId: string, id: string, o: { status?: DeliveryStatus; before?: string; limit?: number }): Promise<Result<{ data: DeliveryView[]; next: string | null }>> {
      const e = await find(tenantId, id);
      if (!e.ok) return e;
      const limit = Math.min(Math.max(o.limit ?? 50, 1), 500);
      const rows = await store.listDeliveries(id, { status: o.status, before: o.before, limit });
      return ok({ data: rows.map(deliveryView), next: rows.length === limit ? rows[rows.length - 1].id : null });
    },

    /** Sends a test event now, signed like the real ones, and says what the endpoint answered. Nothing is stored. */
    async test(tenantId: string, id: string): Promise<Result<{ ok: boolean; status: number | null; error: string | null; durationMs: number }>> {
      const e = await find(tenantId, id);
      if (!e.ok) return e;
      const ep = e.value;
      const now = d.clock.now();
      const one = testEvent(ep.format, tenantId, now);
      const body = JSON.stringify(ep.batch === 1 ? [one] : one);
      const out = await postWebhook({
        url: ep.url, body,
        headers: { [SIGNATURE_HEADER]: signatureHeader(d.secrets.open(ep.secret_enc), Math.floor(now / 1000), body), 'Envoi-Attempt': '1' },
        auth: ep.auth_enc ? JSON.parse(d.secrets.open(ep.auth_enc)) : null,
      }, { timeoutMs: d.config.timeoutMs, allowPrivate: d.config.allowPrivateTargets, ca: ca ? [...tls.rootCertificates, ca] : undefined });
      return ok(out.ok
        ? { ok: true, status: out.status, error: null, durationMs: out.ms }
        : { ok: false, status: out.status, error: out.error, durationMs: out.ms });
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
export { startWebhookSender } from './sender.ts';

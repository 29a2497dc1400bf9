// The SQL of webhooks, in one place: endpoints, the fan-out from the event
// log to deliveries, and the delivery queue (claim with a lease, like the
// mail queue: FOR UPDATE SKIP LOCKED on PostgreSQL, so several processes
// never send one delivery twice in the normal path).
import type { Insertable, Kysely } from 'kysely';
import type { Database, Event, WebhookDelivery, WebhookDeliveryTable, WebhookEndpoint, WebhookEndpointTable } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import { newId } from '../ids.ts';
import { envoiTypesFor, shape, wanted, webhookTypeOf, type SourceEvent, type WebhookFormat, type WebhookType } from './shapes.ts';
import type { AfterFailure } from './backoff.ts';

export type DeliveryStatus = WebhookDeliveryTable['status'];

export function createWebhookStore(db: Kysely<Database>, dialect: DialectName) {
  return {
    async maxEventId(): Promise<number> {
      const r = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
      return Number(r?.m ?? 0);
    },

    async insertEndpoint(row: Insertable<WebhookEndpointTable>): Promise<void> {
      await db.insertInto('webhook_endpoints').values(row).execute();
    },

    listEndpoints(tenantId: string): Promise<WebhookEndpoint[]> {
      return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    },

    getEndpoint(tenantId: string, id: string): Promise<WebhookEndpoint | undefined> {
      return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    },

    async deleteEndpoint(tenantId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    async setActive(tenantId: string, id: string, active: boolean): Promise<boolean> {
      const r = await db.updateTable('webhook_endpoints').set({ active: active ? 1 : 0 }).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async statusCounts(endpointId: string): Promise<Record<DeliveryStatus, number>> {
      const rows = await db.selectFrom('webhook_deliveries').select(['status', (eb) => eb.fn.countAll().as('n')])
        .where('endpoint_id', '=', endpointId).groupBy('status').execute();
      const out: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0 };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },

    /** Newest first; `before` pages by id. */
    listDeliveries(endpointId: string, o: { status?: DeliveryStatus; before?: string; limit: number }): Promise<WebhookDelivery[]> {
      let q = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(o.limit);
      if (o.status) q = q.where('status', '=', o.status);
      if (o.before) q = q.where('id', '<', o.before);
      return q.execute();
    },

    /** Active endpoints with events to look at below the high-water mark. */
    endpointsBehind(hwm: number): Promise<{ id: string }[]> {
      return db.selectFrom('webhook_endpoints').select('id').where('active', '=', 1).where('cursor', '<', hwm).orderBy('id').execute();
    },

    /**
     * One endpoint's new events (up to `limit`, ids ≤ hwm) become deliveries,
     * and its cursor moves past them, in one transaction. On PostgreSQL the
     * endpoint row is locked, and skipped when another process holds it.
     * `full`: there are probably more.
     */
    async fanOut(endpointId: string, hwm: number, limit: number, now: number): Promise<{ created: number; full: boolean }> {
      return db.transaction().execute(async (trx) => {
        let q = trx.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpointId).where('active', '=', 1).where('cursor', '<', hwm);
        if (dialect === 'postgres') q = q.forUpdate().skipLocked();
        const ep = await q.executeTakeFirst();
        if (!ep) return { created: 0, full: false };
        const sub = { types: JSON.parse(ep.events) as WebhookType[], machineOpens: ep.machine_opens === 1 };
        const types = envoiTypesFor(sub.types);
        const events = types.length === 0 ? [] : await trx.selectFrom('events').selectAll()
          .where('tenant_id', '=', ep.tenant_id).where('id', '>', ep.cursor).where('id', '<=', hwm).where('type', 'in', types)
          .orderBy('id').limit(limit).execute();
        const full = events.length === limit;
        const sources = (await enrich(trx, events)).filter((e) => wanted(sub, e));
        const format = ep.format as WebhookFormat;
        let created = 0;
        if (sources.length > 0) {
          const res = await trx.insertInto('webhook_deliveries').values(sources.map((e) => ({
            id: newId('whd', now), endpoint_id: ep.id, tenant_id: ep.tenant_id, event_id: e.id,
            event_type: format === 'mailjet' && e.type === 'delivered' ? 'sent' : webhookTypeOf(e.type)!,
            payload: JSON.stringify(shape(format, e)), status: 'pending' as const, attempts: 0, next_attempt_at: now, created_at: now,
          }))).onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing()).executeTakeFirst();
          created = Number(res.numInsertedOrUpdatedRows ?? 0);
        }
        // a short page read everything up to the mark, including events of types this endpoint does not take
        await trx.updateTable('webhook_endpoints').set({ cursor: full ? events[events.length - 1].id : hwm }).where('id', '=', ep.id).execute();
        return { created, full };
      });
    },

    async claimDue(o: { workerId: string; now: number; limit: number; leaseMs: number }): Promise<WebhookDelivery[]> {
      let due = db.selectFrom('webhook_deliveries as d').select('d.id')
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', o.now)
        .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<', o.now)]))
        .where((eb) => eb.exists(eb.selectFrom('webhook_endpoints as e').select('e.id').whereRef('e.id', '=', 'd.endpoint_id').where('e.active', '=', 1)))
        .orderBy('d.next_attempt_at').orderBy('d.event_id')
        .limit(o.limit);
      if (dialect === 'postgres') due = due.forUpdate().skipLocked();
      const rows = await db.updateTable('webhook_deliveries')
        .set({ locked_by: o.workerId, locked_until: o.now + o.leaseMs })
        .where('id', 'in', due)
        .returningAll()
        .execute();
      return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.event_id - b.event_id);
    },

    endpointsByIds(ids: string[]): Promise<WebhookEndpoint[]> {
      return ids.length === 0 ? Promise.resolve([]) : db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
    },

    /** Writes only while the rows are still this worker's: an expired lease went to another. */
    async markDelivered(ids: string[], workerId: string, now: number, status: number): Promise<void> {
      await db.updateTable('webhook_deliveries')
        .set((eb) => ({
          status: 'delivered', attempts: eb('attempts', '+', 1), last_attempt_at: now, last_status: status, last_error: null,
          delivered_at: now, locked_by: null, locked_until: null,
        }))
        .where('id', 'in', ids).where('locked_by', '=', workerId).where('status', '=', 'pending')
        .execute();
    },

    /** A failed attempt (attempted: true) or a delivery not sent because its endpoint just failed (false). */
    async markFailed(rows: { id: string; decision: AfterFailure }[], workerId: string, now: number, f: { status: number | null; error: string; attempted: boolean }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const r of rows) {
          await trx.updateTable('webhook_deliveries')
            .set((eb) => ({
              status: r.decision.status,
              next_attempt_at: r.decision.status === 'pending' ? r.decision.nextAttemptAt : now,
              ...(f.attempted ? { attempts: eb('attempts', '+', 1), last_attempt_at: now, last_status: f.status } : {}),
              last_error: f.error, locked_by: null, locked_until: null,
            }))
            .where('id', '=', r.id).where('locked_by', '=', workerId).where('status', '=', 'pending')
            .execute();
        }
      });
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;

/** What a webhook says about an event besides the event: the recipient's address, custom id, campaign. */
async function enrich(db: Kysely<Database>, events: Event[]): Promise<SourceEvent[]> {
  const unique = (xs: (string | null)[]) => [...new Set(xs.filter((x): x is string => !!x))];
  // an unsubscribe is an audience event: its message_id column holds the contact
  const audience = (e: Event) => e.type === 'unsubscribed';
  const recipientIds = unique(events.map((e) => e.recipient_id));
  const messageIds = unique(events.filter((e) => !audience(e)).map((e) => e.message_id));
  const contactIds = unique(events.filter(audience).map((e) => e.message_id));
  const [recipients, messages, contacts] = await Promise.all([
    recipientIds.length ? db.selectFrom('recipients').select(['id', 'address', 'contact_id', 'campaign_id', 'list_id']).where('id', 'in', recipientIds).execute() : [],
    messageIds.length ? db.selectFrom('messages').select(['id', 'custom_id', 'campaign_id']).where('id', 'in', messageIds).execute() : [],
    contactIds.length ? db.selectFrom('contacts').select(['id', 'email']).where('id', 'in', contactIds).execute() : [],
  ]);
  const r = new Map(recipients.map((x) => [x.id, x]));
  const m = new Map(messages.map((x) => [x.id, x]));
  const c = new Map(contacts.map((x) => [x.id, x]));
  const staged = events.map((e) => {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    const base = { id: e.id, type: e.type, at: e.at, tenantId: e.tenant_id, data };
    if (audience(e)) {
      return { ...base, messageId: null, recipientId: null, email: c.get(e.message_id ?? '')?.email ?? null, customId: null, campaignId: null, contactId: e.message_id, listId: typeof data.list === 'string' ? data.list : null };
    }
    const rr = r.get(e.recipient_id ?? '');
    const mm = m.get(e.message_id ?? '');
    return {
      ...base, messageId: e.message_id, recipientId: e.recipient_id,
      email: rr?.address ?? (typeof data.to === 'string' ? data.to : null),
      customId: mm?.custom_id ?? null,
      campaignId: rr?.campaign_id ?? mm?.campaign_id ?? null,
      contactId: rr?.contact_id ?? null, listId: rr?.list_id ?? null,
    };
  });
  const campaignIds = unique(staged.map((e) => e.campaignId));
  const campaigns = campaignIds.length ? await db.selectFrom('campaigns').select(['id', 'name']).where('id', 'in', campaignIds).execute() : [];
  const names = new Map(campaigns.map((x) => [x.id, x.name]));
  return staged.map((e) => ({ ...e, campaignName: e.campaignId ? names.get(e.campaignId) ?? null : null }));
}

// The SQL of reputation, in one place: the rollup's cursor and counters, the
// lookups that attribute an event, Gmail-bound minutes and bulk domains,
// actions, per-tenant controls, pauses, daily usage and Postmaster imports.
import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  Database, Event, ReputationAction, ReputationActionTable, ReputationControl, ReputationControlTable, ReputationPause, ReputationPostmasterTable,
} from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import { COUNTED_TYPES, COUNTERS, type Counts } from './indicators.ts';
import { MINUTE_MS } from './rules.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface CounterRow extends Counts {
  tenant_id: string;
  day: string;
  dim: string;
  key: string;
}

/** A row of the event log as the rollup reads it. */
export type EventRow = Event;

const CURSOR = 'rollup';
const COUNTED = new Set<string>(COUNTED_TYPES);
const UPSERT_ROWS = 200;

export function createReputationStore(db: Kysely<Database>, dialect: DialectName) {
  return {
    db,
    dialect,

    async maxEventId(): Promise<number> {
      const r = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
      return Number(r?.m ?? 0);
    },

    async cursor(): Promise<number> {
      const r = await db.selectFrom('reputation_cursor').select('last_event_id').where('name', '=', CURSOR).executeTakeFirst();
      return Number(r?.last_event_id ?? 0);
    },

    /**
     * Runs fn in one transaction with the cursor claimed (on PostgreSQL the
     * row is locked and another process holding it is skipped: null), then
     * moves the cursor where fn says, only if nobody moved it meanwhile.
     */
    async withCursor<T>(now: number, fn: (trx: Transaction<Database>, cursor: number) => Promise<{ cursor: number; value: T }>): Promise<T | null> {
      return db.transaction().execute(async (trx) => {
        let q = trx.selectFrom('reputation_cursor').select('last_event_id').where('name', '=', CURSOR);
        if (dialect === 'postgres') q = q.forUpdate().skipLocked();
        const row = await q.executeTakeFirst();
        if (!row) return null;
        const from = Number(row.last_event_id);
        const out = await fn(trx, from);
        if (out.cursor !== from) {
          const moved = await trx.updateTable('reputation_cursor').set({ last_event_id: out.cursor, updated_at: now })
            .where('name', '=', CURSOR).where('last_event_id', '=', from).executeTakeFirst();
          if (Number(moved.numUpdatedRows) !== 1) throw new Error('reputation rollup: the cursor moved meanwhile; this pass is rolled back');
        }
        return out.value;
      });
    },

    /**
     * The next events after the cursor, by id (the primary key) only: a
     * filter on type here would let SQLite pick the (type, at) index and read
     * the whole log each pass. `last` is the last id read; `rows` only the
     * types that count.
     */
    async readEvents(trx: Db, after: number, upTo: number, limit: number): Promise<{ rows: EventRow[]; read: number; last: number }> {
      const all = await trx.selectFrom('events').select(['id', 'tenant_id', 'message_id', 'recipient_id', 'type', 'at', 'data'])
        .where('id', '>', after).where('id', '<=', upTo).orderBy('id').limit(limit).execute();
      return { rows: all.filter((e) => COUNTED.has(e.type)), read: all.length, last: all.length ? Number(all[all.length - 1].id) : after };
    },

    messages(trx: Db, ids: string[]) {
      return ids.length ? trx.selectFrom('messages').select(['id', 'domain_id', 'stream_id', 'campaign_id']).where('id', 'in', ids).execute() : Promise.resolve([]);
    },

    streams(trx: Db, ids: string[]) {
      return ids.length ? trx.selectFrom('streams').select(['id', 'ip_pool', 'kind']).where('id', 'in', ids).execute() : Promise.resolve([]);
    },

    domains(trx: Db, ids: string[]) {
      return ids.length ? trx.selectFrom('domains').select(['id', 'name', 'tenant_id']).where('id', 'in', ids).execute() : Promise.resolve([]);
    },

    /** The delivery event of each recipient, through the partial index events_delivered_recipient (named on SQLite, whose planner would take the (type, at) one). */
    async deliveries(trx: Db, recipientIds: string[]): Promise<{ recipient_id: string | null; data: string }[]> {
      if (!recipientIds.length) return [];
      const from = dialect === 'sqlite' ? sql`events indexed by events_delivered_recipient` : sql`events`;
      const r = await sql<{ recipient_id: string | null; data: string }>`select recipient_id, data from ${from} where type = 'delivered' and recipient_id in (${sql.join(recipientIds)})`.execute(trx);
      return r.rows;
    },

    /** A tenant's started campaigns with their lists, newest first: where an unsubscribe came from. */
    startedCampaigns(trx: Db, tenantId: string) {
      return trx.selectFrom('campaigns').select(['id', 'list_ids', 'started_at']).where('tenant_id', '=', tenantId).where('started_at', 'is not', null)
        .orderBy('started_at', 'desc').limit(200).execute();
    },

    campaignRecipient(trx: Db, campaignId: string, contactId: string) {
      return trx.selectFrom('recipients').select(['id', 'message_id', 'address']).where('campaign_id', '=', campaignId).where('contact_id', '=', contactId).executeTakeFirst();
    },

    /** Adds to the counters: a row's values are increments. */
    async addCounters(trx: Db, rows: CounterRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += UPSERT_ROWS) {
        await trx.insertInto('reputation_counters').values(rows.slice(i, i + UPSERT_ROWS))
          .onConflict((oc) => oc.columns(['tenant_id', 'dim', 'key', 'day']).doUpdateSet((eb) =>
            Object.fromEntries(COUNTERS.map((c) => [c, eb(`reputation_counters.${c}`, '+', eb.ref(`excluded.${c}`))])) as never))
          .execute();
      }
    },

    async addGmailMinutes(trx: Db, rows: { org_domain: string; minute: number; count: number }[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 500) {
        await trx.insertInto('reputation_gmail_minutes').values(rows.slice(i, i + 500))
          .onConflict((oc) => oc.columns(['org_domain', 'minute']).doUpdateSet((eb) => ({ count: eb('reputation_gmail_minutes.count', '+', eb.ref('excluded.count')) })))
          .execute();
      }
    },

    /** The minute buckets of organizational domains that overlap (from, to]. */
    gmailMinutes(orgs: string[], from: number, to: number) {
      return orgs.length
        ? db.selectFrom('reputation_gmail_minutes').select(['org_domain', 'minute', 'count']).where('org_domain', 'in', orgs)
          .where('minute', '>', from - MINUTE_MS).where('minute', '<=', to).execute()
        : Promise.resolve([]);
    },

    async pruneGmailMinutes(before: number): Promise<void> {
      await db.deleteFrom('reputation_gmail_minutes').where('minute', '<', before).execute();
    },

    /** A tenant's counters from a day on (every dimension). */
    countersOfTenant(tenantId: string, fromDay: string): Promise<CounterRow[]> {
      return db.selectFrom('reputation_counters').selectAll().where('tenant_id', '=', tenantId).where('day', '>=', fromDay).execute();
    },

    /** One key's counters (all days, or from a day). */
    countersOf(tenantId: string, dim: string, key: string, fromDay = '0000-00-00'): Promise<CounterRow[]> {
      return db.selectFrom('reputation_counters').selectAll().where('tenant_id', '=', tenantId).where('dim', '=', dim).where('key', '=', key)
        .where('day', '>=', fromDay).orderBy('day').execute();
    },

    bulkDomains(orgs: string[]) {
      return orgs.length ? db.selectFrom('reputation_bulk_domains').selectAll().where('org_domain', 'in', orgs).execute() : Promise.resolve([]);
    },

    /** Marks an organizational domain bulk; false when it was already (the status never goes away). */
    async markBulk(org: string, since: number, count: number, tenantId: string): Promise<boolean> {
      const r = await db.insertInto('reputation_bulk_domains').values({ org_domain: org, since, count, tenant_id: tenantId })
        .onConflict((oc) => oc.column('org_domain').doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    /** Sending domains (every tenant's, or one's), with whether each has an active DKIM key: what the bulk requirements read. */
    async domainsWithKeys(tenantId?: string) {
      let q = db.selectFrom('domains as d')
        .select(['d.id', 'd.name', 'd.tenant_id', 'd.verified',
          (eb) => eb.exists(eb.selectFrom('dkim_keys as k').select('k.id').whereRef('k.domain_id', '=', 'd.id').where('k.active', '=', 1)).as('has_key')]);
      if (tenantId) q = q.where('d.tenant_id', '=', tenantId);
      const rows = await q.execute();
      return rows.map((r) => ({ id: r.id, name: r.name, tenantId: r.tenant_id, verified: r.verified === 1, dkimKey: Boolean(r.has_key) }));
    },

    /** Records an action; false when this rule already acted on this scope and window. */
    async insertAction(row: ReputationActionTable): Promise<boolean> {
      const r = await db.insertInto('reputation_actions').values(row)
        .onConflict((oc) => oc.columns(['tenant_id', 'scope', 'scope_key', 'rule', 'window']).doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    /** Earlier windows in which the same rule acted on the same scope since a time. */
    async earlierCrossings(tenantId: string, scope: string, key: string, rule: string, window: string, since: number): Promise<number> {
      const r = await db.selectFrom('reputation_actions').select((eb) => eb.fn.count<number>('window').distinct().as('n'))
        .where('tenant_id', '=', tenantId).where('scope', '=', scope).where('scope_key', '=', key).where('rule', '=', rule)
        .where('window', '<>', window).where('created_at', '>=', since).executeTakeFirst();
      return Number(r?.n ?? 0);
    },

    actions(tenantId: string | null, limit = 50): Promise<ReputationAction[]> {
      let q = db.selectFrom('reputation_actions').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
      if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
      return q.execute();
    },

    controls(tenantId: string): Promise<ReputationControl | undefined> {
      return db.selectFrom('reputation_controls').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    },

    async setControls(tenantId: string, patch: Partial<Omit<ReputationControlTable, 'tenant_id'>>, now: number, actor: string): Promise<void> {
      const set = { ...patch, updated_at: now, updated_by: actor };
      await db.insertInto('reputation_controls').values({
        tenant_id: tenantId, daily_cap: null, profiles: null, throttle_per_minute: null, throttle_until: null, suspended_reason: null, suspend_transactional: 0, ...set,
      }).onConflict((oc) => oc.column('tenant_id').doUpdateSet(set)).execute();
    },

    async setTenantStatus(tenantId: string, status: string): Promise<void> {
      await db.updateTable('tenants').set({ status }).where('id', '=', tenantId).execute();
    },

    domainByName(name: string) {
      return db.selectFrom('domains').select(['id', 'name', 'tenant_id']).where('name', '=', name.toLowerCase().replace(/\.$/, '')).executeTakeFirst();
    },

    tenant(tenantId: string) {
      return db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
    },

    openPauses(tenantId: string | null) {
      let q = db.selectFrom('reputation_pauses as p').innerJoin('domains as d', 'd.id', 'p.domain_id').selectAll('p').select('d.name as domain')
        .where('p.lifted_at', 'is', null).orderBy('p.since');
      if (tenantId !== null) q = q.where('p.tenant_id', '=', tenantId);
      return q.execute();
    },

    /** Opens a pause of a domain's marketing to a provider; false when one is open already for the rule. */
    async openPause(p: Omit<ReputationPause, 'lifted_at' | 'lifted_by'>): Promise<boolean> {
      const r = await db.insertInto('reputation_pauses').values({ ...p, lifted_at: null, lifted_by: null })
        .onConflict((oc) => oc.columns(['domain_id', 'provider', 'rule']).where(sql.ref('lifted_at'), 'is', null).doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async liftPause(id: string, now: number, by: string): Promise<boolean> {
      const r = await db.updateTable('reputation_pauses').set({ lifted_at: now, lifted_by: by }).where('id', '=', id).where('lifted_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Counts n against the day's cap; false (and nothing counted) when it would pass the cap. */
    async takeUsage(tenantId: string, day: string, n: number, cap: number): Promise<boolean> {
      if (n > cap) return false;
      // One statement, so concurrent dispatchers (and workers) never race on
      // the first message of the day: it inserts the day's row, or adds to it
      // while the sum stays under the cap; no row touched means the cap is reached.
      const r = await db.insertInto('reputation_usage').values({ tenant_id: tenantId, day, count: n })
        .onConflict((oc) => oc.columns(['tenant_id', 'day'])
          .doUpdateSet((eb) => ({ count: eb('reputation_usage.count', '+', n) }))
          .where(sql<boolean>`${sql.ref('reputation_usage.count')} + ${n} <= ${cap}`))
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async usage(tenantId: string, day: string): Promise<number> {
      const r = await db.selectFrom('reputation_usage').select('count').where('tenant_id', '=', tenantId).where('day', '=', day).executeTakeFirst();
      return r?.count ?? 0;
    },

    /** The tenant's campaigns in a state a pause applies to. */
    campaignsToPause(tenantId: string) {
      return db.selectFrom('campaigns').select(['id', 'status']).where('tenant_id', '=', tenantId).where('status', 'in', ['sending', 'scheduled']).execute();
    },

    /** Paused campaigns whose reason starts with the prefix (the ones a suspension paused). */
    campaignsPausedWith(tenantId: string, prefix: string) {
      return db.selectFrom('campaigns').select(['id', 'status_reason']).where('tenant_id', '=', tenantId).where('status', '=', 'paused')
        .where('status_reason', 'like', `${prefix.replace(/[%_\\]/g, '')}%`).execute();
    },

    campaignStatuses(ids: string[]) {
      return ids.length ? db.selectFrom('campaigns').select(['id', 'status']).where('id', 'in', ids).execute() : Promise.resolve([]);
    },

    async upsertPostmaster(rows: ReputationPostmasterTable[]): Promise<void> {
      for (const row of rows) {
        const { domain_id: _d, day: _day, ...set } = row;
        await db.insertInto('reputation_postmaster').values(row).onConflict((oc) => oc.columns(['domain_id', 'day']).doUpdateSet(set)).execute();
      }
    },

    postmaster(tenantId: string, fromDay: string) {
      return db.selectFrom('reputation_postmaster as p').innerJoin('domains as d', 'd.id', 'p.domain_id').selectAll('p').select('d.name as domain')
        .where('p.tenant_id', '=', tenantId).where('p.day', '>=', fromDay).orderBy('d.name').orderBy('p.day').execute();
    },

    names(tenantId: string) {
      return Promise.all([
        db.selectFrom('domains').select(['id', 'name']).where('tenant_id', '=', tenantId).execute(),
        db.selectFrom('streams').select(['id', 'name']).where('tenant_id', '=', tenantId).execute(),
      ]);
    },

    campaignNames(ids: string[]) {
      return ids.length ? db.selectFrom('campaigns').select(['id', 'name', 'status', 'status_reason']).where('id', 'in', ids).execute() : Promise.resolve([]);
    },
  };
}

export type ReputationStore = ReturnType<typeof createReputationStore>;

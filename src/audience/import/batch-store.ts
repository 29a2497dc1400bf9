// A batch's SQL: one read per table for the batch's addresses, then one
// INSERT … ON CONFLICT per table, so a million rows cost a few thousand
// statements. Each dialect gets the form it runs fastest, measured on a
// million rows (docs/benchmarks.md):
// - SQLite: multi-row VALUES, compiled once per row count (bulk.ts);
// - PostgreSQL: one array per column, unnest()ed into rows — one parameter
//   per column instead of one per value, which PostgreSQL parses and plans
//   2.5× faster — and lookups as lateral joins (readBatchState).
import { sql, type Kysely } from 'kysely';
import type { Insertable } from 'kysely';
import type { ConsentRecord, ContactTable, Database, ImportRejectTable, Subscription, SuppressionReason } from '../../store/schema.ts';
import type { DialectName } from '../../store/connect.ts';
import { preparedInsert, unnestRows } from './bulk.ts';
import type { BatchPlan, BatchState } from './plan.ts';

type Db = Kysely<Database>;

// SQLite binds at most 32,766 parameters per statement
const MAX_PARAMS = 32_000;

function chunks<T>(rows: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * What the store holds for the batch's addresses. PostgreSQL probes the
 * unique index once per value: a lateral join whose subquery has an OFFSET 0
 * (which keeps the planner from flattening it). With `IN` or `= any(…)`, its
 * planner — statistics still from before the import — scanned every contact
 * of the tenant with a filter instead (EXPLAIN ANALYZE: 82 ms per batch at
 * 500,000 contacts, growing; probed: 7 ms, flat). SQLite probes its index
 * for each value of an IN list.
 */
export async function readBatchState(trx: Db, dialect: DialectName, tenantId: string, listId: string, hashes: string[]): Promise<BatchState> {
  const state: BatchState = { suppressed: new Map(), contacts: new Map(), subscriptions: new Map() };
  const pg = dialect === 'postgres';
  const values = (list: string[]) => trx.selectFrom(sql<{ v: string }>`unnest(${list}::text[])`.as('v'));
  for (const part of chunks(hashes, 1)) {
    const sup = pg
      ? await values(part).innerJoinLateral((eb) => eb.selectFrom('suppressions').select(['address_hash', 'reason']).where('tenant_id', '=', tenantId).whereRef('address_hash', '=', 'v.v').offset(0).as('x'), (j) => j.onTrue())
        .select(['x.address_hash', 'x.reason']).execute()
      : await trx.selectFrom('suppressions').select(['address_hash', 'reason']).where('tenant_id', '=', tenantId).where('address_hash', 'in', part).execute();
    for (const s of sup) state.suppressed.set(s.address_hash, s.reason as SuppressionReason);
    const contacts = pg
      ? await values(part).innerJoinLateral((eb) => eb.selectFrom('contacts').select(['id', 'address_hash', 'fields', 'status']).where('tenant_id', '=', tenantId).whereRef('address_hash', '=', 'v.v').offset(0).as('c'), (j) => j.onTrue())
        .select(['c.id', 'c.address_hash', 'c.fields', 'c.status']).execute()
      : await trx.selectFrom('contacts').select(['id', 'address_hash', 'fields', 'status']).where('tenant_id', '=', tenantId).where('address_hash', 'in', part).execute();
    for (const c of contacts) state.contacts.set(c.address_hash, { id: c.id, fields: c.fields, status: c.status });
    if (!contacts.length) continue;
    const ids = contacts.map((c) => c.id);
    const subs = pg
      ? await values(ids).innerJoinLateral((eb) => eb.selectFrom('subscriptions').select(['contact_id', 'status', 'quarantined', 'import_id']).where('list_id', '=', listId).whereRef('contact_id', '=', 'v.v').offset(0).as('s'), (j) => j.onTrue())
        .leftJoin('imports as i', 'i.id', 's.import_id').select(['s.contact_id', 's.status', 's.quarantined', 's.import_id', 'i.status as import_status']).execute()
      : await trx.selectFrom('subscriptions as s').leftJoin('imports as i', 'i.id', 's.import_id')
        .select(['s.contact_id', 's.status', 's.quarantined', 's.import_id', 'i.status as import_status'])
        .where('s.list_id', '=', listId).where('s.contact_id', 'in', ids).execute();
    for (const s of subs) state.subscriptions.set(s.contact_id, { status: s.status, quarantined: Number(s.quarantined), importId: s.import_id, importStatus: s.import_status });
  }
  return state;
}

type ContactRow = Insertable<ContactTable>;

// column order, and the PostgreSQL type of each column that is not text
type PgTypes = Partial<Record<string, 'int4' | 'int8'>>;
const CONTACT: { columns: readonly (keyof ContactRow & string)[]; pgTypes: PgTypes } = { columns: ['id', 'tenant_id', 'email', 'address_hash', 'domain', 'fields', 'status', 'last_open_at', 'last_click_at', 'last_engaged_at', 'created_at', 'updated_at'] as const,
  pgTypes: { last_open_at: 'int8', last_click_at: 'int8', last_engaged_at: 'int8', created_at: 'int8', updated_at: 'int8' } };
const CONSENT: { columns: readonly (keyof ConsentRecord & string)[]; pgTypes: PgTypes } = { columns: ['id', 'tenant_id', 'contact_id', 'list_id', 'source', 'collected_at', 'form_url', 'ip', 'user_agent', 'consent_text_hash', 'checkbox_unchecked',
  'separate_consent', 'opt_in', 'confirmed_at', 'confirm_ip', 'confirm_user_agent', 'relationship', 'informed_how', 'import_id', 'created_at'] as const,
pgTypes: { collected_at: 'int8', checkbox_unchecked: 'int4', separate_consent: 'int4', confirmed_at: 'int8', created_at: 'int8' } };
const SUBSCRIPTION: { columns: readonly (keyof Subscription & string)[]; pgTypes: PgTypes } = { columns: ['contact_id', 'list_id', 'tenant_id', 'status', 'consent_id', 'quarantined', 'import_id', 'created_at', 'confirmed_at', 'unsubscribed_at', 'updated_at'] as const,
  pgTypes: { quarantined: 'int4', created_at: 'int8', confirmed_at: 'int8', unsubscribed_at: 'int8', updated_at: 'int8' } };
const REJECT: { columns: readonly (keyof ImportRejectTable & string)[]; pgTypes: PgTypes } = { columns: ['import_id', 'line', 'email', 'reason'] as const, pgTypes: { line: 'int4' } };

const contactsInto = (db: Db, rows: ContactRow[], pg: boolean) => (pg
  ? db.insertInto('contacts').columns(CONTACT.columns).expression(unnestRows(CONTACT.columns, CONTACT.pgTypes, rows))
  : db.insertInto('contacts').values(rows))
  .onConflict((oc) => oc.columns(['tenant_id', 'address_hash'])
    .doUpdateSet((eb) => ({ fields: eb.ref('excluded.fields'), updated_at: eb.ref('excluded.updated_at') }))
    .where('contacts.status', '=', 'active'));

const consentsInto = (db: Db, rows: ConsentRecord[], pg: boolean) => (pg
  ? db.insertInto('consent_records').columns(CONSENT.columns).expression(unnestRows(CONSENT.columns, CONSENT.pgTypes, rows))
  : db.insertInto('consent_records').values(rows));

const subscriptionsInto = (db: Db, rows: Subscription[], pg: boolean) => (pg
  ? db.insertInto('subscriptions').columns(SUBSCRIPTION.columns).expression(unnestRows(SUBSCRIPTION.columns, SUBSCRIPTION.pgTypes, rows))
  : db.insertInto('subscriptions').values(rows))
  .onConflict((oc) => oc.columns(['list_id', 'contact_id'])
    .doUpdateSet((eb) => ({
      status: eb.ref('excluded.status'), consent_id: eb.ref('excluded.consent_id'), quarantined: eb.ref('excluded.quarantined'),
      import_id: eb.ref('excluded.import_id'), confirmed_at: eb.ref('excluded.confirmed_at'), unsubscribed_at: null, updated_at: eb.ref('excluded.updated_at'),
    }))
    // never over an unsubscribe, nor over a live subscription someone confirmed since the batch was read
    .where((eb) => eb.and([eb('subscriptions.status', '<>', 'unsubscribed'), eb.or([eb('subscriptions.status', '=', 'pending'), eb('subscriptions.quarantined', '=', 1)])])));

const rejectsInto = (db: Db, rows: ImportRejectTable[], pg: boolean) => (pg
  ? db.insertInto('import_rejects').columns(REJECT.columns).expression(unnestRows(REJECT.columns, REJECT.pgTypes, rows))
  : db.insertInto('import_rejects').values(rows))
  .onConflict((oc) => oc.columns(['import_id', 'line']).doNothing());

const sqlite = {
  contacts: preparedInsert(CONTACT.columns, (db, rows: ContactRow[]) => contactsInto(db, rows, false)),
  consents: preparedInsert(CONSENT.columns, (db, rows: ConsentRecord[]) => consentsInto(db, rows, false)),
  subscriptions: preparedInsert(SUBSCRIPTION.columns, (db, rows: Subscription[]) => subscriptionsInto(db, rows, false)),
  rejects: preparedInsert(REJECT.columns, (db, rows: ImportRejectTable[]) => rejectsInto(db, rows, false)),
};

/**
 * Writes a planned batch. On SQLite the batch's transaction holds the write
 * lock from its first statement (lockImport), so the contacts read are the
 * contacts written and the planned ids stand; on PostgreSQL another
 * transaction may create one of them in between, and RETURNING says which id
 * is stored.
 */
export async function writeBatch(trx: Db, dialect: DialectName, tenantId: string, importId: string, plan: BatchPlan, now: number): Promise<void> {
  if (plan.consentTexts.size) {
    await trx.insertInto('consent_texts').values([...plan.consentTexts].map(([hash, text]) => ({ hash, text, created_at: now })))
      .onConflict((oc) => oc.column('hash').doNothing()).execute();
  }
  const contacts: ContactRow[] = plan.contacts.map((c) => ({
    id: c.id, tenant_id: tenantId, email: c.email, address_hash: c.hash, domain: c.domain, fields: JSON.stringify(c.fields), status: 'active',
    last_open_at: null, last_click_at: null, last_engaged_at: null, created_at: now, updated_at: now,
  }));
  const rejects = plan.rejects.map((r) => ({ import_id: importId, ...r }));
  if (dialect === 'sqlite') {
    for (const part of chunks(contacts, CONTACT.columns.length)) await sqlite.contacts(trx, part);
    for (const part of chunks(plan.consents.map((c) => c.record), CONSENT.columns.length)) await sqlite.consents(trx, part);
    for (const part of chunks(plan.subscriptions.map((s) => s.row), SUBSCRIPTION.columns.length)) await sqlite.subscriptions(trx, part);
    for (const part of chunks(rejects, REJECT.columns.length)) await sqlite.rejects(trx, part);
    return;
  }
  const stored = new Map<string, string>();
  if (contacts.length) for (const w of await contactsInto(trx, contacts, true).returning(['id', 'address_hash']).execute()) stored.set(w.address_hash, w.id);
  // a contact erased meanwhile is neither written nor returned: its consent and subscription go too
  const lost = new Set(contacts.filter((c) => !stored.has(c.address_hash)).map((c) => c.address_hash));
  const consents = plan.consents.filter((c) => !lost.has(c.hash));
  const subs = plan.subscriptions.filter((s) => !lost.has(s.hash));
  for (const c of consents) c.record.contact_id = stored.get(c.hash) ?? c.record.contact_id;
  for (const s of subs) s.row.contact_id = stored.get(s.hash) ?? s.row.contact_id;
  if (consents.length) await consentsInto(trx, consents.map((c) => c.record), true).execute();
  if (subs.length) await subscriptionsInto(trx, subs.map((s) => s.row), true).execute();
  if (rejects.length) await rejectsInto(trx, rejects, true).execute();
}

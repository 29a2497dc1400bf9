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
import type { ConsentRecord, ContactTable, Database, EventTable, ImportRejectTable, Subscription, SuppressionReason } from '../../store/schema.ts';
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
type EventRow = Omit<EventTable, 'id'>;
const EVENT_COLUMNS = ['tenant_id', 'message_id', 'recipient_id', 'type', 'at', 'data'] as const satisfies readonly (keyof EventRow)[];

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

/**
 * The batch's `subscribed` events (the event log is append-only: plain
 * inserts) as the contact ids and, per id, an index into the batch's distinct
 * JSON texts (one for a file-wide provenance); the other columns are
 * constants. PostgreSQL unnests two arrays; SQLite reads one JSON array of
 * [id, index] pairs with json_each: half the time of a bound multi-row
 * VALUES (measured: 1.6 instead of 2.9 s per million events), and the same
 * text is not sent a million times.
 */
function eventsInto(db: Db, dialect: DialectName, tenantId: string, at: number, rows: EventRow[]) {
  const texts: string[] = [];
  const index = new Map<string, number>();
  const k = rows.map((r) => {
    let i = index.get(r.data);
    if (i === undefined) index.set(r.data, (i = texts.push(r.data) - 1));
    return i;
  });
  const into = db.insertInto('events').columns(EVENT_COLUMNS);
  if (dialect === 'postgres') {
    return into.expression(sql`(select ${tenantId}::text, u.m, null::text, 'subscribed', ${at}::int8, (${texts}::text[])[u.k + 1]
      from unnest(${rows.map((r) => r.message_id)}::text[], ${k}::int4[]) as u(m, k))`);
  }
  return into.expression(sql`select ${tenantId}, e.value ->> 0, null, 'subscribed', ${at}, ${JSON.stringify(texts)} ->> (e.value ->> 1)
    from json_each(${JSON.stringify(rows.map((r, i) => [r.message_id, k[i]]))}) as e`);
}

const sqlite = {
  contacts: preparedInsert(CONTACT.columns, (db, rows: ContactRow[]) => contactsInto(db, rows, false)),
  consents: preparedInsert(CONSENT.columns, (db, rows: ConsentRecord[]) => consentsInto(db, rows, false)),
  subscriptions: preparedInsert(SUBSCRIPTION.columns, (db, rows: Subscription[]) => subscriptionsInto(db, rows, false)),
  rejects: preparedInsert(REJECT.columns, (db, rows: ImportRejectTable[]) => rejectsInto(db, rows, false)),
};

/**
 * Each subscription an import writes is in its contact's timeline, as form
 * and API sign-ups are (subscriptions.ts): a `subscribed` event with the
 * sign-up's keys, the import and the provenance (the full record is in the
 * proof of consent). In the batch's transaction, so a resumed or re-run
 * import never writes one twice. Rows with the same provenance (a file-wide
 * one: all of them) share one JSON text, built once per batch.
 */
function subscribedEvents(target: BatchTarget, subs: BatchPlan['subscriptions'], now: number): EventRow[] {
  const texts = new Map<string, string>();
  return subs.map(({ row, consent: r }) => {
    const key = `${row.status}\n${r.source}\n${r.opt_in}\n${r.collected_at}\n${r.form_url ?? ''}`;
    let data = texts.get(key);
    if (data === undefined) {
      data = JSON.stringify({
        list: target.listName, status: row.status, source: r.source, optIn: r.opt_in, importId: target.importId,
        collectedAt: new Date(r.collected_at).toISOString(), ...(r.form_url === null ? {} : { formUrl: r.form_url }),
      });
      texts.set(key, data);
    }
    return { tenant_id: target.tenantId, message_id: row.contact_id, recipient_id: null, type: 'subscribed', at: now, data };
  });
}

export interface BatchTarget {
  tenantId: string;
  importId: string;
  /** named in the contacts' timeline events, as sign-ups name it */
  listName: string;
}

/**
 * Writes a planned batch. On SQLite the batch's transaction holds the write
 * lock from its first statement (renewLease), so the contacts read are the
 * contacts written and the planned ids stand; on PostgreSQL another
 * transaction may create one of them in between, and RETURNING says which id
 * is stored.
 */
export async function writeBatch(trx: Db, dialect: DialectName, target: BatchTarget, plan: BatchPlan, now: number): Promise<void> {
  const { tenantId, importId } = target;
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
    if (plan.subscriptions.length) await eventsInto(trx, dialect, tenantId, now, subscribedEvents(target, plan.subscriptions, now)).execute();
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
  // only the subscriptions written: one changed meanwhile (unsubscribed, confirmed) is left as it is, and gets no event
  const written = new Set<string>();
  if (subs.length) for (const w of await subscriptionsInto(trx, subs.map((s) => s.row), true).returning('contact_id').execute()) written.add(w.contact_id);
  if (rejects.length) await rejectsInto(trx, rejects, true).execute();
  const events = subscribedEvents(target, subs.filter((s) => written.has(s.row.contact_id)), now);
  if (events.length) await eventsInto(trx, dialect, tenantId, now, events).execute();
}

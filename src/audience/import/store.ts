// The import's SQL, in one place (STYLE 9). A batch is read and written in a
// few multi-row statements — one read per table, one INSERT … ON CONFLICT per
// table — so a million rows cost a few thousand statements, not millions.
import { sql, type Kysely } from 'kysely';
import type { Insertable } from 'kysely';
import type { ConsentRecord, ContactTable, Database, Import, ImportRejectTable, ImportTable, Subscription, SuppressionReason } from '../../store/schema.ts';
import { preparedInsert } from './bulk.ts';
import { isUniqueViolation, type DialectName } from '../../store/connect.ts';
import type { BatchPlan, BatchState } from './plan.ts';

type Db = Kysely<Database>;

// SQLite binds at most 32,766 parameters per statement, PostgreSQL 65,535
const MAX_PARAMS = 32_000;

function chunks<T>(rows: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function findImport(db: Db, tenantId: string, listId: string, sha256: string): Promise<Import | undefined> {
  return db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId).where('list_id', '=', listId).where('file_hash', '=', sha256).executeTakeFirst();
}

/** By id; within a tenant unless tenantId is null (operator). */
export function getImport(db: Db, tenantId: string | null, id: string): Promise<Import | undefined> {
  let q = db.selectFrom('imports').selectAll().where('id', '=', id);
  if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
  return q.executeTakeFirst();
}

/** Creates the import row; when a concurrent run created it a moment ago, returns that one instead. */
export async function createImport(db: Db, row: ImportTable): Promise<Import> {
  try {
    await db.insertInto('imports').values(row).execute();
    return row;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return (await findImport(db, row.tenant_id, row.list_id, row.file_hash))!;
  }
}

/**
 * Takes the import row's write lock at the start of a batch and returns the
 * committed checkpoint: on SQLite the write lock is taken before the reads
 * (no snapshot upgrade to fail), and on PostgreSQL two processes resuming the
 * same import queue here, the second then skipping what the first committed.
 */
export async function lockImport(trx: Db, id: string): Promise<number> {
  const r = await trx.updateTable('imports').set((eb) => ({ checkpoint_line: eb.ref('checkpoint_line') })).where('id', '=', id)
    .returning('checkpoint_line').executeTakeFirstOrThrow();
  return Number(r.checkpoint_line);
}

export async function readBatchState(trx: Db, tenantId: string, listId: string, hashes: string[]): Promise<BatchState> {
  const state: BatchState = { suppressed: new Map(), contacts: new Map(), subscriptions: new Map() };
  for (const part of chunks(hashes, 1)) {
    const sup = await trx.selectFrom('suppressions').select(['address_hash', 'reason']).where('tenant_id', '=', tenantId).where('address_hash', 'in', part).execute();
    for (const s of sup) state.suppressed.set(s.address_hash, s.reason as SuppressionReason);
    const contacts = await trx.selectFrom('contacts').select(['id', 'address_hash', 'fields', 'status']).where('tenant_id', '=', tenantId).where('address_hash', 'in', part).execute();
    for (const c of contacts) state.contacts.set(c.address_hash, { id: c.id, fields: c.fields, status: c.status });
    if (!contacts.length) continue;
    const subs = await trx.selectFrom('subscriptions as s').leftJoin('imports as i', 'i.id', 's.import_id')
      .select(['s.contact_id', 's.status', 's.quarantined', 's.import_id', 'i.status as import_status'])
      .where('s.list_id', '=', listId).where('s.contact_id', 'in', contacts.map((c) => c.id)).execute();
    for (const s of subs) state.subscriptions.set(s.contact_id, { status: s.status, quarantined: Number(s.quarantined), importId: s.import_id, importStatus: s.import_status });
  }
  return state;
}

const CONTACT_COLUMNS = ['id', 'tenant_id', 'email', 'address_hash', 'domain', 'fields', 'status', 'last_open_at', 'last_click_at', 'last_engaged_at', 'created_at', 'updated_at'] as const;
const CONSENT_COLUMNS = ['id', 'tenant_id', 'contact_id', 'list_id', 'source', 'collected_at', 'form_url', 'ip', 'user_agent', 'consent_text_hash', 'checkbox_unchecked',
  'separate_consent', 'opt_in', 'confirmed_at', 'confirm_ip', 'confirm_user_agent', 'relationship', 'informed_how', 'import_id', 'created_at'] as const;
const SUBSCRIPTION_COLUMNS = ['contact_id', 'list_id', 'tenant_id', 'status', 'consent_id', 'quarantined', 'import_id', 'created_at', 'confirmed_at', 'unsubscribed_at', 'updated_at'] as const;
const REJECT_COLUMNS = ['import_id', 'line', 'email', 'reason'] as const;

const contactUpsert = (db: Db, rows: Insertable<ContactTable>[]) => db.insertInto('contacts').values(rows)
  .onConflict((oc) => oc.columns(['tenant_id', 'address_hash'])
    .doUpdateSet((eb) => ({ fields: eb.ref('excluded.fields'), updated_at: eb.ref('excluded.updated_at') }))
    .where('contacts.status', '=', 'active'));
const upsertContacts = preparedInsert(CONTACT_COLUMNS, contactUpsert);
// PostgreSQL: another transaction may create the same contact between the batch's read and its write; RETURNING says which id is stored
const upsertContactsReturning = preparedInsert(CONTACT_COLUMNS, (db, rows: Insertable<ContactTable>[]) => contactUpsert(db, rows).returning(['id', 'address_hash']));

const insertConsents = preparedInsert(CONSENT_COLUMNS, (db, rows: ConsentRecord[]) => db.insertInto('consent_records').values(rows));

const upsertSubscriptions = preparedInsert(SUBSCRIPTION_COLUMNS, (db, rows: Subscription[]) => db.insertInto('subscriptions').values(rows)
  .onConflict((oc) => oc.columns(['list_id', 'contact_id'])
    .doUpdateSet((eb) => ({
      status: eb.ref('excluded.status'), consent_id: eb.ref('excluded.consent_id'), quarantined: eb.ref('excluded.quarantined'),
      import_id: eb.ref('excluded.import_id'), confirmed_at: eb.ref('excluded.confirmed_at'), unsubscribed_at: null, updated_at: eb.ref('excluded.updated_at'),
    }))
    // never over an unsubscribe, nor over a live subscription someone confirmed since the batch was read
    .where((eb) => eb.and([eb('subscriptions.status', '<>', 'unsubscribed'), eb.or([eb('subscriptions.status', '=', 'pending'), eb('subscriptions.quarantined', '=', 1)])]))));

const insertRejects = preparedInsert(REJECT_COLUMNS, (db, rows: ImportRejectTable[]) => db.insertInto('import_rejects').values(rows)
  .onConflict((oc) => oc.columns(['import_id', 'line']).doNothing()));

/**
 * Writes a planned batch. On SQLite the batch's transaction holds the write
 * lock from its first statement (lockImport), so the contacts read are the
 * contacts written and the planned ids stand; on PostgreSQL the stored ids
 * come back from RETURNING and correct the plan's.
 */
export async function writeBatch(trx: Db, dialect: DialectName, tenantId: string, importId: string, plan: BatchPlan, now: number): Promise<void> {
  if (plan.consentTexts.size) {
    await trx.insertInto('consent_texts').values([...plan.consentTexts].map(([hash, text]) => ({ hash, text, created_at: now })))
      .onConflict((oc) => oc.column('hash').doNothing()).execute();
  }
  const contacts = plan.contacts.map((c) => ({
    id: c.id, tenant_id: tenantId, email: c.email, address_hash: c.hash, domain: c.domain, fields: JSON.stringify(c.fields), status: 'active',
    last_open_at: null, last_click_at: null, last_engaged_at: null, created_at: now, updated_at: now,
  }));
  let consents = plan.consents;
  let subs = plan.subscriptions;
  if (dialect === 'sqlite') {
    for (const part of chunks(contacts, CONTACT_COLUMNS.length)) await upsertContacts(trx, part);
  } else {
    const stored = new Map<string, string>();
    for (const part of chunks(contacts, CONTACT_COLUMNS.length)) for (const w of (await upsertContactsReturning(trx, part)).rows) stored.set(w.address_hash, w.id);
    // a contact erased meanwhile is not written (and not returned): its consent and subscription go too
    const lost = new Set(contacts.filter((c) => !stored.has(c.address_hash)).map((c) => c.address_hash));
    consents = consents.filter((c) => !lost.has(c.hash));
    subs = subs.filter((s) => !lost.has(s.hash));
    for (const c of consents) c.record.contact_id = stored.get(c.hash) ?? c.record.contact_id;
    for (const s of subs) s.row.contact_id = stored.get(s.hash) ?? s.row.contact_id;
  }
  for (const part of chunks(consents.map((c) => c.record), CONSENT_COLUMNS.length)) await insertConsents(trx, part);
  for (const part of chunks(subs.map((s) => s.row), SUBSCRIPTION_COLUMNS.length)) await upsertSubscriptions(trx, part);
  for (const part of chunks(plan.rejects.map((r) => ({ import_id: importId, ...r })), REJECT_COLUMNS.length)) await insertRejects(trx, part);
}

export async function saveProgress(trx: Db, id: string, checkpointLine: number, report: unknown): Promise<void> {
  await trx.updateTable('imports').set({ checkpoint_line: checkpointLine, report: JSON.stringify(report) }).where('id', '=', id).execute();
}

export async function setStatus(db: Db, id: string, status: Import['status'], report: unknown, finishedAt: number | null): Promise<void> {
  await db.updateTable('imports').set({ status, report: JSON.stringify(report), finished_at: finishedAt }).where('id', '=', id).execute();
}

/** The most subscriptions of this import sharing one collected_at (bought lists are stamped in bulk). */
export async function maxRowsSameTimestamp(db: Db, importId: string, listId: string): Promise<number> {
  const r = await db.selectFrom('subscriptions as s').innerJoin('consent_records as r', 'r.id', 's.consent_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('s.import_id', '=', importId).where('s.list_id', '=', listId)
    .groupBy('r.collected_at').orderBy(sql`count(*)`, 'desc').limit(1).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * SQLite only: while an import runs, checkpoint the WAL every ~100 MB instead
 * of every 4 MB. Each batch rewrites the same right-edge and interior index
 * pages; checkpointed after every batch they are copied into the database
 * every time (measured: half the time of a million-row import); checkpointed
 * every fifty batches, once. The setting is the connection's and is put back
 * after the import, followed by a checkpoint.
 */
export async function widenCheckpoints(db: Db): Promise<() => Promise<void>> {
  const before = Number((await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows[0]?.wal_autocheckpoint ?? 1000);
  await sql`pragma wal_autocheckpoint = 25000`.execute(db);
  return async () => {
    // a pragma takes no bound parameter; `before` is the integer SQLite gave
    await sql.raw(`pragma wal_autocheckpoint = ${Math.trunc(before)}`).execute(db);
    await sql`pragma wal_checkpoint(passive)`.execute(db);
  };
}

/** Lifts the hold on every subscription this import wrote. */
export async function releaseHold(db: Db, importId: string, listId: string): Promise<number> {
  const r = await db.updateTable('subscriptions').set({ quarantined: 0 })
    .where('import_id', '=', importId).where('list_id', '=', listId).where('quarantined', '=', 1).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export function rejectsOf(db: Db, importId: string, opts: { afterLine?: number; limit?: number } = {}) {
  return db.selectFrom('import_rejects').select(['line', 'email', 'reason']).where('import_id', '=', importId)
    .where('line', '>', opts.afterLine ?? 0).orderBy('line').limit(Math.min(opts.limit ?? 100, 1000)).execute();
}

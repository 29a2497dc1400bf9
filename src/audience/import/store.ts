// The import's own rows (table imports and its rejects): find, create,
// lease, checkpoint, status, the hold on its subscriptions (STYLE 9: the SQL
// in one place; a batch's reads and writes are in batch-store.ts).
import { sql, type Kysely } from 'kysely';
import type { Database, Import, ImportTable } from '../../store/schema.ts';
import { isUniqueViolation } from '../../store/connect.ts';

type Db = Kysely<Database>;

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
 * Claims a running import for `holder` when no live lease holds it: one
 * atomic compare-and-set, as the delivery queue claims recipients. Two runs
 * resuming the same import race here; exactly one wins and reads the file.
 * A dead holder's lease simply expires.
 */
export async function claimImport(db: Db, id: string, holder: string, now: number, leaseMs: number): Promise<boolean> {
  const r = await db.updateTable('imports').set({ locked_by: holder, locked_until: now + leaseMs })
    .where('id', '=', id).where('status', '=', 'running')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * At the start of a batch: renews the holder's lease and returns the
 * committed checkpoint, or undefined when the lease was lost (it expired and
 * another run claimed the import). Being an UPDATE, it also takes the row's
 * write lock first: on SQLite the write lock is taken before the batch's
 * reads (no snapshot upgrade to fail).
 */
export async function renewLease(trx: Db, id: string, holder: string, now: number, leaseMs: number): Promise<number | undefined> {
  const r = await trx.updateTable('imports').set({ locked_until: now + leaseMs }).where('id', '=', id).where('locked_by', '=', holder)
    .returning('checkpoint_line').executeTakeFirst();
  return r === undefined ? undefined : Number(r.checkpoint_line);
}

/** Lets go of the lease, if this holder still has it (a run that stopped early: the next run may resume at once). */
export async function releaseLease(db: Db, id: string, holder: string): Promise<void> {
  await db.updateTable('imports').set({ locked_by: null, locked_until: null }).where('id', '=', id).where('locked_by', '=', holder).execute();
}

export async function saveProgress(trx: Db, id: string, checkpointLine: number, report: unknown): Promise<void> {
  await trx.updateTable('imports').set({ checkpoint_line: checkpointLine, report: JSON.stringify(report) }).where('id', '=', id).execute();
}

/** The run's last word (finished, quarantined, failed), which also ends its lease; false when `holder` had lost the lease meanwhile. */
export async function setStatus(db: Db, id: string, holder: string, status: Import['status'], report: unknown, finishedAt: number | null): Promise<boolean> {
  const r = await db.updateTable('imports').set({ status, report: JSON.stringify(report), finished_at: finishedAt, locked_by: null, locked_until: null })
    .where('id', '=', id).where('locked_by', '=', holder).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
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
 * every time, checkpointed every fifty batches once (measured on a million
 * rows: bare inserts 78 → 32 s, the import 82 → 71 s). The setting is the connection's and is put back
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

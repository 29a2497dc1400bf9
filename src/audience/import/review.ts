// The operator's side of MJ-4: an import that looks bought waits, its
// contacts held (not mailable), until an operator approves it (the hold is
// lifted) or rejects it (the hold stays; the contacts keep their records so
// the decision can be audited). Either decision is in the event log.
import type { Kysely } from 'kysely';
import type { Database, Import } from '../../store/schema.ts';
import type { Clock } from '../../clock.ts';
import { fail, ok, type Result } from '../../errors.ts';
import { appendEvents } from '../../events/log.ts';
import type { ImportReport } from './report.ts';
import * as store from './store.ts';

export interface ImportStatus {
  id: string;
  tenantId: string;
  listId: string;
  fileName: string;
  /** the file's SHA-256: a client that uploaded a file finds its import by it */
  fileSha256: string;
  status: Import['status'];
  /** last CSV line committed: a resumed import starts after it */
  checkpointLine: number;
  /** the run reading the file, while one holds the import (its lease renews with every batch) */
  lease: { holder: string; until: string } | null;
  createdAt: string;
  finishedAt: string | null;
  reviewedBy: string | null;
  report: ImportReport | null;
}

export function toStatus(i: Import): ImportStatus {
  const report = JSON.parse(i.report) as ImportReport;
  return {
    id: i.id, tenantId: i.tenant_id, listId: i.list_id, fileName: i.file_name, fileSha256: i.file_hash, status: i.status, checkpointLine: i.checkpoint_line,
    lease: i.locked_by === null || i.locked_until === null ? null : { holder: i.locked_by, until: new Date(i.locked_until).toISOString() },
    createdAt: new Date(i.created_at).toISOString(), finishedAt: i.finished_at === null ? null : new Date(i.finished_at).toISOString(),
    reviewedBy: i.reviewed_by, report: report.counts ? report : null,
  };
}

/** The job status the API and the CLI show; tenantId null for operators. */
export async function importStatus(db: Kysely<Database>, tenantId: string | null, id: string): Promise<Result<ImportStatus>> {
  const i = await store.getImport(db, tenantId, id);
  return i ? ok(toStatus(i)) : fail('not_found', `no import ${id}`);
}

export async function reviewImport(db: Kysely<Database>, clock: Clock, tenantId: string | null, id: string, decision: 'approved' | 'rejected', actor: string): Promise<Result<ImportStatus>> {
  const now = clock.now();
  return db.transaction().execute(async (trx): Promise<Result<ImportStatus>> => {
    const i = await store.getImport(trx, tenantId, id);
    if (!i) return fail('not_found', `no import ${id}`);
    if (i.status !== 'quarantined') return fail('conflict', `import ${id} is ${i.status}, not quarantined: there is nothing to review`);
    // compare-and-set: two operators deciding at once, only one decision counts
    const r = await trx.updateTable('imports').set({ status: decision, reviewed_by: actor }).where('id', '=', id).where('status', '=', 'quarantined').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return fail('conflict', `import ${id} was reviewed meanwhile`);
    const released = decision === 'approved' ? await store.releaseHold(trx, id, i.list_id) : 0;
    const report = { ...(JSON.parse(i.report) as ImportReport), status: decision };
    await trx.updateTable('imports').set({ report: JSON.stringify(report) }).where('id', '=', id).execute();
    await appendEvents(trx, [{ tenantId: i.tenant_id, messageId: id, type: 'import_reviewed', at: now, data: { decision, actor, released, list: i.list_id } }]);
    return ok(toStatus({ ...i, status: decision, reviewed_by: actor, report: JSON.stringify(report) }));
  });
}

// CSV imports as the edges (CLI, API) see them: run one, follow its job
// status, list its refused lines, and the operator's review (MJ-4).
// Wired with the store, the clock and the platform's resolver by the caller.
import { ok, fail, type Result } from '../../errors.ts';
import { runImport, type ImportDeps, type ImportInput } from './run.ts';
import { importStatus, reviewImport, toStatus, type ImportStatus } from './review.ts';
import * as store from './store.ts';

export type { ImportDeps, ImportInput } from './run.ts';
export type { ImportReport } from './report.ts';
export type { ImportStatus } from './review.ts';

export function createImports(deps: ImportDeps) {
  return {
    run: (input: ImportInput) => runImport(deps, input),
    /** tenantId null: any tenant (operator) */
    status: (tenantId: string | null, id: string) => importStatus(deps.db, tenantId, id),
    approveImport: (tenantId: string | null, importId: string, actor: string) => reviewImport(deps.db, deps.clock, tenantId, importId, 'approved', actor),
    rejectImport: (tenantId: string | null, importId: string, actor: string) => reviewImport(deps.db, deps.clock, tenantId, importId, 'rejected', actor),
    /**
     * Imports newest first, a page of `limit` before the id `before`: a
     * tenant's, or every tenant's when tenantId is null (operators: the
     * review queue is status quarantined). Optionally of one list, one file
     * by its SHA-256, or one status.
     */
    async list(tenantId: string | null, opts: { list?: string; fileSha256?: string; status?: ImportStatus['status']; before?: string; limit?: number } = {}): Promise<ImportStatus[]> {
      let q = deps.db.selectFrom('imports').selectAll().orderBy('id', 'desc').limit(Math.min(Math.max(opts.limit ?? 100, 1), 100));
      if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
      if (opts.list) q = q.where('list_id', '=', opts.list);
      if (opts.fileSha256) q = q.where('file_hash', '=', opts.fileSha256);
      if (opts.status) q = q.where('status', '=', opts.status);
      if (opts.before) q = q.where('id', '<', opts.before);
      return (await q.execute()).map(toStatus);
    },

    /** refused lines in line order, paged by line */
    async rejects(tenantId: string | null, importId: string, opts: { afterLine?: number; limit?: number } = {}): Promise<Result<{ line: number; email: string | null; reason: string }[]>> {
      if (!(await store.getImport(deps.db, tenantId, importId))) return fail('not_found', `no import ${importId}`);
      return ok(await store.rejectsOf(deps.db, importId, opts));
    },
  };
}

export type Imports = ReturnType<typeof createImports>;

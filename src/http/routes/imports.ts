// CSV imports through the API (issue 3): the file is sent as the body
// (text/csv), the mapping and provenance as query parameters. The import runs
// as a job: 202 with its id at once, then GET /v1/imports/:id for the status
// and report, /rejects for the refused lines; operators approve or reject a
// quarantined one.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { Imports } from '../../audience/import/index.ts';
import { scopeOf, tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';
import { FailureError } from '../../errors.ts';

const Query = z.object({
  list: z.string(),
  emailColumn: z.string().default('email'),
  /** "first_name=First Name,city=City" */
  fields: z.string().optional(),
  provenanceColumns: z.string().optional(),
  source: z.string().optional(),
  collectedAt: z.string().optional(),
  method: z.string().optional(),
  consentText: z.string().optional(),
  formUrl: z.string().optional(),
  ip: z.string().optional(),
  confirmedAt: z.string().optional(),
  relationship: z.string().optional(),
  informedHow: z.string().optional(),
  encoding: z.enum(['utf-8', 'windows-1252']).optional(),
  fileName: z.string().max(200).optional(),
}).strict();

// not strict: the listing ignored unknown parameters before it had filters, and still does
const ListQuery = z.object({
  list: z.string().optional(),
  /** operators only: one tenant's imports */
  tenant: z.string().optional(),
  status: z.enum(['running', 'completed', 'quarantined', 'approved', 'rejected', 'failed']).optional(),
  fileSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** the `next` of the page before */
  before: z.string().max(64).optional(),
  /** at most 100: more is read as 100 */
  limit: z.coerce.number().int().min(1).transform((n) => Math.min(n, 100)).optional(),
});

const pairs = (s: string | undefined, field: string): Record<string, string> => {
  if (!s) return {};
  return Object.fromEntries(s.split(',').map((p) => {
    const eq = p.indexOf('=');
    if (eq < 1) throw new FailureError({ code: 'request.invalid', detail: `${field}: expected name=column pairs`, field });
    return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
  }));
};

export function importRoutes(app: FastifyInstance, s: Services, imports: Imports, dataDir: string): void {
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/v1/imports', async (req, reply) => {
    const tenantId = tenantOf(req);
    const q = parseBody(Query, req.query);
    if (!Buffer.isBuffer(req.body)) throw new FailureError({ code: 'request.unsupported_media_type', detail: 'send the CSV file as the body, Content-Type: text/csv' });
    const list = await s.audience.lists.find(tenantId, q.list);
    if (!list) throw new FailureError({ code: 'not_found', detail: `no list ${q.list}`, field: 'list' });
    // kept while the job runs (and for a resume); the name is the content's hash
    const dir = path.join(dataDir, 'imports', tenantId);
    fs.mkdirSync(dir, { recursive: true });
    const sha = crypto.createHash('sha256').update(req.body).digest('hex');
    const file = path.join(dir, `${sha}.csv`);
    fs.writeFileSync(file, req.body, { mode: 0o600 });
    const provenance = q.source || q.collectedAt || q.method
      ? { source: q.source ?? '', collectedAt: q.collectedAt ?? '', method: q.method ?? '', consentText: q.consentText, formUrl: q.formUrl, ip: q.ip, confirmedAt: q.confirmedAt, relationship: q.relationship, informedHow: q.informedHow }
      : undefined;
    const job = imports.run({
      tenantId, listRef: list.id, file, fileName: q.fileName ?? 'upload.csv', encoding: q.encoding,
      mapping: { email: q.emailColumn, fields: pairs(q.fields, 'fields'), provenance: pairs(q.provenanceColumns, 'provenanceColumns') },
      provenance,
    });
    job.catch((err) => req.log.error({ err }, 'import failed'));
    // Answered once the import has its row (the client follows it by id) or
    // the run has ended: a refusal before any row is written (no provenance,
    // bad encoding, a mapped column missing from the header) is answered
    // now, however long hashing a big file took, rather than lost in a log.
    let settled = false;
    job.then(() => { settled = true; }, () => { settled = true; });
    const row = async () => (await imports.list(tenantId, { list: list.id, fileSha256: sha, limit: 1 }))[0];
    for (;;) {
      if (settled) break;
      const found = await row();
      if (found) return reply.code(202).send(found);
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = await job;
    if (!done.ok) throw new FailureError(done.error);
    return reply.code(202).send((await row()) ?? { status: done.value.status, fileSha256: sha });
  });

  // Operators see every tenant's imports (the review queue: ?status=quarantined),
  // optionally one tenant's; a tenant key or user only ever its own.
  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/imports', { config: { auth: 'any' } }, async (req) => {
    const q = parseBody(ListQuery, req.query);
    const scope = scopeOf(req);
    if (scope === null && q.list) throw new FailureError({ code: 'request.invalid', detail: 'lists belong to a tenant: operators filter by tenant and status', field: 'list' });
    if (scope !== null && q.tenant) throw new FailureError({ code: 'request.invalid', detail: 'tenant is an operator filter', field: 'tenant' });
    const list = q.list && scope ? await s.audience.lists.find(scope, q.list) : undefined;
    if (q.list && !list) throw new FailureError({ code: 'not_found', detail: `no list ${q.list}` });
    const limit = q.limit ?? 50;
    const data = await imports.list(scope ?? q.tenant ?? null, { list: list?.id, status: q.status, fileSha256: q.fileSha256, before: q.before, limit });
    return { data, next: data.length === limit ? data[data.length - 1].id : null };
  });
  app.get<{ Params: { id: string } }>('/v1/imports/:id', { config: { auth: 'any' } }, async (req) => unwrap(await imports.status(scopeOf(req), req.params.id)));
  app.get<{ Params: { id: string }; Querystring: { afterLine?: string; limit?: string } }>('/v1/imports/:id/rejects', { config: { auth: 'any' } }, async (req) => {
    const limit = Math.min(Math.max(Math.trunc(Number(req.query.limit ?? 500)) || 500, 1), 500);
    return { data: unwrap(await imports.rejects(scopeOf(req), req.params.id, { afterLine: Number(req.query.afterLine ?? 0) || undefined, limit })) };
  });
  app.post<{ Params: { id: string } }>('/v1/imports/:id/approve', { config: { auth: 'operator' } }, async (req) => unwrap(await imports.approveImport(null, req.params.id, `operator:${req.principal!.keyId}`)));
  app.post<{ Params: { id: string } }>('/v1/imports/:id/reject', { config: { auth: 'operator' } }, async (req) => unwrap(await imports.rejectImport(null, req.params.id, `operator:${req.principal!.keyId}`)));
}

// CSV import with mandatory provenance (MJ-4, MJ-6), as a checklist:
//   options and provenance given? → list exists? → file readable, UTF-8? →
//   imported before (return that report) or half done (resume)? → lease on
//   the import taken (else another run is reading the file: stop)? → header
//   has the mapped columns? → rows in batches, each batch one transaction that
//   also moves the checkpoint and renews the lease → quarantine verdict →
//   report.
// Streaming with constant memory: nothing grows with the file but counters.
// Every subscription it writes is held (quarantined = 1) until the verdict,
// so no contact of a list still being read, or later judged bought, is ever
// mailable; a clean verdict lifts the hold.
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Import, List } from '../../store/schema.ts';
import type { DialectName } from '../../store/connect.ts';
import type { Clock } from '../../clock.ts';
import type { Resolver } from '../../net/resolver.ts';
import { fail, ok, type Result } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { appendEvents } from '../../events/log.ts';
import { createDomainChecker, type DomainChecker } from './domains.ts';
import { batchIdMaker } from './ids.ts';
import { canonicalOptions, checkOptions, type CheckedOptions, type ImportOptions } from './options.ts';
import { planBatch } from './plan.ts';
import { explainSignal, quarantineVerdict } from './policy.ts';
import { readRecords, scanFile, type CsvRecord, type FileScan } from './read.ts';
import { addTally, emptyReport, type ImportReport } from './report.ts';
import { checkRow, resolveColumns, type Candidate, type Refused, type RowContext } from './rows.ts';
import * as store from './store.ts';
import { readBatchState, writeBatch } from './batch-store.ts';

export interface ImportDeps {
  db: Kysely<Database>;
  /** SQLite gets its checkpoints widened during an import (store.ts) */
  dialect: DialectName;
  clock: Clock;
  /** the platform's resolver: every domain is checked through it, never the system's */
  resolver: Resolver;
  /** rows per transaction; default 2000 */
  batchSize?: number;
  dnsConcurrency?: number;
  /** bytes; default 1 MiB */
  maxRecordBytes?: number;
  /** how long a run holds the import without committing a batch before another run may take it over; default 2 minutes */
  leaseMs?: number;
}

const LEASE_MS = 120_000;

/** Thrown inside a run when its lease was lost: another run took the import over. */
class LeaseLost extends Error {}

export interface ImportInput extends ImportOptions {
  tenantId: string;
  /** list id or name */
  listRef: string;
  /** path of the CSV file */
  file: string;
  /** shown in reports; default the file's base name */
  fileName?: string;
  onProgress?: (linesDone: number, bytesDone: number, totalBytes: number) => void;
  /** called after each committed batch; tests throw here to simulate a crash */
  onBatch?: (info: { batch: number; checkpointLine: number }) => void | Promise<void>;
}

type Row = Refused | Candidate;

export async function runImport(deps: ImportDeps, input: ImportInput): Promise<Result<ImportReport>> {
  const { db, clock } = deps;
  const opts = checkOptions(input, clock.now());
  if (!opts.ok) return opts;
  const list = await db.selectFrom('lists').selectAll().where('tenant_id', '=', input.tenantId).where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('id', '=', input.listRef), eb('name', '=', input.listRef)])).executeTakeFirst();
  if (!list) return fail('not_found', `no list ${input.listRef}`, 'listRef');

  let scan: FileScan;
  try {
    scan = await scanFile(input.file);
  } catch (e) {
    return fail('request.invalid', `cannot read ${input.file}: ${(e as Error).message}`, 'file');
  }
  const enc = checkEncoding(scan, opts.value.encoding);
  if (!enc.ok) return enc;

  const existing = await store.findImport(db, input.tenantId, list.id, scan.sha256);
  if (existing && existing.status !== 'running') return alreadyImported(existing);
  if (existing && existing.options !== canonicalOptions(input)) {
    return fail('conflict', `import ${existing.id} of this file is unfinished with other options; run it again with the same mapping and provenance to resume it`);
  }
  // one run at a time reads the file: claimed before its first row is read,
  // or taken with the import row when this run creates it
  const holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  if (existing && !(await store.claimImport(db, existing.id, holder, clock.now(), leaseMs))) return taken(db, existing.id);
  let importId = existing?.id;
  try {
    // read again once held: a run that let go a moment ago may have moved the checkpoint
    const resumed = existing && await store.getImport(db, null, existing.id);
    const r = await readAndWrite(deps, input, { list, scan, opts: opts.value, existing: resumed, holder, leaseMs, created: (id) => { importId = id; } });
    return r === 'taken' ? taken(db, importId!) : r;
  } catch (e) {
    if (e instanceof LeaseLost) {
      const row = await store.getImport(db, null, importId!);
      return fail('conflict', `import ${importId}: this run lost its lease (no batch committed for ${Math.round(leaseMs / 1000)} s) and another run took the import over after line ${row?.checkpoint_line ?? '?'}; it continues from there`);
    }
    throw e;
  } finally {
    // a run that stops early (an error, a lost lease) lets the next run resume at once; a finished run has let go already
    if (importId) await store.releaseLease(db, importId, holder).catch(() => {});
  }
}

/** The same file for the same list again: nothing to do, nothing changes. */
function alreadyImported(i: Import): Result<ImportReport> {
  return ok({ ...(JSON.parse(i.report) as ImportReport), alreadyImported: true });
}

/** Another run holds the import (or finished it a moment ago). */
async function taken(db: Kysely<Database>, id: string): Promise<Result<ImportReport>> {
  const i = (await store.getImport(db, null, id))!;
  if (i.status !== 'running') return alreadyImported(i);
  const until = i.locked_until === null ? 'now' : new Date(i.locked_until).toISOString();
  return fail('conflict', `import ${i.id} of this file is being run by ${i.locked_by ?? 'another run'} (lease until ${until}): this run stops without reading the file. ` +
    `If that run died, its lease expires then; run the same import again to resume after line ${i.checkpoint_line}`);
}

interface Target {
  list: List;
  scan: FileScan;
  opts: CheckedOptions;
  existing: Import | undefined;
  holder: string;
  leaseMs: number;
  /** the import row this run created (and holds) */
  created: (id: string) => void;
}

async function readAndWrite(deps: ImportDeps, input: ImportInput, t: Target): Promise<Result<ImportReport> | 'taken'> {
  const { db, clock } = deps;
  const { list, scan, existing, holder, leaseMs } = t;
  const verify = crypto.createHash('sha256');
  let bytesRead = 0;
  const reader = readRecords(input.file, {
    encoding: t.opts.encoding, maxRecordBytes: deps.maxRecordBytes ?? 1 << 20, hash: verify, onBytes: (n) => { bytesRead = n; },
  });
  // the header is the first record
  const first = await reader.next();
  if (first.done || (first.value.kind === 'records' && !first.value.records.length)) {
    return fail('request.invalid', 'the file is empty: the first line must name the columns', 'file');
  }
  if (first.value.kind === 'problem') return fail('request.invalid', `line ${first.value.line}: ${first.value.detail}`, 'file');
  const [header, ...firstRows] = first.value.records;
  const columns = resolveColumns(header.cells, input.mapping);
  if (!columns.ok) {
    await reader.return(undefined);
    return columns;
  }

  const now = clock.now();
  let imp = existing ?? await store.createImport(db, {
    id: newId('imp', now), tenant_id: input.tenantId, list_id: list.id, file_hash: scan.sha256, file_name: input.fileName ?? path.basename(input.file),
    status: 'running', options: canonicalOptions(input), checkpoint_line: 0, report: '{}', created_at: now, finished_at: null, reviewed_by: null,
    locked_by: holder, locked_until: now + leaseMs,
  });
  if (!existing) {
    t.created(imp.id);
    // a concurrent run created it first: it is that run's, unless it let go already
    if (imp.locked_by !== holder) {
      if (!(await store.claimImport(db, imp.id, holder, clock.now(), leaseMs))) {
        await reader.return(undefined);
        return 'taken';
      }
      imp = (await store.getImport(db, null, imp.id))!;
    }
  }
  const stored = JSON.parse(imp.report) as ImportReport;
  let report = stored.counts ? stored : emptyReport({ importId: imp.id, list: { id: list.id, name: list.name }, fileName: imp.file_name, sha256: scan.sha256 }, now);
  let checkpoint = imp.checkpoint_line;

  const ctx: RowContext = { columns: columns.value, fileProvenance: t.opts.fileRaw, fixedProvenance: t.opts.fixed, now };
  const domains = createDomainChecker(deps.resolver, { concurrency: deps.dnsConcurrency });
  const batchSize = deps.batchSize ?? 2000;
  const lease = { holder, ms: leaseMs };
  let batch: Row[] = [];
  let lastLine = checkpoint;
  let batches = 0;

  const flush = async () => {
    if (!batch.length && lastLine <= checkpoint) return;
    const rows = batch;
    batch = [];
    const upTo = lastLine;
    report = await commitBatch(deps, domains, { importId: imp.id, tenantId: input.tenantId, list, lease }, rows, upTo, report);
    checkpoint = upTo;
    batches++;
    input.onProgress?.(checkpoint, bytesRead, scan.bytes);
    await input.onBatch?.({ batch: batches, checkpointLine: checkpoint });
  };

  let stoppedAt: { line: number; detail: string } | null = null;
  const restore = deps.dialect === 'sqlite' ? await store.widenCheckpoints(db) : async () => {};
  try {
    const take = async (records: CsvRecord[]) => {
      for (const r of records) {
        if (r.endLine <= checkpoint) continue; // committed by an earlier run
        const row = checkRow(r.cells, r.line, ctx);
        lastLine = r.endLine;
        if (row.kind !== 'blank') batch.push(row);
        if (batch.length >= batchSize) await flush();
      }
    };
    await take(firstRows);
    for await (const item of reader) {
      if (item.kind === 'records') {
        await take(item.records);
        continue;
      }
      if (item.code === 'quote_not_closed') {
        // the rows before it stand; this last one is refused with its line
        batch.push({ kind: 'refused', line: item.line, email: null, code: 'malformed_row', detail: item.detail, flags: { role: false, invalid: false, trap: false } });
        lastLine = Math.max(lastLine, item.line);
      } else stoppedAt = { line: item.line, detail: item.detail };
    }
    await flush();
  } finally {
    await restore();
  }

  if (stoppedAt || verify.digest('hex') !== scan.sha256) {
    const error = stoppedAt ? `line ${stoppedAt.line}: ${stoppedAt.detail}` : 'the file changed while it was being imported';
    report = { ...report, status: 'failed', error, finishedAt: new Date(clock.now()).toISOString() };
    if (!(await store.setStatus(db, imp.id, holder, 'failed', report, clock.now()))) throw new LeaseLost();
    return fail('request.invalid', `${error}; import ${imp.id} stopped after line ${checkpoint}, its contacts stay held (not mailable)`, 'file');
  }
  return ok(await finish(deps, imp.id, holder, list, report, t.opts.perRowTimestamps));
}

// Invalid UTF-8 is refused, not guessed: a wrong guess garbles names
// silently, in contacts and in the proof of consent (MJ-6), while the user
// knows the file and is one option (encoding windows-1252) away from a right
// import. The common case, Excel's plain "CSV" on Windows, gets that hint.
function checkEncoding(scan: FileScan, encoding: 'utf-8' | 'windows-1252'): Result<true> {
  if (scan.utf16) return fail('request.invalid', 'the file is UTF-16 (Excel "Unicode text"): save it as "CSV UTF-8"', 'encoding');
  if (encoding === 'utf-8' && !scan.utf8) {
    const at = scan.firstInvalid!;
    return fail('request.invalid', `line ${at.line}: the file is not valid UTF-8 (byte 0x${at.byte.toString(16).toUpperCase().padStart(2, '0')}); ` +
      'it is probably Windows-1252/Latin-1 (Excel\'s plain "CSV"): save it as "CSV UTF-8", or import it with encoding windows-1252', 'encoding');
  }
  if (encoding === 'windows-1252' && scan.utf8 && scan.nonAscii) {
    return fail('request.invalid', 'the file is valid UTF-8 with non-ASCII characters: reading it as windows-1252 would garble them; import it as UTF-8', 'encoding');
  }
  return ok(true);
}

/** One batch in one transaction, checkpoint and lease renewal included: a crash loses the batch in flight, never half of it. */
async function commitBatch(
  deps: ImportDeps, domains: DomainChecker, target: { importId: string; tenantId: string; list: List; lease: { holder: string; ms: number } },
  rows: Row[], upTo: number, report: ImportReport,
): Promise<ImportReport> {
  // DNS before the transaction: a slow server must not hold the write lock
  const verdicts = await domains.verdicts(rows.flatMap((r) => (r.kind === 'candidate' ? [r.address.domain] : [])));
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    if ((await store.renewLease(trx, target.importId, target.lease.holder, now, target.lease.ms)) === undefined) throw new LeaseLost();
    const hashes = [...new Set(rows.flatMap((r) => (r.kind === 'candidate' ? [r.address.hash] : [])))];
    const state = await readBatchState(trx, deps.dialect, target.tenantId, target.list.id, hashes);
    const plan = planBatch(rows, verdicts, state, { importId: target.importId, tenantId: target.tenantId, list: target.list, now, newId: batchIdMaker(now, rows.length) });
    await writeBatch(trx, deps.dialect, { tenantId: target.tenantId, importId: target.importId, listName: target.list.name }, plan, now);
    const next = addTally(report, plan.tally);
    await store.saveProgress(trx, target.importId, upTo, next);
    return next;
  });
}

/** The verdict (MJ-4): held for an operator, or released to the list. */
async function finish(deps: ImportDeps, importId: string, holder: string, list: List, report: ImportReport, perRowTimestamps: boolean): Promise<ImportReport> {
  const { db, clock } = deps;
  const stats = { ...report.stats, maxRowsSameTimestamp: perRowTimestamps ? await store.maxRowsSameTimestamp(db, importId, list.id) : 0 };
  const verdict = quarantineVerdict(stats);
  const now = clock.now();
  const notes: string[] = [];
  if (report.counts.pending) notes.push(`${report.counts.pending} subscription(s) are pending: the list asks for ${list.opt_in} opt-in and their consent does not satisfy it yet (no confirmation time, or no relationship the list accepts)`);
  if (report.counts.unverifiedDomains) notes.push(`${report.counts.unverifiedDomains} row(s) have a domain DNS could not check (timeout or server failure): accepted, listed in unverifiedDomainNames`);
  for (const s of verdict.signals) notes.push(`quarantine: ${explainSignal(s)}`);
  const final: ImportReport = { ...report, stats, quarantine: verdict, notes, status: verdict.quarantine ? 'quarantined' : 'completed', finishedAt: new Date(now).toISOString() };
  await db.transaction().execute(async (trx) => {
    // first: this run still holds the import, or it lets the run that does decide
    if (!(await store.setStatus(trx, importId, holder, final.status, final, now))) throw new LeaseLost();
    if (!verdict.quarantine) await store.releaseHold(trx, importId, list.id);
    if (verdict.quarantine) {
      await appendEvents(trx, [{ tenantId: list.tenant_id, messageId: importId, type: 'import_quarantined', at: now, data: { list: list.name, signals: verdict.signals, counts: final.counts } }]);
    }
  });
  return final;
}

// A tenant's imports, and one import: its progress while it runs, then the
// report — what was accepted, merged and refused, why, and the refused
// lines with their line numbers, paged by line on the server.
import { api, qs } from '../api.ts';
import { href } from '../router.ts';
import { Badge, ErrorBox, Page, Pager, Table, useCursor, useLoad, usePoll, when } from '../ui.tsx';

export interface ImportReport {
  list: { id: string; name: string };
  counts: Record<'rows' | 'accepted' | 'refused' | 'merged' | 'unverifiedDomains' | 'pending' | 'subscribed', number>;
  refusals: Record<string, number>;
  merges: Record<string, number>;
  quarantine: { quarantine: boolean; signals: { name: string; value: number; threshold: number }[] };
  notes: string[];
  error: string | null;
}
export interface ImportStatus {
  id: string; tenantId: string; listId: string; fileName: string; status: string; checkpointLine: number;
  createdAt: string; finishedAt: string | null; reviewedBy: string | null; report: ImportReport | null;
}
interface Reject { line: number; email: string | null; reason: string }

const REJECTS_PAGE = 50;

export function Imports() {
  const cur = useCursor();
  const page = useLoad(() => api<{ data: ImportStatus[]; next: string | null }>('GET', `/v1/imports${qs({ before: cur.cursor, limit: 25 })}`), [cur.cursor]);
  return (
    <Page title="Imports" actions={<a className="button" href={href('/lists')}>Import into a list…</a>}>
      <ErrorBox error={page.error} />
      <Table rows={page.data?.data} rowKey={(i) => i.id} empty="No import yet: open a list and choose Import CSV." caption="Imports" columns={[
        { label: 'File', render: (i) => <a className="break" href={href(`/imports/${i.id}`)}>{i.fileName}</a> },
        { label: 'List', render: (i) => i.report?.list.name ?? i.listId },
        { label: 'Status', render: (i) => <Badge value={i.status} /> },
        { label: 'Accepted', render: (i) => i.report?.counts.accepted ?? '—' },
        { label: 'Refused', render: (i) => i.report?.counts.refused ?? '—' },
        { label: 'Started', render: (i) => when(i.createdAt) },
      ]} />
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />
    </Page>
  );
}

/** Percent done: the checkpoint over the file's last line while it runs (lines known from the upload), 100 once it ended. */
function percent(s: ImportStatus, lines: number | null): number | null {
  if (s.status !== 'running') return 100;
  if (!lines) return null;
  return Math.min(99, Math.floor((s.checkpointLine / lines) * 100));
}

export function ImportDetail({ id, lines }: { id: string; lines: number | null }) {
  const st = useLoad(() => api<ImportStatus>('GET', `/v1/imports/${encodeURIComponent(id)}`), [id]);
  const running = !st.data || st.data.status === 'running';
  usePoll(st.reload, 500, running && !st.error);
  const s = st.data;
  const pct = s ? percent(s, lines) : null;
  return (
    <Page title={s ? `Import of ${s.fileName}` : 'Import'}>
      <ErrorBox error={st.error} />
      {s && (
        <>
          <p>Into <strong>{s.report?.list.name ?? s.listId}</strong> · <Badge value={s.status} /> · started {when(s.createdAt)}{s.finishedAt && <>, ended {when(s.finishedAt)}</>}</p>
          <div className="progress" role="progressbar" aria-label="Import progress" aria-valuemin={0} aria-valuemax={100}
            aria-valuenow={pct ?? undefined} aria-valuetext={pct === null ? `line ${s.checkpointLine}` : `${pct} %`}>
            <div className={pct === null ? 'progress-bar indeterminate' : 'progress-bar'} style={{ width: `${pct ?? 30}%` }} />
          </div>
          <p className="muted" aria-live="polite">{running ? `Reading… ${s.checkpointLine.toLocaleString()} of ${lines ? lines.toLocaleString() : '?'} lines` : `Done: ${pct} %`}</p>
          {s.report && <Report report={s.report} />}
          {!running && <RefusedLines id={s.id} />}
        </>
      )}
    </Page>
  );
}

export function Report({ report: r }: { report: ImportReport }) {
  const reasons = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1]);
  return (
    <>
      {r.error && <p className="error">{r.error}</p>}
      <dl className="counters" aria-label="Import counts">
        {(['rows', 'accepted', 'merged', 'refused', 'subscribed', 'pending'] as const).map((k) => (
          <div key={k}><dt>{k}</dt><dd>{r.counts[k].toLocaleString()}</dd></div>
        ))}
      </dl>
      {r.quarantine.quarantine && <p className="error">Held for review by an operator: the contacts are not mailable until the import is approved.</p>}
      {r.notes.length > 0 && <ul className="notes">{r.notes.map((n, i) => <li key={i} className="break">{n}</li>)}</ul>}
      <div className="reasons">
        <Table rows={reasons(r.refusals)} rowKey={([k]) => k} empty="No line refused." caption="Refused, by reason" columns={[
          { label: 'Refused because', render: ([k]) => k.replace(/_/g, ' ') },
          { label: 'Lines', render: ([, n]) => n.toLocaleString() },
        ]} />
        <Table rows={reasons(r.merges)} rowKey={([k]) => k} empty="Nothing merged." caption="Merged, by reason" columns={[
          { label: 'Merged because', render: ([k]) => k.replace(/_/g, ' ') },
          { label: 'Lines', render: ([, n]) => n.toLocaleString() },
        ]} />
      </div>
    </>
  );
}

/** The refused lines, paged by line number (the API's afterLine). */
function RefusedLines({ id }: { id: string }) {
  const cur = useCursor();
  const page = useLoad(() => api<{ data: Reject[] }>('GET', `/v1/imports/${encodeURIComponent(id)}/rejects${qs({ afterLine: cur.cursor, limit: REJECTS_PAGE })}`), [id, cur.cursor]);
  const rows = page.data?.data;
  const next = rows && rows.length === REJECTS_PAGE ? String(rows[rows.length - 1].line) : null;
  if ((rows && !rows.length && cur.page === 1)) return null;
  return (
    <section aria-labelledby="refused-lines">
      <h2 id="refused-lines">Refused lines</h2>
      <ErrorBox error={page.error} />
      <Table rows={rows} rowKey={(r) => String(r.line)} caption="Refused lines" columns={[
        { label: 'Line', render: (r) => r.line },
        { label: 'Address', render: (r) => <span className="break">{r.email ?? '—'}</span> },
        { label: 'Reason', render: (r) => <span className="break">{r.reason}</span> },
      ]} />
      <Pager page={cur.page} next={next} onNext={() => cur.next(next)} onPrev={cur.prev} />
    </section>
  );
}

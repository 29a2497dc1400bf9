// Operators: imports the platform held because they look bought, rented or
// scraped (MJ-4), from every tenant, with the signals that fired. Approve
// makes their contacts mailable; reject keeps them held (their records stay,
// so the decision can be audited).
import { useState } from 'react';
import { api, qs } from '../api.ts';
import { href } from '../router.ts';
import { ErrorBox, Notice, Page, Pager, useAction, useCursor, useLoad, when } from '../ui.tsx';
import type { ImportStatus } from './imports.tsx';

interface Tenant { id: string; name: string }

export function Quarantine() {
  const cur = useCursor();
  const page = useLoad(() => api<{ data: ImportStatus[]; next: string | null }>('GET', `/v1/imports${qs({ status: 'quarantined', before: cur.cursor, limit: 20 })}`), [cur.cursor]);
  const tenants = useLoad(() => api<{ data: Tenant[] }>('GET', '/v1/tenants'), []);
  const nameOf = (id: string) => tenants.data?.data.find((t) => t.id === id)?.name ?? id;
  const [done, setDone] = useState('');
  const act = useAction();
  const review = (i: ImportStatus, decision: 'approve' | 'reject') => act.run(async () => {
    await api('POST', `/v1/imports/${encodeURIComponent(i.id)}/${decision}`);
    setDone(`${i.fileName} (${nameOf(i.tenantId)}) ${decision === 'approve' ? 'approved: its contacts may be mailed' : 'rejected: its contacts stay held'}.`);
    page.reload();
  });
  const rows = page.data?.data;
  return (
    <Page title="Quarantined imports">
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={act.error ?? page.error} />
      {rows && !rows.length && <p className="muted">No import waits for review.</p>}
      {!rows && !page.error && <p className="muted">Loading…</p>}
      <ul className="review-list">
        {rows?.map((i) => (
          <li key={i.id} className="card" aria-label={`Import ${i.fileName}`}>
            <h2 className="break"><a href={href(`/imports/${i.id}`)}>{i.fileName}</a></h2>
            <dl className="meta">
              <dt>Tenant</dt><dd className="break">{nameOf(i.tenantId)}</dd>
              <dt>List</dt><dd className="break">{i.report?.list.name ?? i.listId}</dd>
              <dt>Rows</dt><dd>{i.report ? `${i.report.counts.rows.toLocaleString()} (${i.report.counts.accepted.toLocaleString()} accepted, ${i.report.counts.refused.toLocaleString()} refused)` : '—'}</dd>
              <dt>Ended</dt><dd>{when(i.finishedAt)}</dd>
            </dl>
            <h3>Why it is held</h3>
            <ul className="signals">
              {(i.report?.notes ?? []).filter((n) => n.startsWith('quarantine: ')).map((n) => <li key={n} className="break">{n.slice('quarantine: '.length)}</li>)}
            </ul>
            <div className="actions">
              <button type="button" className="primary" disabled={act.busy} onClick={() => review(i, 'approve')} aria-label={`Approve ${i.fileName}`}>Approve</button>
              <button type="button" className="danger" disabled={act.busy} onClick={() => review(i, 'reject')} aria-label={`Reject ${i.fileName}`}>Reject</button>
            </div>
          </li>
        ))}
      </ul>
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />
    </Page>
  );
}

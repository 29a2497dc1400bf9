// What came back: bounces, complaints, auto-replies, abuse@ reports.
import { useState } from 'react';
import { api, qs } from '../api.ts';
import { Badge, ErrorBox, Field, Page, Pager, Table, useCursor, useLoad, when } from '../ui.tsx';

interface Item {
  id: string; mailbox: string; rcptTo: string; mailFrom: string; receivedAt: string; status: string; kind: string | null;
  address: string | null; subject: string | null; done?: unknown; via?: string | null;
}

export function Feedback() {
  const [filter, setFilter] = useState({ mailbox: '', status: '' });
  const cur = useCursor();
  const page = useLoad(() => api<{ data: Item[]; next: string | null }>('GET', `/v1/feedback${qs({ ...filter, before: cur.cursor, limit: 25 })}`), [filter, cur.cursor]);
  const set = (k: 'mailbox' | 'status') => (e: { target: { value: string } }) => { cur.reset(); setFilter({ ...filter, [k]: e.target.value }); };
  return (
    <Page title="Feedback" actions={<button type="button" onClick={page.reload}>Refresh</button>}>
      <div className="inline-form">
        <Field label="Mailbox">
          <select value={filter.mailbox} onChange={set('mailbox')}>
            {['', 'bounce', 'unsubscribe', 'abuse', 'postmaster'].map((m) => <option key={m} value={m}>{m || 'any'}</option>)}
          </select>
        </Field>
        <Field label="Status">
          <select value={filter.status} onChange={set('status')}>
            {['', 'processed', 'unmatched', 'unparsed', 'received'].map((m) => <option key={m} value={m}>{m || 'any'}</option>)}
          </select>
        </Field>
      </div>
      <ErrorBox error={page.error} />
      <Table rows={page.data?.data} rowKey={(i) => i.id} empty="Nothing came back yet." caption="Inbound feedback" columns={[
        { label: 'Received', render: (i) => when(i.receivedAt) },
        { label: 'Kind', render: (i) => <Badge value={i.kind ?? 'unknown'} /> },
        { label: 'About', render: (i) => <span className="break">{i.address ?? '—'}</span> },
        { label: 'Mailbox', render: (i) => i.mailbox },
        { label: 'Status', render: (i) => <Badge value={i.status} /> },
        { label: 'Subject', render: (i) => <span className="break">{i.subject ?? ''}</span> },
        { label: 'Raw', render: (i) => <a href={`/v1/feedback/${encodeURIComponent(i.id)}/raw`} download={`${i.id}.eml`}>.eml</a> },
      ]} />
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />
    </Page>
  );
}

// The suppression list: search, filter by reason, add, and remove with a
// reason (the API insists on one for complaints, hard bounces and spam traps;
// the dashboard asks for one every time, and it is kept in the audit trail).
import { useState, type FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { Badge, ErrorBox, Field, Notice, Page, Pager, Table, useAction, useCursor, useLoad, when } from '../ui.tsx';

interface Suppression { id: string; email: string; reason: string; source: string; note: string | null; createdAt: string }
const REASONS = ['manual', 'unsubscribe', 'hard_bounce', 'complaint', 'spamtrap'];

export function Suppressions() {
  const [q, setQ] = useState('');
  const [filter, setFilter] = useState({ q: '', reason: '' });
  const cur = useCursor();
  const page = useLoad(() => api<{ data: Suppression[]; next: string | null }>('GET', `/v1/suppressions${qs({ q: filter.q, reason: filter.reason, before: cur.cursor, limit: 25 })}`), [filter, cur.cursor]);
  const [add, setAdd] = useState({ email: '', reason: 'manual', note: '' });
  const adding = useAction();
  const [removing, setRemoving] = useState<Suppression | null>(null);
  const [why, setWhy] = useState('');
  const remove = useAction();
  const [done, setDone] = useState('');

  const submitAdd = async (e: FormEvent) => {
    e.preventDefault();
    if (await adding.run(() => api('POST', '/v1/suppressions', { email: add.email, reason: add.reason, ...(add.note ? { note: add.note } : {}) }))) {
      setDone(`${add.email} is suppressed.`);
      setAdd({ email: '', reason: 'manual', note: '' });
      page.reload();
    }
  };
  const submitRemove = async (e: FormEvent) => {
    e.preventDefault();
    if (!removing) return;
    if (await remove.run(() => api('DELETE', `/v1/suppressions/${encodeURIComponent(removing.email)}${qs({ why })}`))) {
      setDone(`${removing.email} may be mailed again.`);
      setRemoving(null);
      setWhy('');
      page.reload();
    }
  };

  return (
    <Page title="Suppressions">
      <form role="search" className="inline-form" onSubmit={(e) => { e.preventDefault(); cur.reset(); setFilter({ ...filter, q: q.trim() }); }}>
        <Field label="Search addresses"><input type="search" value={q} onChange={(e) => setQ(e.target.value)} /></Field>
        <Field label="Reason">
          <select value={filter.reason} onChange={(e) => { cur.reset(); setFilter({ ...filter, reason: e.target.value }); }}>
            <option value="">any</option>
            {REASONS.map((r) => <option key={r} value={r}>{r.replace(/_/g, ' ')}</option>)}
          </select>
        </Field>
        <button type="submit">Search</button>
      </form>
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={page.error} />
      <Table rows={page.data?.data} rowKey={(s) => s.id} empty="No suppressed address matches." caption="Suppressed addresses" columns={[
        { label: 'Address', render: (s) => <span className="break">{s.email}</span> },
        { label: 'Reason', render: (s) => <Badge value={s.reason} /> },
        { label: 'Source', render: (s) => <span className="break">{s.source}</span> },
        { label: 'Note', render: (s) => s.note ?? '' },
        { label: 'Since', render: (s) => when(s.createdAt) },
        { label: 'Action', render: (s) => <button type="button" className="small" onClick={() => { setRemoving(s); setWhy(''); }} aria-label={`Remove ${s.email}`}>Remove…</button> },
      ]} />
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />

      {removing && (
        <form className="card" onSubmit={submitRemove} aria-label={`Remove ${removing.email}`}>
          <h2>Lift the suppression of {removing.email}</h2>
          <p>Suppressed for <strong>{removing.reason.replace(/_/g, ' ')}</strong>. The reason you give is kept with the change.</p>
          <Field label="Why may this address be mailed again?"><textarea required minLength={3} rows={2} value={why} onChange={(e) => setWhy(e.target.value)} autoFocus /></Field>
          <ErrorBox error={remove.error} />
          <div className="actions">
            <button type="submit" className="danger" disabled={remove.busy}>Remove suppression</button>
            <button type="button" onClick={() => setRemoving(null)}>Cancel</button>
          </div>
        </form>
      )}

      <form className="card grid-form" onSubmit={submitAdd} aria-label="Suppress an address">
        <h2>Suppress an address</h2>
        <Field label="Address"><input type="email" required value={add.email} onChange={(e) => setAdd({ ...add, email: e.target.value })} /></Field>
        <Field label="Reason">
          <select value={add.reason} onChange={(e) => setAdd({ ...add, reason: e.target.value })}>
            {['manual', 'complaint', 'hard_bounce', 'spamtrap'].map((r) => <option key={r} value={r}>{r.replace(/_/g, ' ')}</option>)}
          </select>
        </Field>
        <Field label="Note (optional)"><input value={add.note} onChange={(e) => setAdd({ ...add, note: e.target.value })} /></Field>
        <ErrorBox error={adding.error} />
        <button type="submit" className="primary" disabled={adding.busy}>Suppress</button>
      </form>
    </Page>
  );
}

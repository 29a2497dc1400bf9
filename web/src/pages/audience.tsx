// Lists, contacts (searched and paged on the server) and a contact's timeline.
import { useState, type FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { href } from '../router.ts';
import { Badge, ErrorBox, Field, Page, Pager, Table, useAction, useCursor, useLoad, when } from '../ui.tsx';

interface List { id: string; name: string; description: string | null; fromAddress: string; fromName: string; optIn: string; createdAt: string }
interface Contact { id: string; email: string; domain: string; fields: Record<string, unknown>; lastOpenAt: string | null; lastClickAt: string | null; createdAt: string }

export function Lists() {
  const lists = useLoad(() => api<{ data: List[] }>('GET', '/v1/lists'), []);
  const [f, setF] = useState({ name: '', fromAddress: '', fromName: '', consentText: '', optIn: 'double' });
  const add = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await add.run(() => api('POST', '/v1/lists', f))) {
      setF({ ...f, name: '' });
      lists.reload();
    }
  };
  return (
    <Page title="Lists">
      <Table rows={lists.data?.data} rowKey={(l) => l.id} empty="No list yet." caption="Lists" columns={[
        { label: 'Name', render: (l) => <strong>{l.name}</strong> },
        { label: 'From', render: (l) => <span className="break">{l.fromName} &lt;{l.fromAddress}&gt;</span> },
        { label: 'Opt-in', render: (l) => l.optIn },
        { label: 'Id', render: (l) => <code className="break">{l.id}</code> },
        { label: 'Contacts', render: (l) => <a href={href(`/lists/${l.id}/import`)} aria-label={`Import CSV into ${l.name}`}>Import CSV</a> },
      ]} />
      <details className="card">
        <summary>New list</summary>
        <form onSubmit={submit} className="grid-form">
          <Field label="Name"><input required value={f.name} onChange={set('name')} /></Field>
          <Field label="From address"><input type="email" required value={f.fromAddress} onChange={set('fromAddress')} /></Field>
          <Field label="From name"><input required value={f.fromName} onChange={set('fromName')} /></Field>
          <Field label="Opt-in">
            <select value={f.optIn} onChange={set('optIn')}><option value="double">double (confirmation mail)</option><option value="single">single</option></select>
          </Field>
          <Field label="Consent text" hint="What subscribers agree to, shown on the form and kept as proof">
            <textarea required rows={3} value={f.consentText} onChange={set('consentText')} />
          </Field>
          <ErrorBox error={add.error} />
          <button type="submit" className="primary" disabled={add.busy}>Create list</button>
        </form>
      </details>
      <ErrorBox error={lists.error} />
    </Page>
  );
}

export function Contacts() {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const cur = useCursor();
  const page = useLoad(() => api<{ data: Contact[]; next: string | null }>('GET', `/v1/contacts${qs({ q: query, after: cur.cursor, limit: 25 })}`), [query, cur.cursor]);
  const search = (e: FormEvent) => {
    e.preventDefault();
    cur.reset();
    setQuery(q.trim());
  };
  return (
    <Page title="Contacts">
      <form role="search" className="inline-form" onSubmit={search}>
        <Field label="Search contacts"><input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="address or part of it" /></Field>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={page.error} />
      <Table rows={page.data?.data} rowKey={(c) => c.id} empty={query ? `No contact matches “${query}”.` : 'No contact yet.'} caption="Contacts" columns={[
        { label: 'Address', render: (c) => <a className="break" href={href(`/contacts/${c.id}`)}>{c.email}</a> },
        { label: 'Fields', render: (c) => <span className="muted break">{Object.entries(c.fields).map(([k, v]) => `${k}: ${v}`).join(', ')}</span> },
        { label: 'Last open', render: (c) => when(c.lastOpenAt) },
        { label: 'Added', render: (c) => when(c.createdAt) },
      ]} />
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />
    </Page>
  );
}

interface ContactDetailData extends Contact {
  subscriptions: { list_id: string; list: string; status: string; created_at: number; confirmed_at: number | null; unsubscribed_at: number | null }[];
  suppression: { reason: string; created_at?: number } | null;
  timeline: { type: string; at: string; data: Record<string, unknown> }[];
}

export function ContactDetail({ id }: { id: string }) {
  const c = useLoad(() => api<ContactDetailData>('GET', `/v1/contacts/${encodeURIComponent(id)}`), [id]);
  if (!c.data) return <Page title="Contact"><ErrorBox error={c.error} /></Page>;
  const d = c.data;
  const ms = (t: number | null) => (t ? new Date(t).toISOString() : null);
  return (
    <Page title={d.email}>
      {d.suppression && <p className="error">Suppressed: {d.suppression.reason}. No marketing reaches this address.</p>}
      <h2>Subscriptions</h2>
      <Table rows={d.subscriptions} rowKey={(s) => s.list_id} empty="Not on any list." columns={[
        { label: 'List', render: (s) => s.list },
        { label: 'Status', render: (s) => <Badge value={s.status} /> },
        { label: 'Since', render: (s) => when(ms(s.created_at)) },
        { label: 'Confirmed', render: (s) => when(ms(s.confirmed_at)) },
        { label: 'Unsubscribed', render: (s) => when(ms(s.unsubscribed_at)) },
      ]} />
      <p><a href={`/v1/consent/proof${qs({ email: d.email, format: 'html' })}`} target="_blank" rel="noopener">Proof of consent</a></p>
      <h2>Timeline</h2>
      <ol className="timeline">
        {d.timeline.length === 0 && <li className="muted">Nothing happened yet.</li>}
        {d.timeline.map((e, i) => (
          <li key={i}>
            <time dateTime={e.at}>{when(e.at)}</time> <Badge value={e.type} />
            <span className="muted break"> {summary(e.data)}</span>
          </li>
        ))}
      </ol>
      <h2>Fields</h2>
      <pre className="raw">{JSON.stringify(d.fields, null, 2)}</pre>
    </Page>
  );
}

const summary = (data: Record<string, unknown>) =>
  Object.entries(data).filter(([, v]) => v !== null && typeof v !== 'object').slice(0, 6).map(([k, v]) => `${k}: ${v}`).join(' · ');

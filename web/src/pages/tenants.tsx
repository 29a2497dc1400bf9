// Operators: tenants, and the first API key of a new one (shown once).
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { href } from '../router.ts';
import { Badge, CopyButton, ErrorBox, Field, Notice, Page, Table, useAction, useLoad, when } from '../ui.tsx';

interface Tenant { id: string; name: string; status: string; created_at: number }

export function Tenants() {
  const list = useLoad(() => api<{ data: Tenant[] }>('GET', '/v1/tenants'), []);
  const [name, setName] = useState('');
  const [f, setF] = useState({ email: '', password: '', tenant: '' });
  const [created, setCreated] = useState<{ name: string; token: string }>();
  const [done, setDone] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await a.run(async () => {
      const r = await api<{ name: string; apiKey: { token: string } }>('POST', '/v1/tenants', { name });
      setCreated({ name: r.name, token: r.apiKey.token });
      setName('');
      list.reload();
    });
  };
  const addUser = async (e: FormEvent) => {
    e.preventDefault();
    if (await a.run(() => api('POST', '/v1/users', f))) {
      setDone(`${f.email} may sign in to ${f.tenant}.`);
      setF({ email: '', password: '', tenant: f.tenant });
    }
  };
  return (
    <Page title="Tenants">
      {created && <Notice>Tenant {created.name} created. Its first API token, shown once: <code className="break">{created.token}</code> <CopyButton text={created.token} label="API token" /></Notice>}
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={a.error ?? list.error} />
      <Table rows={list.data?.data} rowKey={(t) => t.id} empty="No tenant yet." caption="Tenants" columns={[
        { label: 'Name', render: (t) => t.name },
        { label: 'Status', render: (t) => <Badge value={t.status} /> },
        { label: 'Id', render: (t) => <code className="break">{t.id}</code> },
        { label: 'Created', render: (t) => when(new Date(t.created_at).toISOString()) },
        { label: 'Reputation', render: (t) => <a href={href(`/reputation?tenant=${encodeURIComponent(t.id)}`)} aria-label={`Reputation, suspend or resume: ${t.name}`}>{t.status === 'suspended' ? 'Why, resume…' : 'Manage…'}</a> },
      ]} />
      <form className="inline-form" onSubmit={submit} aria-label="Create a tenant">
        <Field label="New tenant name"><input required value={name} onChange={(e) => setName(e.target.value)} /></Field>
        <button type="submit" className="primary" disabled={a.busy}>Create tenant</button>
      </form>
      <form className="card grid-form" onSubmit={addUser} aria-label="Add a tenant user">
        <h2>Add a user to a tenant</h2>
        <Field label="Tenant">
          <select required value={f.tenant} onChange={(e) => setF({ ...f, tenant: e.target.value })}>
            <option value="">Choose…</option>
            {list.data?.data.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
          </select>
        </Field>
        <Field label="Address"><input type="email" required value={f.email} onChange={(e) => setF({ ...f, email: e.target.value })} /></Field>
        <Field label="Initial password"><input type="password" autoComplete="new-password" minLength={10} required value={f.password} onChange={(e) => setF({ ...f, password: e.target.value })} /></Field>
        <button type="submit" disabled={a.busy}>Add user</button>
      </form>
    </Page>
  );
}

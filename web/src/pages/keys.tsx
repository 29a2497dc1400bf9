// API keys (tenants) and dashboard users (tenants: their users; operators:
// the operators). Secrets are shown once, right after creation.
import { useState, type FormEvent } from 'react';
import { api, type User } from '../api.ts';
import { Badge, CopyButton, ErrorBox, Field, Notice, Page, Table, useAction, useLoad, when } from '../ui.tsx';

interface Key { id: string; label: string; role: string; created_at: number; revoked_at: number | null }
interface UserRow { id: string; email: string; role: string; lastLoginAt: string | null; createdAt: string }

export function Keys({ user }: { user: User }) {
  const tenant = user.role === 'tenant';
  return (
    <Page title={tenant ? 'API keys & users' : 'Operators'}>
      {tenant && <ApiKeys />}
      <Users self={user} />
    </Page>
  );
}

function ApiKeys() {
  const keys = useLoad(() => api<{ data: Key[] }>('GET', '/v1/keys'), []);
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<{ token: string; id: string }>();
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await a.run(async () => {
      setCreated(await api<{ token: string; id: string }>('POST', '/v1/keys', { label }));
      setLabel('');
      keys.reload();
    });
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {created && (
        <Notice>
          New key {created.id}. Its token is shown once: <code className="break" data-testid="new-token">{created.token}</code> <CopyButton text={created.token} label="API token" />
        </Notice>
      )}
      <ErrorBox error={a.error ?? keys.error} />
      <Table rows={keys.data?.data} rowKey={(k) => k.id} empty="No key." caption="API keys" columns={[
        { label: 'Key id', render: (k) => <code className="break">{k.id}</code> },
        { label: 'Label', render: (k) => k.label },
        { label: 'Created', render: (k) => when(new Date(k.created_at).toISOString()) },
        { label: 'State', render: (k) => <Badge value={k.revoked_at ? 'revoked' : 'active'} /> },
        { label: 'Action', render: (k) => !k.revoked_at && (
          <button type="button" className="small danger" aria-label={`Revoke ${k.label} (${k.id})`}
            onClick={() => confirm(`Revoke ${k.label}? Applications using it stop working at once.`) && a.run(async () => { await api('DELETE', `/v1/keys/${k.id}`); keys.reload(); })}>Revoke</button>
        ) },
      ]} />
      <form className="inline-form" onSubmit={submit} aria-label="Create an API key">
        <Field label="Label of the new key"><input required maxLength={100} value={label} onChange={(e) => setLabel(e.target.value)} /></Field>
        <button type="submit" className="primary" disabled={a.busy}>Create key</button>
      </form>
    </section>
  );
}

function Users({ self }: { self: User }) {
  const users = useLoad(() => api<{ data: UserRow[] }>('GET', '/v1/users'), []);
  const [f, setF] = useState({ email: '', password: '' });
  const [done, setDone] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await a.run(() => api('POST', '/v1/users', f))) {
      setDone(`${f.email} may sign in now with the password you chose; ask them to keep it private.`);
      setF({ email: '', password: '' });
      users.reload();
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">{self.role === 'tenant' ? 'Dashboard users' : 'Operators'}</h2>
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={a.error ?? users.error} />
      <Table rows={users.data?.data} rowKey={(u) => u.id} empty="No user." caption="Dashboard users" columns={[
        { label: 'Address', render: (u) => <span className="break">{u.email}</span> },
        { label: 'Last sign-in', render: (u) => when(u.lastLoginAt) },
        { label: 'Action', render: (u) => u.id !== self.id && (
          <button type="button" className="small danger" aria-label={`Remove ${u.email}`}
            onClick={() => confirm(`Remove ${u.email}?`) && a.run(async () => { await api('DELETE', `/v1/users/${u.id}`); users.reload(); })}>Remove</button>
        ) },
      ]} />
      <form className="inline-form" onSubmit={submit} aria-label="Add a dashboard user">
        <Field label="Address"><input type="email" required value={f.email} onChange={(e) => setF({ ...f, email: e.target.value })} /></Field>
        <Field label="Initial password" hint="10 characters or more"><input type="password" autoComplete="new-password" minLength={10} required value={f.password} onChange={(e) => setF({ ...f, password: e.target.value })} /></Field>
        <button type="submit" className="primary" disabled={a.busy}>Add user</button>
      </form>
    </section>
  );
}

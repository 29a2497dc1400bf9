// Outgoing webhooks: endpoints, their secret (shown once), pause, test, remove.
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { Badge, CopyButton, ErrorBox, Field, Notice, Page, Table, useAction, useLoad } from '../ui.tsx';

interface Endpoint { id: string; url: string; events: string[]; format: string; active: boolean; description?: string | null }

export function Webhooks() {
  const list = useLoad(() => api<{ data: Endpoint[] }>('GET', '/v1/webhooks'), []);
  const [f, setF] = useState({ url: '', format: 'native', description: '' });
  const [secret, setSecret] = useState('');
  const [result, setResult] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await a.run(async () => {
      const r = await api<{ secret: string }>('POST', '/v1/webhooks', { url: f.url, format: f.format, ...(f.description ? { description: f.description } : {}) });
      setSecret(r.secret);
      setF({ ...f, url: '', description: '' });
      list.reload();
    });
  };
  return (
    <Page title="Webhooks">
      {secret && <Notice>Signing secret, shown once: <code className="break">{secret}</code> <CopyButton text={secret} label="webhook secret" /></Notice>}
      {result && <Notice>{result}</Notice>}
      <ErrorBox error={a.error ?? list.error} />
      <Table rows={list.data?.data} rowKey={(w) => w.id} empty="No endpoint yet." caption="Webhook endpoints" columns={[
        { label: 'URL', render: (w) => <span className="break">{w.url}</span> },
        { label: 'Format', render: (w) => w.format },
        { label: 'State', render: (w) => <Badge value={w.active ? 'active' : 'paused'} /> },
        { label: 'Actions', render: (w) => (
          <span className="actions">
            <button type="button" className="small" onClick={() => a.run(async () => { await api('PATCH', `/v1/webhooks/${w.id}`, { active: !w.active }); list.reload(); })}>{w.active ? 'Pause' : 'Resume'}</button>
            <button type="button" className="small" onClick={() => a.run(async () => { const r = await api<{ ok: boolean; status?: number; error?: string }>('POST', `/v1/webhooks/${w.id}/test`); setResult(r.ok ? `Test delivered (HTTP ${r.status}).` : `Test failed: ${r.error ?? `HTTP ${r.status}`}`); })}>Test</button>
            <button type="button" className="small danger" onClick={() => confirm(`Remove ${w.url}?`) && a.run(async () => { await api('DELETE', `/v1/webhooks/${w.id}`); list.reload(); })}>Remove</button>
          </span>
        ) },
      ]} />
      <form className="card grid-form" onSubmit={submit} aria-label="Add a webhook endpoint">
        <h2>Add an endpoint</h2>
        <Field label="URL (https)"><input type="url" required value={f.url} onChange={(e) => setF({ ...f, url: e.target.value })} /></Field>
        <Field label="Format">
          <select value={f.format} onChange={(e) => setF({ ...f, format: e.target.value })}><option value="native">envoi</option><option value="mailjet">Mailjet</option></select>
        </Field>
        <Field label="Description (optional)"><input value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} /></Field>
        <button type="submit" className="primary" disabled={a.busy}>Add endpoint</button>
      </form>
    </Page>
  );
}

// The sandbox inbox: what envoi would have put on the wire, newest first;
// one message rendered in a sandboxed frame (no script, no remote image:
// see src/web/static.ts), its text part, its raw source, and the preflight.
import { useEffect, useState } from 'react';
import PostalMime from 'postal-mime';
import { api, qs } from '../api.ts';
import { href } from '../router.ts';
import { ErrorBox, Page, Pager, Table, useAction, useCursor, useLoad, when } from '../ui.tsx';

interface Entry { id: string; message_id: string; mail_from: string; rcpt_to: string; created_at: number; subject: string | null; from_address: string; size: number }
interface Parsed { subject?: string; from?: string; to?: string; date?: string; html?: string; text?: string; headers: { key: string; value: string }[]; attachments: string[] }

export function Sandbox() {
  const cur = useCursor();
  const page = useLoad(() => api<{ data: Entry[]; next: string | null }>('GET', `/v1/sandbox/messages${qs({ before: cur.cursor, limit: 25 })}`), [cur.cursor]);
  return (
    <Page title="Sandbox" actions={<button type="button" onClick={page.reload}>Refresh</button>}>
      <p className="muted">Every message envoi sends in sandbox mode lands here instead of the internet, byte for byte.</p>
      <ErrorBox error={page.error} />
      <Table rows={page.data?.data} rowKey={(e) => e.id} empty="The sandbox is empty." caption="Captured messages" columns={[
        { label: 'Subject', render: (e) => <a href={href(`/sandbox/${e.id}`)}>{e.subject || '(no subject)'}</a> },
        { label: 'To', render: (e) => <span className="break">{e.rcpt_to}</span> },
        { label: 'From', render: (e) => <span className="break">{e.from_address}</span> },
        { label: 'Captured', render: (e) => when(new Date(e.created_at).toISOString()) },
        { label: 'Size', render: (e) => `${Math.ceil(e.size / 1024)} KB` },
      ]} />
      <Pager page={cur.page} next={page.data?.next} onNext={() => cur.next(page.data?.next ?? null)} onPrev={cur.prev} />
    </Page>
  );
}

export function SandboxMessage({ id }: { id: string }) {
  const m = useLoad(() => api<Entry & { raw: string }>('GET', `/v1/sandbox/messages/${encodeURIComponent(id)}`), [id]);
  const [parsed, setParsed] = useState<Parsed>();
  const [view, setView] = useState<'rendered' | 'text' | 'raw'>('rendered');
  const pre = useAction();
  const [verdict, setVerdict] = useState<unknown>();
  useEffect(() => {
    if (!m.data) return;
    PostalMime.parse(m.data.raw).then((e) => setParsed({
      subject: e.subject, date: e.date, html: e.html, text: e.text,
      from: e.from ? `${e.from.name ? `${e.from.name} ` : ''}<${e.from.address}>` : undefined,
      to: (e.to ?? []).map((a) => a.address).join(', '),
      headers: e.headers, attachments: e.attachments.map((a) => `${a.filename ?? '(unnamed)'} ${a.mimeType}`),
    }));
  }, [m.data]);
  if (!m.data) return <Page title="Message"><ErrorBox error={m.error} /></Page>;
  const tabs = [['rendered', 'Rendered'], ['text', 'Text'], ['raw', 'Raw source']] as const;
  return (
    <Page title={parsed?.subject ?? m.data.subject ?? 'Message'}>
      <dl className="meta">
        <dt>From</dt><dd className="break">{parsed?.from ?? m.data.from_address}</dd>
        <dt>To</dt><dd className="break">{parsed?.to || m.data.rcpt_to}</dd>
        <dt>Envelope</dt><dd className="break">{m.data.mail_from} → {m.data.rcpt_to}</dd>
        <dt>Date</dt><dd>{parsed?.date ?? ''}</dd>
        {parsed?.attachments.length ? <><dt>Attachments</dt><dd>{parsed.attachments.join(', ')}</dd></> : null}
      </dl>
      <div role="tablist" aria-label="Message views" className="tabs">
        {tabs.map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={view === k} onClick={() => setView(k)}>{label}</button>
        ))}
        <a className="button" href={`/v1/sandbox/messages/${encodeURIComponent(id)}/raw`} download={`${id}.eml`}>Download .eml</a>
        <button type="button" disabled={pre.busy} onClick={() => pre.run(async () => setVerdict(await api('POST', '/v1/preflight', { sandbox: id })))}>Preflight</button>
      </div>
      <ErrorBox error={pre.error} />
      {verdict !== undefined && <details open><summary>Preflight verdict</summary><pre className="raw">{JSON.stringify(verdict, null, 2)}</pre></details>}
      <div role="tabpanel">
        {view === 'rendered' && (parsed?.html
          ? <><p className="muted">Remote images are not loaded here.</p><iframe title="Rendered message" sandbox="" srcDoc={parsed.html} className="mail-frame desktop" /></>
          : <pre className="raw">{parsed?.text ?? 'Parsing…'}</pre>)}
        {view === 'text' && <pre className="raw">{parsed?.text ?? '(no text part)'}</pre>}
        {view === 'raw' && <pre className="raw" aria-label="Raw source">{m.data.raw}</pre>}
      </div>
    </Page>
  );
}

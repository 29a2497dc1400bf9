// Campaigns: the list, a new one from a template, and one campaign's page:
// preview as a contact, lint findings, test send, submit, schedule, and the
// live view that polls its counters while it sends.
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { href, navigate, useRoute } from '../router.ts';
import { Badge, ErrorBox, Field, Notice, Page, Table, useAction, useLoad, usePoll, when } from '../ui.tsx';

interface Campaign {
  id: string; name: string; status: string; statusReason: string | null; lists: string[]; from: { email: string; name: string };
  findings: Finding[]; scheduledAt: string | null; enqueued: number; audienceDone: boolean; createdAt: string; startedAt: string | null; completedAt: string | null;
}
interface Finding { id: string; severity: 'block' | 'warn' | 'info' | string; message: string; excerpt?: string; fix: string }
interface Template { id: string; name: string; format: string; version?: number }
interface List { id: string; name: string }
interface Preview { subject: string; html: string; text: string; findings: Finding[] }

const LIVE = new Set(['scheduled', 'sending', 'paused']);

export function Campaigns() {
  const list = useLoad(() => api<{ data: Campaign[] }>('GET', '/v1/campaigns'), []);
  return (
    <Page title="Campaigns" actions={<a className="button primary" href={href('/campaigns/new')}>New campaign</a>}>
      <ErrorBox error={list.error} />
      <Table rows={list.data?.data.slice().reverse()} rowKey={(c) => c.id} empty="No campaign yet." caption="Campaigns" columns={[
        { label: 'Name', render: (c) => <a href={href(`/campaigns/${c.id}`)}>{c.name}</a> },
        { label: 'Status', render: (c) => <Badge value={c.status} /> },
        { label: 'From', render: (c) => <span className="break">{c.from.email}</span> },
        { label: 'Recipients', render: (c) => c.enqueued },
        { label: 'Created', render: (c) => when(c.createdAt) },
      ]} />
    </Page>
  );
}

export function NewCampaign() {
  const data = useLoad(async () => ({
    templates: (await api<{ data: Template[] }>('GET', '/v1/templates')).data,
    lists: (await api<{ data: List[] }>('GET', '/v1/lists')).data,
  }), []);
  // ?template=name: from the template editor's "New campaign"
  const preset = useRoute().query.get('template') ?? '';
  const [f, setF] = useState({ name: '', template: preset, lists: [] as string[] });
  const create = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let id = '';
    if (await create.run(async () => { id = (await api<Campaign>('POST', '/v1/campaigns', { name: f.name, template: f.template, lists: f.lists })).id; })) navigate(`/campaigns/${id}`);
  };
  const templates = data.data?.templates ?? [];
  const lists = data.data?.lists ?? [];
  return (
    <Page title="New campaign">
      <ErrorBox error={data.error} />
      <form className="card grid-form" onSubmit={submit} aria-label="New campaign">
        <Field label="Name"><input required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} /></Field>
        <Field label="Template">
          <select required value={f.template} onChange={(e) => setF({ ...f, template: e.target.value })}>
            <option value="">Choose a template…</option>
            {templates.map((t) => <option key={t.id} value={t.name}>{t.name}</option>)}
          </select>
        </Field>
        <p className="hint">Write one in the <a href={href('/templates/new')}>template editor</a>, with its content checks as you type.</p>
        <fieldset>
          <legend>Lists</legend>
          {lists.length === 0 && <p className="muted">No list yet: <a href={href('/lists')}>create one</a>.</p>}
          {lists.map((l) => (
            <label key={l.id} className="check-label">
              <input type="checkbox" checked={f.lists.includes(l.name)} onChange={(e) => setF({ ...f, lists: e.target.checked ? [...f.lists, l.name] : f.lists.filter((x) => x !== l.name) })} />
              {l.name}
            </label>
          ))}
        </fieldset>
        <ErrorBox error={create.error} />
        <button type="submit" className="primary" disabled={create.busy || !f.lists.length}>Create draft</button>
      </form>
    </Page>
  );
}

export function CampaignDetail({ id }: { id: string }) {
  const c = useLoad(() => api<Campaign & { progress: Record<string, number> }>('GET', `/v1/campaigns/${encodeURIComponent(id)}`), [id]);
  const providers = useLoad(() => api<{ scopes: Scope[] }>('GET', '/v1/reputation?days=1').then((r) => r.scopes.filter((s) => s.scope === 'provider')).catch(() => [] as Scope[]), [id]);
  const act = useAction();
  const live = c.data ? LIVE.has(c.data.status) : false;
  // the per-provider figures come from the reputation rollup, a moment behind: keep polling a little after the end
  const justDone = c.data?.completedAt ? Date.now() - Date.parse(c.data.completedAt) < 20_000 : false;
  usePoll(() => { if (live) c.reload(); providers.reload(); }, 1500, live || justDone);
  const [at, setAt] = useState('');
  if (!c.data) return <Page title="Campaign"><ErrorBox error={c.error} /></Page>;
  const cp = c.data;
  const call = (path: string, body: unknown = {}) => act.run(async () => { await api('POST', `/v1/campaigns/${cp.id}/${path}`, body); c.reload(); });
  const p = cp.progress ?? {};
  const total = Object.values(p).reduce((a, b) => a + b, 0);
  const done = (p.delivered ?? 0) + (p.bounced ?? 0) + (p.failed ?? 0) + (p.dropped ?? 0) + (p.suppressed ?? 0) + (p.skipped ?? 0) + (p.expired ?? 0);

  return (
    <Page title={cp.name} actions={<Badge value={cp.status} />}>
      {cp.statusReason && <Notice>{cp.statusReason}</Notice>}
      <div className="actions" role="group" aria-label="Campaign actions">
        {cp.status === 'draft' && <button type="button" className="primary" onClick={() => call('submit')} disabled={act.busy}>Submit for sending</button>}
        {cp.status === 'approved' && (
          <form className="inline-form" onSubmit={(e) => { e.preventDefault(); call('schedule', at ? { at } : {}); }}>
            <Field label="Send at (empty: now)"><input type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} /></Field>
            <button type="submit" className="primary" disabled={act.busy}>{at ? 'Schedule' : 'Send now'}</button>
          </form>
        )}
        {(cp.status === 'scheduled' || cp.status === 'sending') && <button type="button" onClick={() => call('pause')} disabled={act.busy}>Pause</button>}
        {cp.status === 'paused' && <button type="button" className="primary" onClick={() => call('resume')} disabled={act.busy}>Resume</button>}
        {LIVE.has(cp.status) && <button type="button" className="danger" onClick={() => confirm('Cancel this campaign? What is not sent yet will not be.') && call('cancel')} disabled={act.busy}>Cancel</button>}
      </div>
      <ErrorBox error={act.error} />

      <section aria-labelledby="live-title" className="card">
        <h2 id="live-title">Sending {live && <span className="pulse" aria-hidden="true" />}</h2>
        <dl className="counters" aria-live="polite">
          <div><dt>Recipients</dt><dd data-counter="total">{total}</dd></div>
          {['queued', 'delivered', 'deferred', 'bounced', 'suppressed', 'failed'].map((k) => (
            <div key={k}><dt>{k}</dt><dd data-counter={k}>{p[k] ?? 0}</dd></div>
          ))}
          {Object.keys(p).filter((k) => !['queued', 'delivered', 'deferred', 'bounced', 'suppressed', 'failed'].includes(k)).map((k) => (
            <div key={k}><dt>{k}</dt><dd data-counter={k}>{p[k]}</dd></div>
          ))}
        </dl>
        <progress max={Math.max(total, 1)} value={done} aria-label="Share of recipients done" />
        <p className="muted">Started {when(cp.startedAt)} · completed {when(cp.completedAt)} {cp.scheduledAt && `· scheduled for ${when(cp.scheduledAt)}`}</p>
        <h3>Per provider (all of today's mail)</h3>
        <Table rows={providers.data} rowKey={(s) => s.key} empty="No delivery attempt today yet." columns={[
          { label: 'Provider', render: (s) => s.label },
          { label: 'Sent', render: (s) => s.today.sent },
          { label: 'Delivered', render: (s) => s.today.delivered },
          { label: 'Deferred', render: (s) => s.today.deferred },
          { label: 'Bounced', render: (s) => s.today.bounced },
          { label: 'Blocked', render: (s) => s.today.blocked },
        ]} />
      </section>

      <Findings findings={cp.findings} title="Content checks at submit" />
      <PreviewPanel campaign={cp} />
      <TestSend id={cp.id} />
    </Page>
  );
}

interface Scope { scope: string; key: string; label: string; today: Record<string, number> }

function Findings({ findings, title }: { findings: Finding[]; title: string }) {
  if (!findings?.length) return null;
  return (
    <section aria-label={title} className="card">
      <h2>{title}</h2>
      <ul className="findings">
        {findings.map((f, i) => (
          <li key={i} className={`finding finding-${f.severity}`}>
            <Badge value={f.severity} /> <strong>{f.message}</strong>
            {f.excerpt && <div><q className="break">{f.excerpt}</q></div>}
            <div className="muted">Fix: {f.fix} <code>{f.id}</code></div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function PreviewPanel({ campaign }: { campaign: Campaign }) {
  const [email, setEmail] = useState('');
  const [width, setWidth] = useState<'desktop' | 'mobile'>('desktop');
  const [preview, setPreview] = useState<Preview>();
  const a = useAction();
  const run = (e?: FormEvent) => {
    e?.preventDefault();
    a.run(async () => setPreview(await api<Preview>('POST', `/v1/campaigns/${campaign.id}/preview`, email ? { email } : {})));
  };
  return (
    <section className="card" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <form className="inline-form" onSubmit={run}>
        <Field label="As contact (address; empty: a sample)"><input type="email" value={email} onChange={(e) => setEmail(e.target.value)} /></Field>
        <Field label="Width">
          <select value={width} onChange={(e) => setWidth(e.target.value as 'desktop' | 'mobile')}><option value="desktop">desktop</option><option value="mobile">mobile (375 px)</option></select>
        </Field>
        <button type="submit" disabled={a.busy}>Preview</button>
      </form>
      <ErrorBox error={a.error} />
      {preview && (
        <>
          <p><strong>Subject:</strong> {preview.subject}</p>
          <Findings findings={preview.findings} title="Content checks" />
          <iframe title="Rendered message" sandbox="" srcDoc={preview.html} className={`mail-frame ${width}`} />
          <details><summary>Text part</summary><pre className="raw">{preview.text}</pre></details>
        </>
      )}
    </section>
  );
}

function TestSend({ id }: { id: string }) {
  const [to, setTo] = useState('');
  const [sent, setSent] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = to.split(/[\s,;]+/).filter(Boolean);
    if (await a.run(() => api('POST', `/v1/campaigns/${id}/test`, { to: list }))) setSent(`Test sent to ${list.join(', ')}: see the sandbox.`);
  };
  return (
    <section className="card" aria-labelledby="test-title">
      <h2 id="test-title">Test send</h2>
      <form className="inline-form" onSubmit={submit}>
        <Field label="To (up to 10 addresses)"><input required value={to} onChange={(e) => setTo(e.target.value)} /></Field>
        <button type="submit" disabled={a.busy}>Send test</button>
      </form>
      <ErrorBox error={a.error} />
      {sent && <Notice>{sent} <a href={href('/sandbox')}>Open the sandbox</a></Notice>}
    </section>
  );
}


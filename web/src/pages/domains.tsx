// Sending domains: add one, publish its records (copy buttons), verify, and
// the doctor's checks with the fix for each failure.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { href, navigate } from '../router.ts';
import { Badge, CopyButton, ErrorBox, Field, Notice, Page, Table, useAction, useLoad, when } from '../ui.tsx';

interface Domain { id: string; name: string; verified: boolean; createdAt: string }
interface DnsRecord { type: string; name: string; value: string; purpose?: string }
interface Check { id: string; subject: string; status: 'pass' | 'warn' | 'fail'; found: string; fix?: string; blocking: boolean }
interface Report { checkedAt: number; checks: Check[]; summary: { pass: number; warn: number; fail: number }; blocked: boolean }

export function Domains() {
  const list = useLoad(() => api<{ data: Domain[] }>('GET', '/v1/domains'), []);
  const [name, setName] = useState('');
  const add = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let id = '';
    if (await add.run(async () => { id = (await api<Domain>('POST', '/v1/domains', { name })).id; })) navigate(`/domains/${id}`);
  };
  return (
    <Page title="Domains">
      <form className="inline-form" onSubmit={submit} aria-label="Add a sending domain">
        <Field label="Domain name"><input required value={name} onChange={(e) => setName(e.target.value)} placeholder="shop.example" /></Field>
        <button type="submit" className="primary" disabled={add.busy}>Add domain</button>
      </form>
      <ErrorBox error={add.error ?? list.error} />
      <Table rows={list.data?.data} rowKey={(d) => d.id} empty="No sending domain yet." caption="Sending domains" columns={[
        { label: 'Domain', render: (d) => <a href={href(`/domains/${d.id}`)}>{d.name}</a> },
        { label: 'Status', render: (d) => <Badge value={d.verified ? 'verified' : 'unverified'} /> },
        { label: 'Added', render: (d) => when(d.createdAt) },
      ]} />
    </Page>
  );
}

export function DomainDetail({ id }: { id: string }) {
  const d = useLoad(() => api<Domain & { records: DnsRecord[] }>('GET', `/v1/domains/${encodeURIComponent(id)}`), [id]);
  const verify = useAction();
  const run = useAction();
  const [report, setReport] = useState<Report | null>();
  const cached = useLoad(async () => {
    try {
      setReport(await api<Report>('GET', `/v1/domains/${encodeURIComponent(id)}/checks?cached=true`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setReport(null);
      else throw e;
    }
    return true;
  }, [id]);
  if (!d.data) return <Page title="Domain"><ErrorBox error={d.error} />{!d.error && <p className="muted">Loading…</p>}</Page>;
  const dom = d.data;
  return (
    <Page title={dom.name} actions={<>
      <Badge value={dom.verified ? 'verified' : 'unverified'} />
      <button type="button" disabled={verify.busy} onClick={() => verify.run(async () => { await api('POST', `/v1/domains/${dom.id}/verify`); d.reload(); })}>Verify now</button>
    </>}>
      <ErrorBox error={verify.error} />
      <h2>DNS records to publish</h2>
      <p className="muted">Publish each record at your DNS host exactly as shown, then verify.</p>
      <Table rows={dom.records} rowKey={(r) => `${r.type} ${r.name} ${r.value}`} caption="DNS records" columns={[
        { label: 'Type', render: (r) => <code>{r.type}</code> },
        { label: 'Name', render: (r) => <span className="copyable"><code className="break">{r.name}</code><CopyButton text={r.name} label={`${r.type} name ${r.name}`} /></span> },
        { label: 'Value', className: 'wide', render: (r) => <span className="copyable"><code className="break">{r.value}</code><CopyButton text={r.value} label={`${r.type} value for ${r.name}`} /></span> },
        { label: 'Purpose', render: (r) => r.purpose ?? '' },
      ]} />
      <h2>The doctor's checks</h2>
      <div className="actions">
        <button type="button" disabled={run.busy} onClick={() => run.run(async () => setReport(await api<Report>('GET', `/v1/domains/${dom.id}/checks`)))}>
          {run.busy ? 'Checking…' : 'Run the checks now'}
        </button>
      </div>
      <ErrorBox error={run.error ?? cached.error} />
      {report === null && <Notice>Not checked yet: run the checks once the records are published.</Notice>}
      {report && (
        <>
          <p>
            Checked {when(new Date(report.checkedAt).toISOString())}: {report.summary.pass} passed, {report.summary.warn} warnings, {report.summary.fail} failed.
            {report.blocked && <strong> Marketing from this domain is held until the blocking failures are fixed.</strong>}
          </p>
          <ul className="checks">
            {report.checks.map((c) => (
              <li key={`${c.id} ${c.subject}`} className={`check check-${c.status}`}>
                <Badge value={c.status} /> <strong>{c.id}</strong> <span className="muted">{c.subject}</span>
                <div>{c.found}</div>
                {c.fix && <div className="fix"><span>Fix: </span><code className="break">{c.fix}</code> <CopyButton text={c.fix} label={`fix for ${c.id}`} /></div>}
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

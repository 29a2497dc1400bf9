// Settings: the sender profile printed in every marketing message (MC-11,
// MC-12; marketing is refused while it is incomplete) and the streams that
// separate transactional from bulk mail (AF-19). The API validates; a refusal
// is shown next to the field it names.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { CheckedField, fieldError, formError } from '../field-error.tsx';
import { Badge, ErrorBox, Notice, Page, Table, useAction, useLoad } from '../ui.tsx';

interface ProfileRow { organisation: string; postal_address: string; phone: string; organisation_domain: string; timezone: string; tracking_host: string | null }
interface Stream { name: string; kind: string; fromAddress: string | null; bounceLabel: string; ipPool: string }

const PROFILE_FIELDS = ['organisation', 'postalAddress', 'phone', 'organisationDomain', 'timezone', 'trackingHost'];
const STREAM_FIELDS = ['name', 'kind', 'fromAddress', 'bounceLabel', 'ipPool'];

function ProfileForm() {
  const loaded = useLoad(() => api<ProfileRow>('GET', '/v1/profile').catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }), []);
  const [f, setF] = useState({ organisation: '', postalAddress: '', phone: '', organisationDomain: '', timezone: 'UTC', trackingHost: '' });
  useEffect(() => {
    const p = loaded.data;
    if (p) setF({ organisation: p.organisation, postalAddress: p.postal_address, phone: p.phone, organisationDomain: p.organisation_domain, timezone: p.timezone, trackingHost: p.tracking_host ?? '' });
  }, [loaded.data]);
  const save = useAction();
  const [done, setDone] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (await save.run(() => api('PUT', '/v1/profile', { ...f, trackingHost: f.trackingHost.trim() || null }))) setDone(true);
  };
  const err = (k: string) => fieldError(save.error, k);
  return (
    <form className="card grid-form" onSubmit={submit} aria-label="Sender profile" noValidate>
      <h2>Sender profile</h2>
      <p className="hint">Printed in the footer of every marketing message; campaigns are refused while it is incomplete.</p>
      {loaded.data === null && <p className="muted">No profile yet.</p>}
      <ErrorBox error={loaded.error ?? formError(save.error, PROFILE_FIELDS)} />
      <CheckedField label="Organisation" error={err('organisation')}><input value={f.organisation} onChange={set('organisation')} /></CheckedField>
      <CheckedField label="Postal address" error={err('postalAddress')}><textarea rows={2} value={f.postalAddress} onChange={set('postalAddress')} /></CheckedField>
      <CheckedField label="Phone" error={err('phone')}><input type="tel" value={f.phone} onChange={set('phone')} /></CheckedField>
      <CheckedField label="Organisation domain" hint="Your own domain: a From under another one is another party's." error={err('organisationDomain')}>
        <input value={f.organisationDomain} onChange={set('organisationDomain')} spellCheck={false} />
      </CheckedField>
      <CheckedField label="Time zone" hint="For scheduling, e.g. Europe/Paris." error={err('timezone')}><input value={f.timezone} onChange={set('timezone')} spellCheck={false} /></CheckedField>
      <CheckedField label="Click-tracking host (optional)" hint="A name under one of your verified domains, pointed at envoi." error={err('trackingHost')}>
        <input value={f.trackingHost} onChange={set('trackingHost')} spellCheck={false} />
      </CheckedField>
      {done && <Notice>Profile saved.</Notice>}
      <button type="submit" className="primary" disabled={save.busy}>Save profile</button>
    </form>
  );
}

function StreamForm({ stream, onSaved }: { stream?: Stream; onSaved: (name: string) => void }) {
  const [f, setF] = useState({ name: stream?.name ?? '', kind: stream?.kind ?? 'transactional', fromAddress: stream?.fromAddress ?? '', bounceLabel: stream?.bounceLabel ?? '', ipPool: stream?.ipPool ?? '' });
  const save = useAction();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = { kind: f.kind, fromAddress: f.fromAddress.trim() || null, ...(f.bounceLabel ? { bounceLabel: f.bounceLabel } : {}), ...(f.ipPool ? { ipPool: f.ipPool } : {}) };
    if (await save.run(() => api('PUT', `/v1/streams/${encodeURIComponent(f.name)}`, body))) onSaved(f.name);
  };
  const err = (k: string) => fieldError(save.error, k);
  const title = stream ? `Edit stream ${stream.name}` : 'Add a stream';
  return (
    <form className="card grid-form" onSubmit={submit} aria-label={title} noValidate>
      <h3>{title}</h3>
      <ErrorBox error={formError(save.error, STREAM_FIELDS)} />
      {!stream && <CheckedField label="Stream name" hint="a-z, 0-9, _ and -" error={err('name')}><input required value={f.name} onChange={set('name')} spellCheck={false} /></CheckedField>}
      <CheckedField label="Kind" error={err('kind')}>
        <select value={f.kind} onChange={set('kind')}><option value="transactional">transactional</option><option value="marketing">marketing</option></select>
      </CheckedField>
      <CheckedField label="Default From address (optional)" error={err('fromAddress')}><input type="email" value={f.fromAddress} onChange={set('fromAddress')} /></CheckedField>
      <CheckedField label="Bounce label" hint="The DNS label of the bounce domain, e.g. bounce-tx." error={err('bounceLabel')}><input value={f.bounceLabel} onChange={set('bounceLabel')} spellCheck={false} /></CheckedField>
      <CheckedField label="IP pool" error={err('ipPool')}><input value={f.ipPool} onChange={set('ipPool')} spellCheck={false} /></CheckedField>
      <button type="submit" disabled={save.busy}>{stream ? 'Save stream' : 'Add stream'}</button>
    </form>
  );
}

function Streams() {
  const list = useLoad(() => api<{ data: Stream[] }>('GET', '/v1/streams'), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [done, setDone] = useState('');
  const saved = (name: string) => {
    setDone(`Stream ${name} saved.`);
    setEditing(null);
    list.reload();
  };
  const current = list.data?.data.find((s) => s.name === editing);
  return (
    <section aria-labelledby="streams-title">
      <h2 id="streams-title">Streams</h2>
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={list.error} />
      <Table rows={list.data?.data} rowKey={(s) => s.name} caption="Streams" columns={[
        { label: 'Name', render: (s) => <code>{s.name}</code> },
        { label: 'Kind', render: (s) => <Badge value={s.kind} /> },
        { label: 'From', render: (s) => <span className="break">{s.fromAddress ?? '—'}</span> },
        { label: 'Bounce label', render: (s) => s.bounceLabel },
        { label: 'IP pool', render: (s) => s.ipPool },
        { label: 'Action', render: (s) => <button type="button" className="small" onClick={() => { setDone(''); setEditing(s.name); }} aria-label={`Edit ${s.name}`}>Edit</button> },
      ]} />
      {current ? <StreamForm key={current.name} stream={current} onSaved={saved} /> : <StreamForm key="new" onSaved={saved} />}
    </section>
  );
}

export function Settings() {
  return (
    <Page title="Settings">
      <ProfileForm />
      <Streams />
    </Page>
  );
}

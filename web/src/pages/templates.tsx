// Templates: the list, and one template in the compose editor. Saving an
// existing template adds a version (versions never change, so a campaign
// keeps the one it was made with); older versions can be opened to start from.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { href, navigate, useRoute } from '../router.ts';
import { ErrorBox, Field, Notice, Page, Table, useAction, useLoad, when } from '../ui.tsx';
import { Composer, type Draft } from './compose.tsx';

interface TemplateRow { id: string; name: string; number: number; latest: number }
interface Version { id: string; template_id: string; version: number; format: Draft['format']; subject: string; body: string; text_body: string | null; created_at: number }

const STARTER: Draft = {
  format: 'mjml',
  subject: 'News from us, {{ contact.first_name | default: "friend" }}',
  body: `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ contact.first_name | default: "there" }},</mj-text>
        <mj-text>Write your message here.</mj-text>
        <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`,
};

export function Templates() {
  const list = useLoad(() => api<{ data: TemplateRow[] }>('GET', '/v1/templates'), []);
  return (
    <Page title="Templates" actions={<a className="button primary" href={href('/templates/new')}>New template</a>}>
      <ErrorBox error={list.error} />
      <Table rows={list.data?.data} rowKey={(t) => t.id} empty="No template yet." caption="Templates" columns={[
        { label: 'Name', render: (t) => <a href={href(`/templates/${encodeURIComponent(t.id)}`)}>{t.name}</a> },
        { label: 'ID', render: (t) => t.number },
        { label: 'Versions', render: (t) => t.latest },
      ]} />
    </Page>
  );
}

/** A new template (no id) or a new version of one. */
export function TemplateEditor({ id }: { id?: string }) {
  const route = useRoute();
  const asked = route.query.get('version') ?? '';
  const loaded = useLoad(async () => {
    if (!id) return undefined;
    const [latest, rows] = await Promise.all([
      api<Version>('GET', `/v1/templates/${encodeURIComponent(id)}`),
      api<{ data: TemplateRow[] }>('GET', '/v1/templates'),
    ]);
    const shown = asked && Number(asked) !== latest.version ? await api<Version>('GET', `/v1/templates/${encodeURIComponent(id)}?version=${encodeURIComponent(asked)}`) : latest;
    return { latest, shown, name: rows.data.find((t) => t.id === id)?.name ?? id };
  }, [id, asked]);
  const [draft, setDraft] = useState<Draft>(STARTER);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState('');
  const save = useAction();

  useEffect(() => {
    const v = loaded.data?.shown;
    if (v) setDraft({ format: v.format, subject: v.subject, body: v.body });
  }, [loaded.data]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved('');
    if (!id) {
      let created = '';
      if (await save.run(async () => { created = (await api<{ id: string }>('POST', '/v1/templates', { name, ...draft })).id; })) navigate(`/templates/${created}`);
      return;
    }
    let v: Version | undefined;
    if (await save.run(async () => { v = await api<Version>('PUT', `/v1/templates/${encodeURIComponent(id)}`, draft); })) {
      setSaved(`Saved as version ${v!.version}.`);
      navigate(`/templates/${id}`);
      loaded.reload();
    }
  };

  const d = loaded.data;
  if (id && !d) return <Page title="Template"><ErrorBox error={loaded.error} />{!loaded.error && <p className="muted">Loading…</p>}</Page>;
  return (
    <Page title={d ? `Template ${d.name}` : 'New template'} actions={<>
      {d && <a className="button" href={href(`/campaigns/new?template=${encodeURIComponent(d.name)}`)}>New campaign with it</a>}
      <a className="button" href={href('/templates')}>All templates</a>
    </>}>
      <form onSubmit={submit} aria-label={d ? `Edit template ${d.name}` : 'New template'}>
        <div className="inline-form">
          {!d && <Field label="Template name" hint="a-z, 0-9, _ and -"><input required pattern="[a-z0-9][a-z0-9_\-]{0,62}" value={name} onChange={(e) => setName(e.target.value)} /></Field>}
          {d && (
            <Field label="Version">
              <select value={String(d.shown.version)} onChange={(e) => navigate(`/templates/${id}?version=${e.target.value}`)}>
                {Array.from({ length: d.latest.version }, (_, i) => d.latest.version - i).map((n) => (
                  <option key={n} value={n}>{n === d.latest.version ? `${n} (latest)` : n}</option>
                ))}
              </select>
            </Field>
          )}
          <button type="submit" className="primary" disabled={save.busy}>{d ? 'Save as new version' : 'Save template'}</button>
        </div>
        {d && <p className="muted">Version {d.shown.version} saved {when(new Date(d.shown.created_at).toISOString())}. Campaigns keep the version they were made with.</p>}
        <ErrorBox error={save.error} />
        {saved && <Notice>{saved}</Notice>}
        <Composer draft={draft} onChange={setDraft} />
      </form>
    </Page>
  );
}

// A CSV import into a list: pick the file, see its first rows, say what each
// column is, give the provenance the law asks for (MJ-4), upload. The file
// is sent untouched: the mapping travels as the API's own query parameters
// (emailColumn, fields, provenanceColumns), not as a rewritten header.
import { useState, type FormEvent } from 'react';
import { api, qs, upload } from '../api.ts';
import { navigate } from '../router.ts';
import { fieldName, guessUse, lineCounter, mappingQuery, previewRecords, type ColumnUse } from '../csv.ts';
import { ErrorBox, Field, Page, useAction, useLoad } from '../ui.tsx';

interface List { id: string; name: string; optIn: string; consentText?: string }

/** The per-row provenance values a column may carry (src/audience/import/provenance.ts). */
const PROVENANCE_KEYS = ['source', 'collected_at', 'method', 'consent_text', 'form_url', 'ip', 'user_agent', 'confirmed_at', 'relationship', 'informed_how'];
const SOURCES = ['form', 'api', 'import', 'contest', 'customer', 'other'];
const METHODS: [string, string][] = [['confirmed', 'confirmed (clicked a confirmation link)'], ['double', 'double opt-in'], ['single', 'single opt-in'], ['none', 'none (existing customers, soft opt-in)']];
const PREVIEW_ROWS = 5;

interface Picked { file: File; header: string[]; rows: string[][]; lines: number }

async function readPicked(file: File): Promise<Picked> {
  // 64 KiB is many rows; the preview never needs the whole file in memory
  const [header = [], ...rows] = previewRecords(await file.slice(0, 1 << 16).text(), PREVIEW_ROWS + 1);
  const count = lineCounter();
  const reader = file.stream().getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) count.add(r.value);
  return { file, header, rows, lines: count.total() };
}

const useValue = (u: ColumnUse) => (u.use === 'provenance' ? `provenance:${u.key}` : u.use);

export function ImportCsv({ listId }: { listId: string }) {
  const list = useLoad(() => api<List>('GET', `/v1/lists/${encodeURIComponent(listId)}`), [listId]);
  const [picked, setPicked] = useState<Picked>();
  const [uses, setUses] = useState<ColumnUse[]>([]);
  const [p, setP] = useState({ source: 'form', collectedAt: '', method: 'confirmed', consentText: '', confirmedAt: '', formUrl: '', ip: '', relationship: '', informedHow: '', encoding: 'utf-8' });
  const read = useAction();
  const send = useAction();
  const set = (k: keyof typeof p) => (e: { target: { value: string } }) => setP({ ...p, [k]: e.target.value });

  const pick = (file: File | undefined) => {
    setPicked(undefined);
    if (!file) return;
    read.run(async () => {
      const got = await readPicked(file);
      if (!got.header.length) throw new Error('the file is empty: its first line must name the columns');
      let email = false;
      setUses(got.header.map((h) => {
        const u = guessUse(h, email);
        email ||= u.use === 'email';
        return u;
      }));
      setPicked(got);
    });
  };
  const setUse = (i: number, value: string) => setUses(uses.map((u, j) => {
    if (j !== i) return u;
    if (value === 'field') return { use: 'field', name: fieldName(picked!.header[i]) };
    if (value.startsWith('provenance:')) return { use: 'provenance', key: value.slice('provenance:'.length) };
    return { use: value as 'ignore' | 'email' };
  }));
  const mappedProvenance = new Set(uses.flatMap((u) => (u.use === 'provenance' ? [u.key] : [])));
  // a value every row carries in a column need not be given for the file
  const need = (key: string) => !mappedProvenance.has(key);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!picked || !list.data) return;
    await send.run(async () => {
      const m = mappingQuery(picked.header, uses);
      if (!m.ok) throw new Error(m.problem);
      const provenance = p.method === 'none' ? { ...p, consentText: '' } : { ...p, relationship: '', informedHow: '' };
      const params = { list: list.data!.id, fileName: picked.file.name.slice(0, 200), ...m.params, ...provenance, encoding: p.encoding === 'utf-8' ? undefined : p.encoding };
      const r = await upload<{ id?: string }>(`/v1/imports${qs(params)}`, picked.file, 'text/csv');
      navigate(r.id ? `/imports/${r.id}?lines=${picked.lines}` : '/imports');
    });
  };

  return (
    <Page title={list.data ? `Import contacts into ${list.data.name}` : 'Import contacts'}>
      <ErrorBox error={list.error} />
      <form className="import-form" onSubmit={submit} aria-label="New import">
        <Field label="CSV file" hint="UTF-8 (Excel: “CSV UTF-8”), comma-separated, the first line names the columns. A file larger than the server’s upload limit (that of a message, 25 MB by default) goes through the command line: envoi import">
          <input type="file" accept=".csv,text/csv" required onChange={(e) => pick(e.target.files?.[0])} />
        </Field>
        <ErrorBox error={read.error} />
        {picked && (
          <>
            <p className="muted">{picked.file.name}: {picked.lines.toLocaleString()} lines, {picked.header.length} columns.</p>
            <h2>Columns</h2>
            <table className="table mapping">
              <caption className="sr-only">Column mapping and the first rows</caption>
              <thead><tr><th scope="col">Column</th><th scope="col">First rows</th><th scope="col">Use as</th></tr></thead>
              <tbody>
                {picked.header.map((h, i) => {
                  const u = uses[i] ?? { use: 'ignore' };
                  return (
                    <tr key={i}>
                      <td data-label="Column"><strong className="break">{h || `(column ${i + 1})`}</strong></td>
                      <td data-label="First rows"><span className="muted break">{picked.rows.map((r) => r[i] ?? '').filter(Boolean).slice(0, 3).join(' · ') || '—'}</span></td>
                      <td data-label="Use as">
                        <div className="use-as">
                          <select aria-label={`Use of column ${h}`} value={useValue(u)} onChange={(e) => setUse(i, e.target.value)}>
                            <option value="ignore">Ignore</option>
                            <option value="email">Email address</option>
                            <option value="field">Contact field</option>
                            {PROVENANCE_KEYS.map((k) => <option key={k} value={`provenance:${k}`}>Provenance: {k.replace(/_/g, ' ')}</option>)}
                          </select>
                          {u.use === 'field' && (
                            <input aria-label={`Field name for column ${h}`} required pattern="[a-z][a-z0-9_]{0,63}" value={u.name}
                              onChange={(e) => setUses(uses.map((x, j) => (j === i ? { use: 'field', name: e.target.value } : x)))} />
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </>
        )}
        <fieldset className="grid-form">
          <legend>Provenance of these contacts</legend>
          <p className="hint">Where, when and how these people agreed to hear from you. Kept with every contact as the proof of consent; an import without it is refused. Times are UTC.</p>
          <Field label="Source">
            <select value={p.source} onChange={set('source')} required={need('source')}>{SOURCES.map((s) => <option key={s}>{s}</option>)}</select>
          </Field>
          <Field label="Collected at (UTC)"><input type="datetime-local" required={need('collected_at')} value={p.collectedAt} onChange={set('collectedAt')} /></Field>
          <Field label="Opt-in method">
            <select value={p.method} onChange={set('method')}>{METHODS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>
          </Field>
          {p.method === 'none' ? (
            <>
              <Field label="Relationship" hint="e.g. bought from the shop in the last two years"><input required={need('relationship')} value={p.relationship} onChange={set('relationship')} /></Field>
              <Field label="How they were told" hint="how they learnt they would get mail, and could refuse"><input required={need('informed_how')} value={p.informedHow} onChange={set('informedHow')} /></Field>
            </>
          ) : (
            <Field label="Consent text" hint="the words they agreed to"><textarea rows={3} required={need('consent_text')} value={p.consentText} onChange={set('consentText')} /></Field>
          )}
          <Field label="Confirmed at (UTC, optional)" hint="when they confirmed, for confirmed or double opt-in"><input type="datetime-local" value={p.confirmedAt} onChange={set('confirmedAt')} /></Field>
          <Field label="Form URL (optional)"><input type="url" value={p.formUrl} onChange={set('formUrl')} /></Field>
          <Field label="IP address (optional)"><input value={p.ip} onChange={set('ip')} /></Field>
          <Field label="File encoding">
            <select value={p.encoding} onChange={set('encoding')}><option value="utf-8">UTF-8</option><option value="windows-1252">Windows-1252 (Excel “CSV”)</option></select>
          </Field>
        </fieldset>
        <ErrorBox error={send.error} />
        <button type="submit" className="primary" disabled={!picked || send.busy}>{send.busy ? 'Uploading…' : 'Upload and import'}</button>
      </form>
    </Page>
  );
}

// The compose editor: MJML or HTML source on one side, the content lint's
// findings beside it, and the message rendered for a chosen contact below,
// at desktop or phone width. Each pause in typing posts the draft to
// POST /v1/templates/lint, which saves nothing, so the findings are those a
// campaign submit would report for the same content.
import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { Badge, Field, useLoad } from '../ui.tsx';

export interface Draft {
  format: 'mjml' | 'html';
  subject: string;
  body: string;
}
export interface Finding { id: string; severity: string; message: string; excerpt?: string; fix: string }
interface Linted { subject: string; html: string; text: string; findings: Finding[]; contact: string | null }
interface Sender { email: string; name?: string }
interface ListRow { id: string; name: string; fromAddress: string; fromName: string }

/** Long enough to let a word be typed, short enough to feel live. */
const DEBOUNCE_MS = 400;

/** The draft's latest render and lint, posted once typing pauses; stale answers are dropped. */
function useLint(draft: Draft, contact: string, from: Sender | undefined): { result?: Linted; error?: ApiError | Error; pending: boolean } {
  const [state, setState] = useState<{ result?: Linted; error?: ApiError | Error; pending: boolean }>({ pending: false });
  const seq = useRef(0);
  useEffect(() => {
    if (!draft.subject.trim() || !draft.body.trim()) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, pending: true }));
    const timer = setTimeout(() => {
      const who = contact.trim() ? (contact.includes('@') ? { email: contact.trim() } : { contactId: contact.trim() }) : {};
      const body = { ...draft, ...who, ...(from ? { from } : {}) };
      api<Linted>('POST', '/v1/templates/lint', body).then(
        (result) => mine === seq.current && setState({ result, pending: false }),
        // a draft that does not compile keeps the last good preview, with the error beside the editor
        (error: Error) => mine === seq.current && setState((s) => ({ result: s.result, error, pending: false })),
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft.format, draft.subject, draft.body, contact, from?.email, from?.name]);
  return state;
}

export function Composer({ draft, onChange }: { draft: Draft; onChange: (d: Draft) => void }) {
  const [contact, setContact] = useState('');
  const [width, setWidth] = useState<'desktop' | 'mobile'>('desktop');
  // a campaign sends from its list's From: checking with it shows what a submit will say about the sender
  const lists = useLoad(() => api<{ data: ListRow[] }>('GET', '/v1/lists').then((r) => r.data), []);
  const [senderList, setSenderList] = useState('');
  const list = lists.data?.find((l) => l.id === senderList);
  const lint = useLint(draft, contact, list ? { email: list.fromAddress, name: list.fromName || undefined } : undefined);
  const findings = lint.result?.findings ?? [];
  return (
    <div className="compose">
      <div className="compose-editor">
        <Field label="Format">
          <select value={draft.format} onChange={(e) => onChange({ ...draft, format: e.target.value as Draft['format'] })}>
            <option value="mjml">MJML</option>
            <option value="html">HTML</option>
          </select>
        </Field>
        <Field label="Subject" hint='Liquid: {{ contact.first_name | default: "there" }}'>
          <input required value={draft.subject} onChange={(e) => onChange({ ...draft, subject: e.target.value })} />
        </Field>
        <Field label="Body" hint="{{ unsubscribe_url }} and the sender's address are added at send time when the body lacks them.">
          <textarea required rows={18} className="mono editor" spellCheck={false} value={draft.body} onChange={(e) => onChange({ ...draft, body: e.target.value })} />
        </Field>
      </div>
      <aside className="compose-lint card" aria-labelledby="lint-title">
        <h2 id="lint-title">Content checks {lint.pending && <span className="muted">(checking…)</span>}</h2>
        <Field label="Check the sender too" hint="The From of the list the campaign will go to">
          <select value={senderList} onChange={(e) => setSenderList(e.target.value)}>
            <option value="">No: the content only</option>
            {(lists.data ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}: {l.fromName} &lt;{l.fromAddress}&gt;</option>)}
          </select>
        </Field>
        <div aria-live="polite" className="compose-findings">
          {lint.error && <p className="error" role="alert">{lint.error.message}</p>}
          {!lint.error && lint.result && findings.length === 0 && <p className="notice">No finding: nothing to fix.</p>}
          {!lint.result && !lint.error && <p className="muted">Type a subject and a body to check them.</p>}
          {findings.length > 0 && (
            <ul className="findings" aria-label="Findings">
              {findings.map((f, i) => (
                <li key={`${f.id}-${i}`} className={`finding finding-${f.severity}`} data-finding={f.id}>
                  <Badge value={f.severity} /> <strong>{f.message}</strong>
                  {f.excerpt && <div><q className="break">{f.excerpt}</q></div>}
                  <div className="muted">Fix: {f.fix} <code>{f.id}</code></div>
                </li>
              ))}
            </ul>
          )}
        </div>
      </aside>
      <section className="compose-preview card" aria-labelledby="compose-preview-title">
        <h2 id="compose-preview-title">Preview</h2>
        <div className="inline-form">
          <Field label="Preview as contact" hint="An address or contact ID of yours; empty: a sample contact">
            <input value={contact} onChange={(e) => setContact(e.target.value)} />
          </Field>
          <fieldset className="segmented">
            <legend>Width</legend>
            {(['desktop', 'mobile'] as const).map((w) => (
              <label key={w} className="check-label">
                <input type="radio" name="preview-width" value={w} checked={width === w} onChange={() => setWidth(w)} />
                {w === 'desktop' ? 'Desktop' : 'Mobile (375 px)'}
              </label>
            ))}
          </fieldset>
        </div>
        {lint.result ? (
          <>
            <p className="break"><strong>Subject:</strong> <span data-preview="subject">{lint.result.subject}</span>{lint.result.contact && <span className="muted"> · as {lint.result.contact}</span>}</p>
            {/* sandbox="": the template's HTML runs no script and reaches nothing of the dashboard */}
            <iframe title="Rendered message" sandbox="" srcDoc={lint.result.html} className={`mail-frame ${width}`} />
            <details><summary>Text part</summary><pre className="raw">{lint.result.text}</pre></details>
          </>
        ) : <p className="muted">The rendered message shows here.</p>}
      </section>
    </div>
  );
}

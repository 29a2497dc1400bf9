// A message's story (AF-20): its recipients, each with its status and the
// events of its attempts in order — the receiving server's reply on a
// deferral or a bounce, and the SMTP transcript when one was recorded.
import { api, ApiError, qs } from '../api.ts';
import { href } from '../router.ts';
import { Badge, ErrorBox, Notice, Page, useLoad, when } from '../ui.tsx';

interface StoryEvent { type: string; at: number; recipient_id: string | null; data: Record<string, unknown> }
interface Story {
  message: { id: string; message_id: string; from_address: string; subject: string; custom_id: string | null; size: number; created_at: number; campaign_id: string | null };
  recipients: { id: string; address: string; kind: string; status: string; attempts: number; updated_at: number }[];
  moreRecipients: boolean;
  events: StoryEvent[];
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/**
 * The server's reply as one line: "550 5.1.1 <…>: User unknown". Some
 * recorders keep the code or the enhanced code in the text already (the SMTP
 * client keeps the whole reply line); neither is said twice.
 */
export function replyLine(d: Record<string, unknown>): string {
  const code = str(d.code);
  let text = str(d.text) || str(d.diagnostic);
  if (code && text.startsWith(`${code} `)) text = text.slice(code.length + 1);
  const enhanced = str(d.enhanced) || str(d.status);
  return [code, enhanced && !text.startsWith(enhanced) ? enhanced : '', text].filter(Boolean).join(' ');
}

/** One line saying what else the event records: where, why, until when. */
function detail(e: StoryEvent): string {
  const d = e.data;
  const bits: string[] = [];
  if (d.remoteHost) bits.push(`at ${str(d.remoteHost)}${d.remoteIp ? ` (${str(d.remoteIp)})` : ''}`);
  if (d.stage) bits.push(`during ${str(d.stage)}`);
  if (d.category) bits.push(`${str(d.category)}${d.hard === true ? ', hard' : d.hard === false ? ', soft' : ''}`);
  if (d.async) bits.push('reported later by a bounce message');
  if (d.nextAttemptAt) bits.push(`next attempt ${when(str(d.nextAttemptAt))}`);
  if (d.reason) bits.push(str(d.reason));
  if (d.url) bits.push(str(d.url));
  if (d.machine) bits.push(`by a machine${d.machineReason ? ` (${str(d.machineReason)})` : ''}, not counted`);
  if (d.feedbackType) bits.push(str(d.feedbackType));
  return bits.join(' · ');
}

function Timeline({ events }: { events: StoryEvent[] }) {
  if (!events.length) return <p className="muted">No event yet.</p>;
  return (
    <ol className="timeline story">
      {events.map((e, i) => {
        const reply = replyLine(e.data);
        const transcript = Array.isArray(e.data.transcript) ? (e.data.transcript as unknown[]).map(str).join('\n') : '';
        const more = detail(e);
        return (
          <li key={i}>
            <span className="muted">{when(new Date(e.at).toISOString())}</span> <Badge value={e.type} />
            {reply && <div className="reply"><span className="sr-only">Reply: </span><code className="break">{reply}</code></div>}
            {more && <div className="hint break">{more}</div>}
            {transcript && (
              <details>
                <summary>SMTP transcript</summary>
                <pre className="raw" aria-label="SMTP transcript">{transcript}</pre>
              </details>
            )}
            {typeof e.data.headers === 'string' && (
              <details>
                <summary>Message headers</summary>
                <pre className="raw">{e.data.headers}</pre>
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}

export function MessageDetail({ id, recipient }: { id: string; recipient?: string }) {
  const story = useLoad(() => api<Story>('GET', `/v1/messages/${encodeURIComponent(id)}${qs({ recipient })}`), [id, recipient]);
  const s = story.data;
  if (!s) {
    // another tenant's message is a 404 like a message that never existed: say only that
    const error = story.error instanceof ApiError && story.error.status === 404 ? 'Message not found in this account.' : story.error;
    return <Page title="Message">{error ? <ErrorBox error={error} /> : <p className="muted">Loading…</p>}</Page>;
  }
  const m = s.message;
  const general = s.events.filter((e) => e.recipient_id === null);
  return (
    <Page title={m.subject || '(no subject)'} actions={<a href={href('/messages')}>Search messages</a>}>
      <dl className="meta">
        <dt>Id</dt><dd><code className="break">{m.id}</code></dd>
        <dt>Message-ID</dt><dd><code className="break">{m.message_id}</code></dd>
        <dt>From</dt><dd className="break">{m.from_address}</dd>
        <dt>Created</dt><dd>{when(new Date(m.created_at).toISOString())}</dd>
        {m.campaign_id && <><dt>Campaign</dt><dd><a href={href(`/campaigns/${m.campaign_id}`)}>{m.campaign_id}</a></dd></>}
        {m.custom_id && <><dt>Custom id</dt><dd className="break">{m.custom_id}</dd></>}
      </dl>
      {recipient && <p><a href={href(`/messages/${encodeURIComponent(m.id)}`)}>Every recipient of this message</a></p>}
      {s.moreRecipients && <Notice>The first {s.recipients.length} recipients are shown: search by address for another one.</Notice>}
      {general.length > 0 && <><h2>The message</h2><Timeline events={general} /></>}
      {s.recipients.map((r) => (
        <section key={r.id} className="card" aria-label={`Recipient ${r.address}`}>
          <h2 className="break">{r.address} <Badge value={r.status} /></h2>
          <p className="hint">{r.kind} · {r.attempts} attempt{r.attempts === 1 ? '' : 's'} · updated {when(new Date(r.updated_at).toISOString())}</p>
          <Timeline events={s.events.filter((e) => e.recipient_id === r.id)} />
        </section>
      ))}
    </Page>
  );
}

// Deliveries: find a message by recipient address or by message id, page by
// page on the server; each hit links to the message's story (message.tsx).
// The search lives in the URL (#/messages?q=…) so Back returns to it.
import { useState, type FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { href, navigate, useRoute } from '../router.ts';
import { Badge, ErrorBox, Field, Page, Pager, Table, useCursor, useLoad, when } from '../ui.tsx';

export interface Hit {
  id: string; messageId: string; subject: string; from: string; campaign: string | null; createdAt: string;
  recipient: { id: string; address: string; kind: string; status: string; attempts: number; updatedAt: string } | null;
}

/**
 * What the box holds: an envoi id (msg_…) or a Message-ID in angle brackets
 * is a message id; anything else with an @ is a recipient address; the rest
 * (a bare Message-ID without @ is impossible, so: an id) a message id.
 */
export function searchParams(q: string): { recipient?: string; messageId?: string } {
  const v = q.trim();
  if (/^msg_/i.test(v) || /^<.*>$/.test(v) || !v.includes('@')) return { messageId: v };
  return { recipient: v };
}

export function Messages() {
  const q = useRoute().query.get('q') ?? '';
  // a new search (or Back to an earlier one) starts at its first page
  return <Search key={q} q={q} />;
}

function Search({ q }: { q: string }) {
  const [text, setText] = useState(q);
  const cur = useCursor();
  const results = useLoad(async () => {
    if (!q) return undefined;
    return api<{ data: Hit[]; next: string | null }>('GET', `/v1/messages${qs({ ...searchParams(q), cursor: cur.cursor, limit: 25 })}`);
  }, [q, cur.cursor]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    // the same search again changes no URL: fetch it anew instead
    if (text.trim() === q) results.reload();
    else navigate(`/messages${qs({ q: text.trim() })}`);
  };
  const link = (h: Hit) => href(`/messages/${encodeURIComponent(h.id)}${h.recipient ? qs({ recipient: h.recipient.id }) : ''}`);

  return (
    <Page title="Messages">
      <form role="search" className="inline-form" onSubmit={submit}>
        <Field label="Recipient address or message id" hint="An address, an id like msg_…, or a Message-ID in <angle brackets>.">
          <input type="search" required value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} autoCapitalize="off" />
        </Field>
        <button type="submit" className="primary">Search</button>
      </form>
      <ErrorBox error={results.error} />
      {!q && <p className="muted">Search a message to see its story: each recipient's attempts, the replies of the receiving servers, opens and clicks.</p>}
      {q && (
        <>
          <Table rows={results.data?.data} rowKey={(h) => h.recipient?.id ?? h.id} empty="No message matches." caption="Messages found" columns={[
            { label: 'Sent', render: (h) => when(h.createdAt) },
            { label: 'Subject', render: (h) => <a className="break" href={link(h)}>{h.subject || '(no subject)'}</a> },
            { label: 'Recipient', render: (h) => (h.recipient ? <span className="break">{h.recipient.address}</span> : <span className="muted">all</span>) },
            { label: 'Status', render: (h) => (h.recipient ? <Badge value={h.recipient.status} /> : '') },
            { label: 'From', render: (h) => <span className="break">{h.from}</span> },
          ]} />
          <Pager page={cur.page} next={results.data?.next} onNext={() => cur.next(results.data?.next ?? null)} onPrev={cur.prev} />
        </>
      )}
    </Page>
  );
}

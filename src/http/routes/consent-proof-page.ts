// The proof of consent as a page a person reads and prints (MJ-6): every field
// of the ConsentProof, labelled in plain words, and nothing left out when a
// value is missing ("not recorded" says so rather than hiding the line: an
// examiner must see what is absent as clearly as what is present).
import type { ConsentProof } from '../../audience/proof.ts';
import { html, type Html } from '../public/html.ts';
import { page } from '../public/pages.ts';

type ListProof = ConsentProof['lists'][number];
type Consent = NonNullable<ListProof['consent']>;

const SOURCES: Record<string, string> = {
  form: 'online subscription form',
  api: 'sent by the sender’s own application (API)',
  import: 'imported from a list the sender provided',
  contest: 'contest or prize draw',
  customer: 'existing customer',
  other: 'other',
};

const NONE = html`<em>not recorded</em>`;
const time = (iso: string | null) => (iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : NONE);
const text = (v: string | null) => (v === null || v === '' ? NONE : v);
const yesNo = (b: boolean | null) => (b === null ? NONE : b ? 'yes' : 'no');
const source = (s: string) => `${SOURCES[s] ?? s} (${s})`;

const row = (label: string, value: Html | string) => html`<dt>${label}</dt><dd>${value}</dd>\n`;

function consentRows(c: Consent): Html {
  return html`<dl>
${row('How the address was collected', source(c.source))}${row('When it was collected', time(c.collectedAt))}${row('Address of the form', text(c.formUrl))}${row('IP address of the subscriber', text(c.ip))}${row('Browser of the subscriber (user agent)', text(c.userAgent))}${row('Exact consent text shown', c.consentText === null ? NONE : html`<blockquote>${c.consentText}</blockquote>`)}${row('SHA-256 of the consent text', html`<code>${text(c.consentTextSha256)}</code>`)}${row('Consent box unchecked by default', yesNo(c.checkboxUncheckedByDefault))}${row('Consent given separately from any other statement', yesNo(c.separateFromOtherTerms))}${row('Opt-in type', `${c.optInLabel} (${c.optIn})`)}${row('Confirmed at', time(c.confirmedAt))}${row('IP address at confirmation', text(c.confirmIp))}${row('Browser at confirmation (user agent)', text(c.confirmUserAgent))}${row('Existing relationship (when there is no opt-in)', text(c.relationship))}${row('How the person was informed of it', text(c.informedHow))}${row('Import batch', text(c.importId))}</dl>`;
}

function history(l: ListProof): Html {
  if (!l.history.length) return html`<p>No earlier consent records for this list.</p>`;
  return html`<table>
<thead><tr><th>Collected at</th><th>How</th><th>Opt-in type</th></tr></thead>
<tbody>
${l.history.map((h) => html`<tr><td>${time(h.collectedAt)}</td><td>${source(h.source)}</td><td>${h.optIn}</td></tr>\n`)}</tbody>
</table>`;
}

function listSection(l: ListProof): Html {
  return html`<section>
<h2>List ${l.list}</h2>
<dl>
${row('List identifier', l.listId)}${row('Subscription status', l.status)}${row('Subscribed since (consent confirmed)', time(l.subscribedAt))}${row('Unsubscribed at', time(l.unsubscribedAt))}${row('Held for review after an import', l.quarantined ? 'yes' : 'no')}</dl>
<h3>Consent</h3>
${l.consent ? consentRows(l.consent) : html`<p><strong>No consent record is attached to this subscription.</strong></p>`}
<h3>Earlier consent records</h3>
${history(l)}
</section>`;
}

export function proofPage(p: ConsentProof): string {
  return page(`Proof of consent: ${p.email}`, html`<h1>Proof of consent</h1>
<dl>
${row('Email address', p.email)}${row('Contact identifier', p.contactId)}${row('Document generated at', time(p.generatedAt))}</dl>
${p.lists.length ? p.lists.map(listSection) : html`<p>This address is not subscribed to any list.</p>`}
`);
}

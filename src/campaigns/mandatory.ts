// The parts of every marketing message envoi inserts when the template lacks
// them, so they cannot be left out (MJ-7, MC-11, MC-12, MC-13, MJ-8, AF-18):
// a visible unsubscribe link, the sender's identity with postal address and
// phone, and, when the From domain is another organisation's, a line saying
// on whose behalf the mail is sent. Pure string work on rendered parts.
import { getDomain } from 'tldts';

export interface Identity {
  organisation: string;
  postalAddress: string;
  phone: string;
  /** the tenant's own registrable domain */
  organisationDomain: string;
}

export interface MandatoryInput {
  html: string;
  text: string;
  unsubscribeUrl: string;
  identity: Identity;
  fromDomain: string;
  fromName: string;
  listName: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Whether the From domain belongs to another organisation than the tenant (MJ-8). */
export function onBehalf(fromDomain: string, organisationDomain: string): boolean {
  return (getDomain(fromDomain) ?? fromDomain) !== (getDomain(organisationDomain) ?? organisationDomain);
}

export function withMandatoryParts(m: MandatoryInput): { html: string; text: string } {
  const htmlHasLink = m.html.includes(esc(m.unsubscribeUrl)) || m.html.includes(m.unsubscribeUrl);
  const textHasLink = m.text.includes(m.unsubscribeUrl);
  const hasAddress = m.html.includes(esc(m.identity.postalAddress)) && m.text.includes(m.identity.postalAddress);
  const behalf = onBehalf(m.fromDomain, m.identity.organisationDomain)
    ? `Sent by ${m.identity.organisation} on behalf of ${m.fromName || m.fromDomain}.`
    : null;

  const htmlLines: string[] = [];
  const textLines: string[] = [];
  if (!hasAddress || behalf) {
    htmlLines.push(`${esc(m.identity.organisation)} · ${esc(m.identity.postalAddress)} · ${esc(m.identity.phone)}`);
    textLines.push(`${m.identity.organisation} · ${m.identity.postalAddress} · ${m.identity.phone}`);
  }
  if (behalf) {
    htmlLines.push(esc(behalf));
    textLines.push(behalf);
  }
  const why = `You receive this message because you subscribed to ${m.listName}.`;
  if (!htmlHasLink) htmlLines.push(`${esc(why)} <a href="${esc(m.unsubscribeUrl)}">Unsubscribe</a>`);
  if (!textHasLink) textLines.push(`${why} Unsubscribe: ${m.unsubscribeUrl}`);

  let html = m.html;
  if (htmlLines.length) {
    const footer = `<div style="font:12px/1.5 Arial,sans-serif;color:#555;text-align:center;padding:16px">${htmlLines.map((l) => `<p style="margin:4px 0">${l}</p>`).join('')}</div>`;
    const close = html.search(/<\/body\s*>/i);
    html = close === -1 ? html + footer : html.slice(0, close) + footer + html.slice(close);
  }
  const text = textLines.length ? `${m.text.replace(/\s+$/, '')}\n\n--\n${textLines.join('\n')}\n` : m.text;
  return { html, text };
}


// The double opt-in confirmation mail (MJ-5, AF-16) and its link token. Pure:
// the HTTP edge sends the message through the transactional stage and records
// the event. The mail names the list and the exact From address the
// subscriber will hear from, with an invitation to add it to the address book
// (AF-14), and says what happens if they ignore it (nothing: no subscription).
//
// The token names the consent record it confirms: a newer sign-up writes a
// newer record, so an older link is superseded rather than confirming words
// the subscriber may not have seen.
import type { Secrets } from '../accounts/secrets.ts';
import { signToken, verifyToken } from '../accounts/tokens.ts';
import type { OutgoingMessage } from '../compose/types.ts';
import type { List } from '../store/schema.ts';

const PURPOSE = 'confirm';

export interface ConfirmationRef {
  tenantId: string;
  listId: string;
  contactId: string;
  consentId: string;
}

export type ConfirmationCheck = { ok: true; ref: ConfirmationRef } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export function confirmationToken(secrets: Secrets, ref: ConfirmationRef, expiresAt: number): string {
  // short keys: the token travels in a URL that some clients wrap at 76 columns
  return signToken(secrets, PURPOSE, { t: ref.tenantId, l: ref.listId, c: ref.contactId, r: ref.consentId }, expiresAt);
}

export function readConfirmationToken(secrets: Secrets, token: string, now: number): ConfirmationCheck {
  const v = verifyToken<{ t?: unknown; l?: unknown; c?: unknown; r?: unknown }>(secrets, PURPOSE, token, now);
  if (!v.ok) return v;
  const { t, l, c, r } = v.payload;
  if (![t, l, c, r].every((x) => typeof x === 'string' && x.length > 0)) return { ok: false, reason: 'malformed' };
  return { ok: true, ref: { tenantId: t as string, listId: l as string, contactId: c as string, consentId: r as string } };
}

export interface ConfirmationInput {
  list: Pick<List, 'name' | 'description' | 'from_address' | 'from_name'>;
  to: string;
  link: string;
  expiresAt: number;
}

/** The From a list's mail will carry, as a subscriber reads it. */
export const listFrom = (list: Pick<List, 'from_address' | 'from_name'>) => `${list.from_name} <${list.from_address}>`;

const when = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function confirmationMessage(i: ConfirmationInput): OutgoingMessage {
  const { list } = i;
  const from = listFrom(list);
  const description = list.description.trim();
  const text = [
    'Hello,',
    '',
    `Someone, hopefully you, asked to receive "${list.name}" from ${list.from_name} at this address.`,
    ...(description ? ['', description] : []),
    '',
    'To confirm, open this link and press the button on the page:',
    i.link,
    '',
    `The link works until ${when(i.expiresAt)}.`,
    '',
    `The emails will come from: ${from}`,
    'Add this address to your address book so they reach your inbox.',
    '',
    'If you did not ask for this, ignore this email: you will not be subscribed and will receive nothing more.',
    '',
  ].join('\n');
  const htmlBody = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    '<p>Hello,</p>',
    `<p>Someone, hopefully you, asked to receive <strong>${esc(list.name)}</strong> from ${esc(list.from_name)} at this address.</p>`,
    description ? `<p>${esc(description)}</p>` : '',
    `<p><a href="${esc(i.link)}">Confirm my subscription</a></p>`,
    `<p>Or copy this link into your browser:<br>${esc(i.link)}</p>`,
    `<p>The link works until ${esc(when(i.expiresAt))}.</p>`,
    `<p>The emails will come from: <strong>${esc(from)}</strong><br>Add this address to your address book so they reach your inbox.</p>`,
    '<p>If you did not ask for this, ignore this email: you will not be subscribed and will receive nothing more.</p>',
    '</body></html>',
  ].join('\n');
  return {
    from: { email: list.from_address, name: list.from_name },
    to: [{ email: i.to }],
    subject: `Confirm your subscription to "${list.name}" from ${list.from_name}`,
    text,
    html: htmlBody,
    stream: 'transactional',
  };
}

// The HTTP edge has its own escaping tag; the audience stage does not import
// from the edge (STYLE 12), and these few inserts need only this.
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

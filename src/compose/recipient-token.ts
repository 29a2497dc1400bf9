// Short signed tokens that name one queue row (a recipient of one message):
// "<recipient id body>-<14 hex MAC>". The row knows the tenant, message, list
// and contact, so the token is bound to all of them without carrying them,
// and it is short enough for an SMTP local part (≤ 64) and a URL path.
// Hex, because some MTAs lower-case local parts; 56 bits of MAC, checked in
// constant time, and only an exact match is accepted.
import crypto from 'node:crypto';
import type { Secrets } from '../accounts/secrets.ts';

const MAC_CHARS = 14;

export type TokenPurpose = 'verp' | 'unsub' | 'open';

export function recipientToken(secrets: Secrets, purpose: TokenPurpose, recipientId: string): string {
  const body = recipientId.replace(/^rcp_/, '');
  return `${body}-${secrets.mac(purpose, body).toString('hex').slice(0, MAC_CHARS)}`;
}

/** The recipient id a token names, or null when it is malformed, forged or altered. */
export function parseRecipientToken(secrets: Secrets, purpose: TokenPurpose, token: string): string | null {
  const m = /^([0-9a-z]{20,40})-([0-9a-f]{14})$/i.exec(token);
  if (!m) return null;
  const body = m[1].toLowerCase();
  const expected = Buffer.from(secrets.mac(purpose, body).toString('hex').slice(0, MAC_CHARS));
  const given = Buffer.from(m[2].toLowerCase());
  return crypto.timingSafeEqual(expected, given) ? 'rcp_' + body : null;
}

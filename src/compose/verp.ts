// VERP envelope senders: each recipient's mail goes out with its own return
// path, b-<token>@<bounce label>.<domain>, so an asynchronous bounce names the
// recipient it is about even when the DSN is unparseable. The token is the
// recipient id plus a MAC, so nobody can forge one to suppress an address
// (the inbound server checks it at RCPT; ARCHITECTURE: feedback/).
import type { Secrets } from '../accounts/secrets.ts';

const PURPOSE = 'verp';
// hex, because some MTAs lower-case local parts; 14 hex digits = 56 bits
const MAC_CHARS = 14;

export function verpAddress(secrets: Secrets, recipientId: string, bounceDomain: string): string {
  return `b-${verpToken(secrets, recipientId)}@${bounceDomain}`;
}

export function verpToken(secrets: Secrets, recipientId: string): string {
  const body = recipientId.replace(/^rcp_/, '');
  return `${body}-${secrets.mac(PURPOSE, body).toString('hex').slice(0, MAC_CHARS)}`;
}

/** The recipient id named by a VERP local part, or null when the token is forged or altered. */
export function parseVerpLocalPart(secrets: Secrets, local: string): string | null {
  const m = /^b-([0-9a-z]{20,40})-([0-9a-f]{14})$/i.exec(local);
  if (!m) return null;
  const body = m[1].toLowerCase();
  return verpToken(secrets, 'rcp_' + body) === `${body}-${m[2].toLowerCase()}` ? 'rcp_' + body : null;
}

// VERP envelope senders: each recipient's mail goes out with its own return
// path, b-<token>@<bounce label>.<domain>, so an asynchronous bounce names the
// recipient it is about even when the DSN is unparseable. The token is signed
// (recipient-token.ts), so nobody can forge one to suppress an address; the
// inbound server checks it at RCPT (feedback/).
import type { Secrets } from '../accounts/secrets.ts';
import { parseRecipientToken, recipientToken } from './recipient-token.ts';

export function verpAddress(secrets: Secrets, recipientId: string, bounceDomain: string): string {
  return `b-${recipientToken(secrets, 'verp', recipientId)}@${bounceDomain}`;
}

/** The recipient id named by a VERP local part, or null when the token is forged or altered. */
export function parseVerpLocalPart(secrets: Secrets, local: string): string | null {
  return local.toLowerCase().startsWith('b-') ? parseRecipientToken(secrets, 'verp', local.slice(2)) : null;
}

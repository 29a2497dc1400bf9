// Which of envoi's inbound mailboxes an RCPT address is, if any. Pure: the
// caller says which domains are ours. Everything else is refused at RCPT
// (550 5.1.1): the inbound MX relays nothing and never accepts mail it would
// have to bounce later (no backscatter).
//   b-<token>@<bounce domain>   VERP return path of one recipient (compose/verp.ts)
//   u-<token>@<bounce domain>   the mailto: of List-Unsubscribe
//   abuse@ / postmaster@<ours>  RFC 2142 role mailboxes of our domains (AF-8)
import type { Secrets } from '../accounts/secrets.ts';
import { parseRecipientToken } from '../compose/recipient-token.ts';
import { parseVerpLocalPart } from '../compose/verp.ts';

export type Mailbox =
  | { kind: 'bounce'; recipientId: string }
  | { kind: 'unsubscribe'; recipientId: string }
  | { kind: 'abuse' | 'postmaster'; domain: string };

export function mailboxOf(secrets: Secrets, address: string, isOurDomain: (domain: string) => boolean): Mailbox | null {
  const at = address.lastIndexOf('@');
  if (at <= 0) return null;
  // a subaddress (+label) is never part of our tokens; strip nothing, match exactly
  const local = address.slice(0, at).toLowerCase();
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (local.startsWith('b-')) {
    const rid = parseVerpLocalPart(secrets, local);
    return rid ? { kind: 'bounce', recipientId: rid } : null;
  }
  if (local.startsWith('u-')) {
    const rid = parseRecipientToken(secrets, 'unsub', local.slice(2));
    return rid ? { kind: 'unsubscribe', recipientId: rid } : null;
  }
  if ((local === 'abuse' || local === 'postmaster') && isOurDomain(domain)) return { kind: local, domain };
  return null;
}

const VERP_IN_TEXT = /\bb-([0-9a-z]{20,40}-[0-9a-f]{14})@/gi;
const UNSUB_IN_TEXT = /(?:\/u\/|\bu-)([0-9a-z]{20,40}-[0-9a-f]{14})\b/gi;

/**
 * Recipient ids named by signed tokens found in text — the returned headers
 * of a bounced or reported message carry our VERP Return-Path and our
 * List-Unsubscribe. Only tokens whose signature holds are returned.
 */
export function recipientsNamedIn(secrets: Secrets, text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(VERP_IN_TEXT)) {
    const rid = parseVerpLocalPart(secrets, `b-${m[1]}`);
    if (rid) found.add(rid);
  }
  for (const m of text.matchAll(UNSUB_IN_TEXT)) {
    const rid = parseRecipientToken(secrets, 'unsub', m[1]);
    if (rid) found.add(rid);
  }
  return [...found];
}

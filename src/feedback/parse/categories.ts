// The one table of failure categories: what each means, which are hard, and
// the name Sisimai gives the same reason (the corpus is labelled with those,
// so the benchmark and the tests score through this table).

export const CATEGORIES = {
  'unknown-user': { sisimai: 'userunknown', about: 'the mailbox does not exist' },
  'unknown-domain': { sisimai: 'hostunknown', about: 'the domain does not exist or has no route' },
  'has-moved': { sisimai: 'hasmoved', about: 'the mailbox moved, no forwarding' },
  'not-accepted': { sisimai: 'notaccept', about: 'the domain accepts no mail (null MX, no MX)' },
  'mailbox-full': { sisimai: 'mailboxfull', about: 'over quota' },
  'message-too-big': { sisimai: 'mesgtoobig', about: 'the message exceeds a size or line limit' },
  'filtered': { sisimai: 'filtered', about: 'refused by a recipient-side filter, or "unknown user" without proof' },
  'suspended': { sisimai: 'suspend', about: 'the account is disabled or suspended' },
  'sender-rejected': { sisimai: 'rejected', about: 'our envelope sender or From was refused' },
  'no-relaying': { sisimai: 'norelaying', about: 'relaying denied' },
  'blocked': { sisimai: 'blocked', about: 'our IP address or network is blocked' },
  'spam-blocked': { sisimai: 'spamdetected', about: 'the content was judged spam' },
  'policy': { sisimai: 'policyviolation', about: 'a local policy refused the message' },
  'content': { sisimai: 'contenterror', about: 'the content is malformed or not allowed' },
  'not-compliant': { sisimai: 'notcompliantrfc', about: 'the message breaks RFC 5322' },
  'reputation': { sisimai: 'badreputation', about: 'refused for the sending IP/domain reputation' },
  'rate-limited': { sisimai: 'speeding', about: 'too much mail too fast' },
  'authentication': { sisimai: 'authfailure', about: 'SPF/DKIM/DMARC failed' },
  'no-ptr': { sisimai: 'requireptr', about: 'the sending IP has no valid PTR' },
  'security': { sisimai: 'securityerror', about: 'a security requirement (TLS, auth) was not met' },
  'expired': { sisimai: 'expired', about: 'retries ran out' },
  'network': { sisimai: 'networkerror', about: 'DNS or routing problem on the way' },
  'system': { sisimai: 'systemerror', about: 'the remote system failed (loop, directory down, …)' },
  'mailer-error': { sisimai: 'mailererror', about: 'a local delivery program (pipe, procmail) failed' },
  'syntax': { sisimai: 'syntaxerror', about: 'an SMTP protocol error' },
  'on-hold': { sisimai: 'onhold', about: 'a failure without any reason given' },
  'undefined': { sisimai: 'undefined', about: 'a failure no rule explains' },
  'delivered': { sisimai: 'delivered', about: 'a delivery/relay notice, not a failure' },
  'auto-reply': { sisimai: 'vacation', about: 'an auto-reply, not a failure' },
  'complaint': { sisimai: 'feedback', about: 'a feedback report (ARF and alike)' },
} as const;

export type Category = keyof typeof CATEGORIES;

export function isCategory(s: string): s is Category {
  return Object.hasOwn(CATEGORIES, s);
}

/** Sisimai's rule: the mailbox or domain is gone, not merely unhappy. */
const ALWAYS_HARD: ReadonlySet<Category> = new Set(['unknown-user', 'unknown-domain', 'has-moved']);

/** Hard or soft for a failure; null for what is not a failure. `cls` is the
 * class of the code (4 or 5): "not accepted" is hard only when final. */
export function hardness(category: Category, cls: 4 | 5): boolean | null {
  if (category === 'delivered' || category === 'auto-reply' || category === 'complaint') return null;
  if (ALWAYS_HARD.has(category)) return true;
  return category === 'not-accepted' && cls === 5;
}

export function sisimaiReason(category: string): string {
  return isCategory(category) ? CATEGORIES[category].sisimai : category;
}

// What a webhook POST says about an event, in envoi's own shape or in
// Mailjet's Event API shape (so consumers written for Mailjet keep working).
// Pure: the store hands in the event with what it joined (recipient address,
// custom id, campaign), this file picks and renames. Only named fields of an
// event's data go out: SMTP transcripts and message headers stay inside.
import { createHash } from 'node:crypto';
import type { EventType } from '../events/log.ts';
// Mailjet's per-recipient ids, the same numbers the Send API answered with.
// Pure; it lives with the Send API translation (an edge), see the report of issue 6.
import { mailjetIds } from '../ids.ts';

/** The event types an endpoint can ask for: Mailjet's names, and `delivered`, `deferred`. */
// `reputation`: a guardrail acted on the tenant (warn, throttle, pause, suspend; issue 7) — native format only
export const WEBHOOK_TYPES = ['sent', 'delivered', 'deferred', 'bounce', 'blocked', 'spam', 'unsub', 'open', 'click', 'reputation'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];
/** `sent` is Mailjet's name for `delivered` (accepted by the receiving MTA). */
export type CanonicalType = Exclude<WebhookType, 'sent'>;
export const WEBHOOK_FORMATS = ['native', 'mailjet'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Which envoi events become which webhook event; the others are not sent. `accepted` is not:
 * Mailjet's `sent` means the receiving MTA took the message, which is envoi's `delivered`. */
const FROM_ENVOI: Partial<Record<EventType, CanonicalType>> = {
  delivered: 'delivered',
  deferred: 'deferred',
  bounced: 'bounce',
  expired: 'bounce', // retried until the expiry: a soft bounce, as Mailjet reports it
  blocked: 'blocked',
  dropped: 'blocked', // not attempted (suppressed, unsubscribed): Mailjet's "preblocked"
  complained: 'spam',
  unsubscribed: 'unsub',
  opened: 'open',
  clicked: 'click',
  reputation_action: 'reputation',
};

export function webhookTypeOf(envoiType: string): CanonicalType | null {
  return FROM_ENVOI[envoiType as EventType] ?? null;
}

export const canonical = (t: WebhookType): CanonicalType => (t === 'sent' ? 'delivered' : t);

/** Mailjet has no deferred event; everything else exists in both formats. */
export function typesOf(format: WebhookFormat): WebhookType[] {
  return format === 'mailjet'
    ? ['sent', 'bounce', 'blocked', 'spam', 'unsub', 'open', 'click']
    : ['delivered', 'deferred', 'bounce', 'blocked', 'spam', 'unsub', 'open', 'click', 'reputation'];
}

/** The envoi event types to read from the log for an endpoint's subscription. */
export function envoiTypesFor(types: readonly WebhookType[]): EventType[] {
  const wanted = new Set(types.map(canonical));
  return (Object.keys(FROM_ENVOI) as EventType[]).filter((e) => wanted.has(FROM_ENVOI[e]!));
}

/** An event of the log with what the store joined to it. */
export interface SourceEvent {
  id: number;
  type: string;
  at: number;
  tenantId: string;
  data: Record<string, unknown>;
  /** envoi's message id (null for audience events such as an unsubscribe) */
  messageId: string | null;
  recipientId: string | null;
  email: string | null;
  customId: string | null;
  campaignId: string | null;
  campaignName: string | null;
  contactId: string | null;
  listId: string | null;
}

export interface Subscription {
  types: readonly WebhookType[];
  /** opens by Apple Mail Privacy Protection or a scanner (data.machine) are left out unless asked for */
  machineOpens: boolean;
}

/** Does this endpoint get this event? */
export function wanted(sub: Subscription, ev: Pick<SourceEvent, 'type' | 'data'>): boolean {
  const t = webhookTypeOf(ev.type);
  if (!t || !sub.types.some((x) => canonical(x) === t)) return false;
  return !(t === 'open' && ev.data.machine === true && !sub.machineOpens);
}

export function shape(format: WebhookFormat, ev: SourceEvent): Record<string, unknown> {
  return format === 'mailjet' ? mailjetEvent(ev) : nativeEvent(ev);
}

// ---- envoi's own shape

export function nativeEvent(ev: SourceEvent): Record<string, unknown> {
  const type = webhookTypeOf(ev.type) ?? ev.type;
  return {
    id: `evt_${ev.id}`,
    type,
    at: new Date(ev.at).toISOString(),
    tenant: ev.tenantId,
    messageId: ev.messageId,
    recipientId: ev.recipientId,
    recipient: ev.email,
    campaign: ev.campaignId,
    customId: ev.customId,
    data: nativeData(ev),
  };
}

function nativeData(ev: SourceEvent): Record<string, unknown> {
  const d = ev.data;
  const f = smtpFacts(d);
  switch (ev.type) {
    case 'delivered':
      return pick(d, ['target', 'remoteHost', 'remoteIp', 'tls', 'code', 'text']);
    case 'deferred':
      return defined({ ...pick(d, ['stage', 'remoteHost', 'nextAttemptAt']), category: f.category, code: f.code, enhanced: f.enhanced, text: f.text });
    case 'bounced':
      return defined({ hard: f.hard, category: f.category, code: f.code, enhanced: f.enhanced, text: f.text, async: d.async === true ? true : undefined, remoteMta: d.remoteMta });
    case 'expired':
      return defined({ hard: false, expired: true, category: f.category, code: f.code, enhanced: f.enhanced, text: f.text });
    case 'blocked':
      return defined({ category: f.category, code: f.code, enhanced: f.enhanced, text: f.text });
    case 'dropped':
      return defined({ dropped: true, reason: d.reason });
    case 'complained':
      return pick(d, ['feedbackType', 'source', 'sourceIp', 'userAgent']);
    case 'unsubscribed':
      return defined({ list: ev.listId, source: d.source });
    case 'opened':
      return defined({ machine: d.machine === true, machineReason: d.machineReason });
    case 'clicked':
      return defined({ url: d.url, machine: d.machine === true ? true : undefined });
    case 'reputation_action':
      return pick(d, ['rule', 'step', 'scope', 'key', 'window', 'reason', 'actor']);
    default:
      return {};
  }
}

// ---- Mailjet's Event API shape (https://dev.mailjet.com/email/guides/webhooks/)

/** Mailjet's error_related_to / error for a bounce or block, by envoi's reply category. */
const MAILJET_BOUNCE: Record<string, [string, string]> = {
  'unknown-user': ['recipient', 'user unknown'],
  'has-moved': ['recipient', 'user unknown'],
  'mailbox-full': ['recipient', 'quota exceeded'],
  'unknown-domain': ['domain', 'invalid domain'],
  'message-rejected': ['spam', 'content blocked'],
  // a permanent failure the rules could not name: about the recipient more often than not
  'other': ['recipient', 'user unknown'],
};
const MAILJET_BLOCK: Record<string, [string, string]> = {
  policy: ['spam', 'policy issue'],
  authentication: ['spam', 'policy issue'],
  rate: ['spam', 'policy issue'],
  reputation: ['spam', 'sender blocked'],
  blocklist: ['spam', 'sender blocked'],
  spam: ['spam', 'content blocked'],
  other: ['spam', 'policy issue'],
};
/** an expired message: by what the last attempt ran into */
const MAILJET_EXPIRED: Record<string, [string, string]> = {
  network: ['domain', 'no mail host'],
  dns: ['domain', 'no mail host'],
  mailbox: ['recipient', 'quota exceeded'],
  storage: ['recipient', 'quota exceeded'],
  protocol: ['system', 'protocol issue'],
  tls: ['system', 'protocol issue'],
};

export function mailjetEvent(ev: SourceEvent): Record<string, unknown> {
  const ids = ev.recipientId ? mailjetIds(ev.recipientId) : { id: 0, uuid: '' };
  const type = webhookTypeOf(ev.type);
  const base: Record<string, unknown> = {
    event: type === 'delivered' ? 'sent' : type,
    time: Math.floor(ev.at / 1000),
    MessageID: ids.id,
    Message_GUID: ids.uuid,
    email: ev.email ?? '',
    mj_campaign_id: ev.campaignId ? mailjetNumber('campaign', ev.campaignId) : 0,
    mj_contact_id: ev.contactId ? mailjetNumber('contact', ev.contactId) : 0,
    customcampaign: ev.campaignName ?? '',
    CustomID: ev.customId ?? '',
    Payload: '',
  };
  const d = ev.data;
  const f = smtpFacts(d);
  const reply = [f.code, f.enhanced, f.text].filter((x) => x !== undefined && x !== '').join(' ');
  switch (ev.type) {
    case 'delivered':
      return { ...base, mj_message_id: String(ids.id), smtp_reply: reply ? `sent (${reply})` : 'sent' };
    case 'bounced': {
      const [related, error] = MAILJET_BOUNCE[String(f.category)] ?? MAILJET_BOUNCE.other;
      // envoi suppresses the address on a hard bounce: Mailjet's "blocked: true"
      return { ...base, blocked: f.hard, hard_bounce: f.hard, error_related_to: related, error, comment: reply };
    }
    case 'expired': {
      const [related, error] = MAILJET_EXPIRED[String(f.category ?? d.stage)] ?? ['system', 'connection issue'];
      return { ...base, blocked: false, hard_bounce: false, error_related_to: related, error, comment: reply };
    }
    case 'blocked': {
      const [related, error] = MAILJET_BLOCK[String(f.category)] ?? MAILJET_BLOCK.other;
      return { ...base, error_related_to: related, error, comment: reply };
    }
    case 'dropped':
      return { ...base, error_related_to: 'mailjet', error: 'preblocked', comment: str(d.reason) };
    case 'complained':
      // Mailjet names the feedback loop; the report's User-Agent is the closest envoi knows
      return { ...base, source: str(d.userAgent) || str(d.source) };
    case 'unsubscribed':
      return { ...base, mj_list_id: ev.listId ? mailjetNumber('list', ev.listId) : 0, ip: '', geo: '', agent: '' };
    case 'opened':
      return { ...base, ip: '', geo: '', agent: '' };
    case 'clicked':
      return { ...base, url: str(d.url), ip: '', geo: '', agent: '' };
    default:
      return base;
  }
}

/**
 * Mailjet's numeric ids for things envoi names with strings (campaign,
 * contact, list): 53 bits of SHA-256, stable, exact in JavaScript, like the
 * MessageID of the Send API translation.
 */
export function mailjetNumber(kind: 'campaign' | 'contact' | 'list', id: string): number {
  const h = createHash('sha256').update(`envoi/mailjet/${kind}/${id}`).digest();
  const n = h.readUIntBE(0, 6) * 2 ** 5 + (h[6] >> 3);
  return n === 0 ? 1 : n;
}

/** What `POST /v1/webhooks/:id/test` sends. */
export function testEvent(format: WebhookFormat, tenantId: string, now: number): Record<string, unknown> {
  if (format === 'mailjet') {
    return {
      event: 'sent', time: Math.floor(now / 1000), MessageID: 0, Message_GUID: '', email: 'test@example.com',
      mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'envoi-test', Payload: '', mj_message_id: '0', smtp_reply: 'sent (test)',
    };
  }
  return { id: 'evt_test', type: 'test', at: new Date(now).toISOString(), tenant: tenantId, messageId: null, recipientId: null, recipient: null, campaign: null, customId: null, data: {} };
}

/** The reply facts of a delivery event, whichever stage wrote it (SMTP attempt or asynchronous bounce). */
function smtpFacts(d: Record<string, unknown>) {
  const cls = (d.classification ?? {}) as Record<string, unknown>;
  return {
    category: (d.category ?? cls.category) as string | undefined,
    hard: (d.hard ?? cls.hard ?? true) === true,
    code: typeof d.code === 'number' && d.code > 0 ? d.code : undefined,
    enhanced: str(d.enhanced ?? d.status) || undefined,
    text: str(d.text ?? d.diagnostic) || undefined,
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function pick(d: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return defined(Object.fromEntries(keys.map((k) => [k, d[k]])));
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

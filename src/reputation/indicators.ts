// The counters the rollup keeps per (tenant, day, dimension, key), what one
// event adds to them, and the indicators (MJ-1, GM-10) computed from a sum of
// them. Pure.
//
// Denominators: bounces and blocks are over messages sent (a final attempt:
// delivered, bounced at delivery, blocked or expired — an asynchronous
// bounce follows a delivery and is not sent twice); complaints,
// unsubscribes, clicks and opens are over messages delivered, as Postmaster
// Tools computes its spam rate. Opens and clicks are events, not unique
// people; machine opens and clicks (Apple MPP, scanners) are not counted.

export const COUNTERS = [
  'sent', 'delivered', 'bounced', 'hard_bounced', 'unknown_user', 'blocked', 'deferred', 'expired', 'dropped',
  'complained', 'abuse_reports', 'spamtraps', 'unsubscribed', 'clicked', 'opened',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export const emptyCounts = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

export function addCounts(into: Counts, more: Partial<Counts>): Counts {
  for (const c of COUNTERS) into[c] += more[c] ?? 0;
  return into;
}

export const sumCounts = (rows: Partial<Counts>[]): Counts => rows.reduce<Counts>((acc, r) => addCounts(acc, r), emptyCounts());

/** The event types the rollup reads; every other type adds nothing. */
export const COUNTED_TYPES = ['delivered', 'bounced', 'blocked', 'expired', 'deferred', 'dropped', 'complained', 'unsubscribed', 'clicked', 'opened', 'suppressed'] as const;

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** A bounce is hard when the delivery said so (data.classification.hard) or the DSN parser did (data.hard). */
export function bounceFacts(data: Record<string, unknown>): { hard: boolean; category: string | null; async: boolean } {
  const c = obj(data.classification);
  const category = typeof data.category === 'string' ? data.category : typeof c.category === 'string' ? c.category : null;
  return { hard: data.hard === true || c.hard === true, category, async: data.async === true };
}

/** What one event adds to the counters of every dimension it belongs to; null for events that count nothing. */
export function countsOfEvent(type: string, data: Record<string, unknown>): Partial<Counts> | null {
  switch (type) {
    case 'delivered':
      return { sent: 1, delivered: 1 };
    case 'bounced': {
      const b = bounceFacts(data);
      return {
        ...(b.async ? {} : { sent: 1 }), bounced: 1,
        ...(b.hard ? { hard_bounced: 1 } : {}), ...(b.category === 'unknown-user' ? { unknown_user: 1 } : {}),
      };
    }
    case 'blocked':
      return { sent: 1, blocked: 1 };
    case 'expired':
      // retried until the expiry: a soft bounce in Mailjet's count (webhooks report it as a bounce too)
      return { sent: 1, expired: 1 };
    case 'deferred':
      return { deferred: 1 };
    case 'dropped':
      return { dropped: 1 };
    case 'complained':
      // a report to abuse@/postmaster@ is an unjustified-use complaint (MJ-1, AF-8); the rest are spam complaints
      return data.source === 'abuse' || data.source === 'postmaster' ? { abuse_reports: 1 } : { complained: 1 };
    case 'suppressed':
      return data.reason === 'spamtrap' ? { spamtraps: 1 } : null;
    case 'unsubscribed':
      return { unsubscribed: 1 };
    case 'clicked':
      return data.machine === true ? null : { clicked: 1 };
    case 'opened':
      return data.machine === true ? null : { opened: 1 };
    default:
      return null;
  }
}

export interface Indicators {
  bounceRate: number | null;
  hardBounceRate: number | null;
  unknownUserRate: number | null;
  unsubscribeRate: number | null;
  clickRate: number | null;
  unsubscribesExceedClicks: boolean;
  blockRate: number | null;
  complaintRate: number | null;
  /** spam complaints, a count */
  complaints: number;
  /** spam-trap hits + unjustified-use complaints (abuse@ reports), a count */
  trapsAndAbuse: number;
  deliveredRate: number | null;
  /** deferrals per attempt (sent + deferred) */
  deferredRate: number | null;
  openRate: number | null;
}

export type IndicatorName = keyof Omit<Indicators, 'unsubscribesExceedClicks'>;
export const INDICATOR_NAMES: IndicatorName[] = [
  'bounceRate', 'hardBounceRate', 'unknownUserRate', 'unsubscribeRate', 'clickRate', 'blockRate', 'complaintRate', 'complaints',
  'trapsAndAbuse', 'deliveredRate', 'deferredRate', 'openRate',
];

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/** The indicators of a sum of counters; a rate over nothing is null (unknown), never 0. */
export function indicatorsOf(c: Counts): Indicators {
  return {
    bounceRate: ratio(c.bounced + c.expired, c.sent),
    hardBounceRate: ratio(c.hard_bounced, c.sent),
    unknownUserRate: ratio(c.unknown_user, c.sent),
    unsubscribeRate: ratio(c.unsubscribed, c.delivered),
    clickRate: ratio(c.clicked, c.delivered),
    unsubscribesExceedClicks: c.unsubscribed > c.clicked,
    blockRate: ratio(c.blocked, c.sent),
    complaintRate: ratio(c.complained, c.delivered),
    complaints: c.complained,
    trapsAndAbuse: c.spamtraps + c.abuse_reports,
    deliveredRate: ratio(c.delivered, c.sent),
    deferredRate: ratio(c.deferred, c.sent + c.deferred),
    openRate: ratio(c.opened, c.delivered),
  };
}

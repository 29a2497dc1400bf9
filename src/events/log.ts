// The append-only event log. Every stage records what happened to a message
// or a recipient here; nothing updates or deletes an event. Reputation
// (issue 7) and webhooks (issue 6) read it.
import type { Kysely } from 'kysely';
import type { Database, Event } from '../store/schema.ts';

export type EventType =
  | 'accepted' | 'delivered' | 'deferred' | 'bounced' | 'blocked' | 'expired'
  // audience: consent and suppression history, per contact (the contact's timeline)
  | 'subscribed' | 'confirmation_sent' | 'confirmed' | 'unsubscribed' | 'suppressed' | 'unsuppressed' | 'erased'
  | 'import_quarantined' | 'import_reviewed'
  // campaigns: a recipient skipped at dispatch (suppressed, unsubscribed, …), a campaign done
  | 'dropped' | 'campaign_completed'
  // engagement (opened: data.machine marks Apple MPP / scanner opens, not counted as engagement)
  | 'clicked' | 'opened'
  // feedback (issue 6): a complaint (ARF or abuse@), an auto-reply, an unparseable inbound message kept for review
  | 'complained' | 'auto_replied' | 'feedback_unparsed'
  // reputation (issue 7): a rule acted, or an operator decided about the tenant
  | 'reputation_action';

export interface EventInput {
  tenantId: string;
  /** a message id, or for audience events the contact or import id */
  messageId?: string | null;
  recipientId?: string | null;
  type: EventType;
  at: number;
  data?: Record<string, unknown>;
}

export async function appendEvents(db: Kysely<Database>, events: EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('events').values(events.map((e) => ({
    tenant_id: e.tenantId,
    message_id: e.messageId ?? null,
    recipient_id: e.recipientId ?? null,
    type: e.type,
    at: e.at,
    data: JSON.stringify(e.data ?? {}),
  }))).execute();
}

export function eventsOfMessage(db: Kysely<Database>, tenantId: string, messageId: string): Promise<Event[]> {
  return db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId).where('message_id', '=', messageId).orderBy('id').execute();
}

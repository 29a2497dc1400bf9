// The audience stage as the rest of envoi sees it: lists, contacts,
// subscriptions with consent, suppression, the proof of consent, and the
// mailable-audience query (the only place that decides who may get marketing).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { createLists } from './lists.ts';
import { createContacts } from './contacts.ts';
import { createSubscriptions } from './subscriptions.ts';
import { createSuppression } from './suppression.ts';
import { consentProof } from './proof.ts';
import { segmentFilter } from './segments/index.ts';
import type { DialectName } from '../store/connect.ts';
import { countMailable, streamMailable, sunsetReport, type SegmentFilter } from './mailable.ts';

export interface AudienceOptions {
  sunsetDays: number;
  sunsetWarnDays: number;
  dialect: DialectName;
}

export function createAudience(db: Kysely<Database>, clock: Clock, opts: AudienceOptions) {
  const contacts = createContacts(db, clock);
  const query = (tenantId: string, listIds: string[], segment?: SegmentFilter) => ({ dialect: opts.dialect, tenantId, listIds, segment, now: clock.now(), sunsetDays: opts.sunsetDays });
  return {
    lists: createLists(db, clock),
    contacts,
    subscriptions: createSubscriptions(db, clock, contacts),
    suppression: createSuppression(db, clock),
    /** a segment's text compiled for this tenant, or the parse error with its column */
    segment: (tenantId: string, text: string) => segmentFilter(text, { dialect: opts.dialect, now: clock.now(), tenantId }),
    proof: (tenantId: string, email: string, listRef?: string) => consentProof(db, tenantId, email, clock.now(), listRef),
    /** consent, subscription and suppression history of a contact, oldest first */
    timeline: async (tenantId: string, contactId: string) =>
      // the tenant test must not be one an index serves: SQLite's planner took (tenant_id, id) to skip
      // the sort and walked every event of the tenant, 8 ms a contact at 100,000 campaign events
      // (bench/campaign.ts --api-clients); a contact's events are few, found by message_id
      (await db.selectFrom('events').select(['type', 'at', 'data']).where(sql`coalesce(${sql.ref('tenant_id')}, '')`, '=', tenantId).where('message_id', '=', contactId).orderBy('id').execute())
        .map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), data: JSON.parse(e.data) })),
    mailable: {
      count: (tenantId: string, listIds: string[], segment?: SegmentFilter) => countMailable(db, query(tenantId, listIds, segment)),
      stream: (tenantId: string, listIds: string[], opts2: { segment?: SegmentFilter; batchSize?: number; checkpoint?: string } = {}) =>
        streamMailable(db, query(tenantId, listIds, opts2.segment), opts2.batchSize, opts2.checkpoint),
      sunset: (tenantId: string, listIds: string[], segment?: SegmentFilter) => sunsetReport(db, { ...query(tenantId, listIds, segment), warnDays: opts.sunsetWarnDays }),
    },
  };
}

export type Audience = ReturnType<typeof createAudience>;

// The last doctor report of each domain (one row per domain, replaced on each run).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { DomainReport } from './types.ts';

export function createReportStore(db: Kysely<Database>) {
  return {
    async save(tenantId: string, r: DomainReport): Promise<void> {
      const row = { domain_id: r.domainId, tenant_id: tenantId, checked_at: r.checkedAt, blocked: r.blocked ? 1 : 0, report: JSON.stringify(r) };
      await db.insertInto('doctor_reports').values(row)
        .onConflict((oc) => oc.column('domain_id').doUpdateSet({ checked_at: row.checked_at, blocked: row.blocked, report: row.report }))
        .execute();
    },

    async last(domainId: string): Promise<DomainReport | undefined> {
      const row = await db.selectFrom('doctor_reports').select('report').where('domain_id', '=', domainId).executeTakeFirst();
      return row ? (JSON.parse(row.report) as DomainReport) : undefined;
    },

    /** The kind of mail a sandbox capture is: a campaign's recipient is marketing, else its stream's kind. */
    async sandboxKind(sandboxId: string): Promise<'marketing' | 'transactional' | undefined> {
      const row = await db.selectFrom('sandbox_messages as s')
        .innerJoin('recipients as r', 'r.id', 's.recipient_id')
        .innerJoin('messages as m', 'm.id', 's.message_id')
        .innerJoin('streams as st', 'st.id', 'm.stream_id')
        .select(['r.campaign_id', 'st.kind']).where('s.id', '=', sandboxId).executeTakeFirst();
      if (!row) return undefined;
      return row.campaign_id ? 'marketing' : row.kind;
    },
  };
}

export type ReportStore = ReturnType<typeof createReportStore>;

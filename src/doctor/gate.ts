// The gate (GM-2, GM-8, MC-8, GM-5, MC-4): a domain whose last doctor report
// failed a blocking check cannot send marketing outside the sandbox. It reads
// the cached report instead of running the checks, so submitting a campaign
// costs one query; running `envoi doctor` (or GET /v1/domains/:id/checks)
// after a fix refreshes the report and lifts the gate. A domain never checked
// passes: the DKIM records were checked when it was verified, and the doctor
// runs on demand.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { fail, ok, type Result } from '../errors.ts';
import { createReportStore } from './store.ts';
import type { DomainReport } from './types.ts';

export async function doctorGate(db: Kysely<Database>, domainId: string): Promise<Result<{ report: DomainReport | null }>> {
  const report = await createReportStore(db).last(domainId);
  if (!report) return ok({ report: null });
  const why = gateReason(report);
  return why ? fail('domain.checks_failed', why, 'fromAddress') : ok({ report });
}

/** Why the report stops marketing, in plain words with each fix; null when it does not. */
export function gateReason(report: DomainReport): string | null {
  const blocking = report.checks.filter((c) => c.blocking);
  if (!blocking.length) return null;
  const items = blocking.slice(0, 5).map((c) => `${c.id} (${c.subject}): ${c.found}${c.fix ? ` — fix: ${c.fix}` : ''}`);
  const more = blocking.length > 5 ? `; and ${blocking.length - 5} more` : '';
  return `${report.domain} fails ${blocking.length} blocking check${blocking.length > 1 ? 's' : ''} of the doctor (run ${new Date(report.checkedAt).toISOString()}), so it cannot send marketing outside the sandbox: ${items.join('; ')}${more}. Fix them, then run \`envoi doctor ${report.domain}\` again.`;
}

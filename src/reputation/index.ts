// The reputation stage (issue 7; MJ-1, MJ-10, GM-1, GM-10, GM-14): the
// rollup of the event log into counters, the rules that act on them, the
// controls the send paths ask, the operator's decisions, the read side and
// the Postmaster import. Nothing runs until startReputationLoop.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.ts';
import type { DialectName } from '../store/connect.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Limiter } from '../delivery/limits/types.ts';
import type { Lifecycle } from '../campaigns/lifecycle.ts';
import { fail, ok, type Result } from '../errors.ts';
import { startLoop } from '../loop.ts';
import { createReputationStore } from './store.ts';
import { loadThresholds, withSteps } from './thresholds.ts';
import { createControls } from './controls.ts';
import { createEffects, type ReviewInput } from './effects.ts';
import { createRollup } from './rollup.ts';
import { createActor } from './act.ts';
import { createReport, type ReportOptions } from './report.ts';
import { parsePostmasterCsv } from './postmaster.ts';
import { utcDay } from './rules.ts';

export interface ReputationDeps {
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  logger: Logger;
  limiter: Limiter;
  config: Config['reputation'];
  /** the campaign lifecycle, to pause and resume campaigns (campaigns are built after this stage: they ask its controls) */
  lifecycle: () => Lifecycle;
  /** the TLS policy towards Google, configured overrides applied (GM-7) */
  googleTls(): 'required' | 'opportunistic';
}

const PG_SETTLE_MS = 2_000;
const SWEEP_EVERY_MS = 60_000;
const PRUNE_EVERY_MS = 3600_000;

export function createReputation(d: ReputationDeps) {
  const thresholds = withSteps(loadThresholds(), d.config.steps);
  const unknown = d.config.profiles.filter((p) => !thresholds.profiles[p]);
  if (unknown.length) throw new Error(`reputation.profiles: unknown profile ${unknown.join(', ')} (known: ${Object.keys(thresholds.profiles).join(', ')})`);
  const store = createReputationStore(d.db, d.dialect);
  const controls = createControls({ store, clock: d.clock, limiter: d.limiter, config: d.config, gmailDomains: thresholds.gmailDomains });
  const effects = createEffects({ store, controls, lifecycle: d.lifecycle, clock: d.clock, logger: d.logger, config: d.config, thresholds });
  const rollup = createRollup({ store, clock: d.clock, gmailDomains: thresholds.gmailDomains, batchSize: d.config.batchSize, settleMs: d.dialect === 'postgres' ? PG_SETTLE_MS : 0 });
  const actor = createActor({ store, effects, controls, clock: d.clock, logger: d.logger, thresholds, defaultProfiles: d.config.profiles, googleTls: d.googleTls });
  const report = createReport({ store, controls, clock: d.clock, thresholds, config: d.config, googleTls: d.googleTls });

  /** One pass and the rules on what it changed; true when there is probably more. */
  async function step(upTo?: number): Promise<boolean> {
    const r = await rollup.pass(upTo);
    if (!r) return false;
    if (r.touched.events) await actor.evaluate(r.touched);
    return r.more;
  }

  return {
    thresholds,
    /** asked by the send paths */
    controls,
    step,
    sweep: () => actor.sweep(),

    /** Counts everything in the log now and runs the rules (a single writer: tests, the CLI, the benchmark). */
    async catchUp(): Promise<void> {
      const top = await store.maxEventId();
      while (await step(top));
      await actor.sweep();
    },

    report,
    /** the tenant owning a sending domain */
    ownerOf: async (domainName: string) => (await store.domainByName(domainName))?.tenant_id,
    actions: (tenantId: string | null, limit?: number) => store.actions(tenantId, limit),

    /** Operator (MJ-10): approve, caps, profiles. */
    review: (tenantId: string, input: ReviewInput, actor: string) => effects.review(tenantId, input, actor),
    suspend: (tenantId: string, reason: string, opts: { stopTransactional?: boolean; actor: string }) => effects.suspend(tenantId, reason, opts),
    resume: (tenantId: string, actor: string, note?: string) => effects.resume(tenantId, actor, note),

    /** GM-14: a Postmaster Tools CSV export of one sending domain, kept per day beside envoi's own figures. */
    async importPostmaster(domainName: string, csv: string, tenantId?: string): Promise<Result<{ domain: string; imported: number; from: string | null; to: string | null; columns: string[]; problems: string[] }>> {
      const domain = await store.domainByName(domainName);
      if (!domain || (tenantId && domain.tenant_id !== tenantId)) return fail('not_found', `no sending domain ${domainName}`, 'domain');
      const parsed = parsePostmasterCsv(csv);
      if (!parsed.days.length) return fail('request.invalid', parsed.problems.join('; ') || 'no day in the file');
      const now = d.clock.now();
      await store.upsertPostmaster(parsed.days.map((x) => ({
        domain_id: domain.id, day: x.day, tenant_id: domain.tenant_id, spam_rate: x.spamRate, ip_reputation: x.ipReputation, domain_reputation: x.domainReputation,
        spf_rate: x.spf, dkim_rate: x.dkim, dmarc_rate: x.dmarc, tls_rate: x.tls, delivery_errors: x.deliveryErrors, imported_at: now,
      })));
      return ok({ domain: domain.name, imported: parsed.days.length, from: parsed.days[0].day, to: parsed.days[parsed.days.length - 1].day, columns: parsed.columns, problems: parsed.problems });
    },

    /** rows older than the GM-1 window are no longer needed */
    pruneGmailMinutes: () => store.pruneGmailMinutes(d.clock.now() - 2 * thresholds.bulk.windowHours * 3600_000),
    /** the day's usage against the cap */
    usage: (tenantId: string) => store.usage(tenantId, utcDay(d.clock.now())),
  };
}

export type Reputation = ReturnType<typeof createReputation>;

/** The rollup loop: beside the delivery workers (startDelivery). */
export function startReputationLoop(r: Reputation, o: { pollMs: number; logger: Logger }) {
  let lastSweep = 0;
  let lastPrune = 0;
  return startLoop('reputation rollup', o.pollMs, o.logger, async () => {
    const more = await r.step();
    const t = performance.now();
    if (t - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = t;
      await r.sweep();
    }
    if (t - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = t;
      await r.pruneGmailMinutes();
    }
    return more;
  });
}

// `envoi warmup status`: every warm-up ramp (GM-13) as it stands, or one tenant's.
import type { Command } from 'commander';
import { print, table, tenantByRef, withCore } from './context.ts';

export function warmupCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const warmup = program.command('warmup').description('warm-up ramps per (IP pool, sending domain, provider)');
  warmup.command('status').description('each ramp: its day, today\'s budget, what went out today, the previous day\'s health')
    .option('--tenant <tenant>', 'only this tenant\'s domains').option('--json')
    .action((o: { tenant?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
      const rows = await core.services.warmup.status(tenantId);
      print(o.json, rows, () => {
        const head = core.config.delivery.warmup.enabled ? '' : 'warm-up is disabled (delivery.warmup.enabled): budgets are not enforced\n';
        return head + table(rows.map((r) => ({
          domain: r.domain, provider: r.provider, pool: r.pool, day: r.current ? r.day : `${r.day} (last used)`, index: r.dayIndex,
          budget: r.budget, 'sent today': r.sentToday, verdict: r.verdict,
          'previous day': `${r.previousDay.sent} sent, ${r.previousDay.hardBounces} hard bounces, ${r.previousDay.complaints} complaints`,
        })), ['domain', 'provider', 'pool', 'day', 'index', 'budget', 'sent today', 'verdict', 'previous day']);
      });
    }));
}

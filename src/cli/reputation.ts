// `envoi reputation …` (indicators against their thresholds, trends as
// sparklines, the actions taken, Postmaster imports) and the operator's
// `envoi tenant review|suspend|resume` (MJ-10).
import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, print, table, tenantByRef, withCore } from './context.ts';
import type { Core } from '../app.ts';
import type { Report, ScopeReport } from '../reputation/report.ts';
import type { Check } from '../reputation/rules.ts';
import type { IndicatorName } from '../reputation/indicators.ts';

const BARS = '▁▂▃▄▅▆▇█';
const ACTOR = 'operator:cli';

/** One character a day: the value against the line (a full bar is at or over it), or against the series' largest without a line; · when unknown. */
export function sparkline(values: (number | null)[], line?: number): string {
  const top = line ?? Math.max(0, ...values.filter((v): v is number => v !== null));
  return values.map((v) => (v === null ? '·' : top <= 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((v / top) * (BARS.length - 1) + 1e-9))])).join('');
}

const pct = (v: number | null) => (v === null ? '—' : `${+(v * 100).toPrecision(2)} %`);
const num = (n: number) => n.toLocaleString('en');
const isCount = (i: IndicatorName) => i === 'complaints' || i === 'trapsAndAbuse';
const show = (i: IndicatorName, v: number | null) => (isCount(i) ? (v === null ? '—' : String(v)) : pct(v));

const ROWS: { indicator: IndicatorName; label: string }[] = [
  { indicator: 'bounceRate', label: 'bounces' },
  { indicator: 'unknownUserRate', label: 'unknown users' },
  { indicator: 'unsubscribeRate', label: 'unsubscribes' },
  { indicator: 'clickRate', label: 'clicks' },
  { indicator: 'blockRate', label: 'blocked' },
  { indicator: 'complaintRate', label: 'complaint rate' },
  { indicator: 'complaints', label: 'complaints' },
  { indicator: 'trapsAndAbuse', label: 'traps + abuse@' },
  { indicator: 'deliveredRate', label: 'delivered' },
  { indicator: 'deferredRate', label: 'deferred' },
  { indicator: 'openRate', label: 'opens' },
];

const lineOf = (c: Check | undefined) => (c ? `${c.op === '>' ? '≤' : '<'} ${isCount(c.indicator) ? c.threshold : pct(c.threshold)}` : '');
const stateOf = (c: Check | undefined) => {
  if (!c) return '';
  if (c.state === 'insufficient') return `below ${num(c.minVolume!)} ${c.volumeOf}`;
  return c.state === 'over' ? `OVER (${c.step})` : c.state;
};

function scopeTable(s: ScopeReport, trendDays: number): string {
  const series = s.series.slice(-trendDays);
  return table(ROWS.map(({ indicator, label }) => {
    const check = s.checks.filter((c) => c.indicator === indicator).sort((a, b) => (a.state === 'over' ? -1 : b.state === 'over' ? 1 : 0))[0];
    return {
      indicator: label, line: lineOf(check), today: show(indicator, s.today.indicators[indicator]), '7 d': show(indicator, s.last7.indicators[indicator]),
      window: show(indicator, s.window.indicators[indicator]), state: stateOf(check),
      [`trend (${series.length} d)`]: sparkline(series.map((d) => d.indicators[indicator]), check && !isCount(indicator) ? check.threshold : undefined),
    };
  }), ['indicator', 'line', 'today', '7 d', 'window', 'state', `trend (${series.length} d)`]) + `\nsent: ${num(s.today.sent)} today, ${num(s.last7.sent)} in 7 days, ${num(s.window.sent)} in the window`;
}

const SCOPE_LABEL: Record<string, string> = { domain: 'domain', stream: 'stream', campaign: 'campaign', provider: 'provider', pool: 'IP pool', gmail: 'Gmail-bound' };

export function renderReport(r: Report, trendDays = 14): string {
  const t = r.tenant;
  const out: string[] = [];
  out.push(`${t.name} (${t.id}) · ${t.status}${t.dailyCap !== null ? ` · daily cap ${num(t.dailyCap)} (${num(t.usedToday ?? 0)} used today)` : ''} · profiles ${t.profiles.join(', ')} · thresholds ${r.thresholdsVersion} · ${r.from} → ${r.day} (UTC)`);
  if (t.suspended) out.push(`SUSPENDED: ${t.suspended.reason} — transactional ${t.suspended.transactionalStopped ? 'stopped too' : 'continues'}`);
  if (t.throttle) out.push(`throttled: ${t.throttle.perMinute} marketing messages a minute until ${t.throttle.until}`);
  const tenantScope = r.scopes.find((s) => s.scope === 'tenant')!;
  out.push('', scopeTable(tenantScope, trendDays));
  const others = r.scopes.filter((s) => s.scope !== 'tenant');
  if (others.length) {
    out.push('', table(others.map((s) => {
      const over = s.checks.filter((c) => c.state === 'over').map((c) => `${c.rule} (${c.step})`).join(', ');
      return {
        scope: `${SCOPE_LABEL[s.scope]} ${s.label}`, 'sent today': num(s.today.sent), sent: num(s.window.sent), bounces: pct(s.window.indicators.bounceRate),
        complaints: pct(s.window.indicators.complaintRate), unsubs: pct(s.window.indicators.unsubscribeRate), blocked: pct(s.window.indicators.blockRate),
        [`bounces (${trendDays} d)`]: sparkline(s.series.slice(-trendDays).map((d) => d.indicators.bounceRate), 0.08),
        note: [s.status ? `${s.status}${s.statusReason ? `: ${s.statusReason}` : ''}` : '', over ? `over: ${over}` : ''].filter(Boolean).join('; '),
      };
    }), ['scope', 'sent today', 'sent', 'bounces', 'complaints', 'unsubs', 'blocked', `bounces (${trendDays} d)`, 'note']));
  }
  for (const rec of r.recovery) {
    const w = rec.window;
    out.push(`Gmail recovery ${rec.domain} (GM-10): ${w.streak} consecutive day(s) under 0.3 %${w.lastBadDay ? `, last bad day ${w.lastBadDay}` : ''}${w.eligibleOn ? `, eligible ${w.eligible ? 'since' : 'on'} ${w.eligibleOn}` : ''}${rec.pausedSince ? ' — marketing to Google paused' : ''}`);
  }
  for (const b of r.bulk) {
    const missing = b.requirements.flatMap((q) => q.missing);
    out.push(`bulk sender ${b.orgDomain} (GM-1): ${b.bulk ? `yes, since ${b.since}` : 'no'} · ${num(b.gmailMessages24h)} Gmail messages in 24 h (bulk at ${num(b.threshold)})${b.bulk ? ` · requirements: ${missing.length ? `MISSING ${missing.join('; ')}` : 'met'}` : ''}`);
  }
  for (const p of r.pauses) out.push(`paused: ${p.domain} → ${p.provider} since ${p.since}: ${p.reason}`);
  if (r.postmaster.length) {
    const ours = new Map(r.scopes.filter((s) => s.scope === 'gmail').flatMap((s) => s.series.map((d) => [`${s.label.replace(/ → Gmail$/, '')}|${d.day}`, d.indicators.complaintRate] as const)));
    out.push('', 'Postmaster Tools (imported) beside envoi\'s Gmail complaint rate:', table(r.postmaster.slice(-trendDays).map((p) => ({
      domain: p.domain, day: p.day, 'spam rate': pct(p.spamRate), 'ours': pct(ours.get(`${p.domain}|${p.day}`) ?? null), 'domain rep.': p.domainReputation ?? '—', 'IP rep.': p.ipReputation ?? '—',
      'spf/dkim/dmarc': [p.spf, p.dkim, p.dmarc].map(pct).join(' / '), tls: pct(p.tls),
    })), ['domain', 'day', 'spam rate', 'ours', 'domain rep.', 'IP rep.', 'spf/dkim/dmarc', 'tls']));
  }
  if (r.actions.length) {
    out.push('', 'actions (latest first):', table(r.actions.slice(0, 10).map((a) => ({ at: a.at.slice(0, 16).replace('T', ' '), step: a.step, rule: a.rule, by: a.actor, reason: a.reason })), ['at', 'step', 'rule', 'by', 'reason']));
  }
  return out.join('\n');
}

export function reputationCommands(program: Command): void {
  const cfg = () => program.opts().config as string | undefined;
  const rep = program.command('reputation').description('indicators against their thresholds (MJ-1, GM-10), bulk status (GM-1), actions taken')
    .option('--tenant <tenant>', 'one tenant (default: a line per tenant)').option('--domain <domain>', 'only this sending domain').option('--campaign <id>', 'only this campaign')
    .option('--days <n>', 'days of the window (1-90)', '30').option('--json', 'JSON output')
    .action((o: { tenant?: string; domain?: string; campaign?: string; days: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 1 || days > 90) throw new CliError('--days: 1 to 90');
      if (o.tenant || o.domain) {
        const t = o.tenant ? await tenantByRef(core, o.tenant) : await tenantOfDomain(core, o.domain!);
        const r = await core.services.reputation.report(t.id, { domain: o.domain, campaign: o.campaign, days });
        if (!r) throw new CliError(`no tenant ${o.tenant}`);
        print(o.json, r, () => renderReport(r));
        return;
      }
      const rows: Record<string, string>[] = [];
      for (const t of await core.services.tenants.list()) {
        const r = (await core.services.reputation.report(t.id, { days }))!;
        const s = r.scopes.find((x) => x.scope === 'tenant')!;
        const over = s.checks.filter((c) => c.state === 'over').map((c) => c.rule);
        rows.push({
          tenant: t.name, status: t.status, 'sent today': num(s.today.sent), bounces: pct(s.today.indicators.bounceRate), complaints: pct(s.today.indicators.complaintRate),
          [`sent (${days} d)`]: sparkline(s.series.map((d) => d.sent)), over: over.join(', '), 'last action': r.actions[0] ? `${r.actions[0].step} ${r.actions[0].rule}` : '',
        });
      }
      print(o.json, rows, () => table(rows, ['tenant', 'status', 'sent today', 'bounces', 'complaints', `sent (${days} d)`, 'over', 'last action']));
    }));

  // commander gives options named like the parent's (--tenant, --domain, --json) to the parent, wherever they stand: merged here
  const withParent = <T extends object>(o: T) => ({ ...rep.opts(), ...o }) as T;
  rep.command('actions').description('recent actions and operator decisions (every tenant, or one)').option('--tenant <tenant>').option('--limit <n>', 'how many', '50').option('--json')
    .action((own: { tenant?: string; limit: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const o = withParent(own);
      const tenantId = o.tenant ? (await tenantByRef(core, o.tenant)).id : null;
      const rows = await core.services.reputation.actions(tenantId, Math.max(1, Math.min(500, Number(o.limit) || 50)));
      print(o.json, rows, () => table(rows.map((a) => ({ at: new Date(a.created_at).toISOString().slice(0, 16).replace('T', ' '), tenant: a.tenant_id, step: a.step, rule: a.rule, by: a.actor, reason: a.reason })),
        ['at', 'tenant', 'step', 'rule', 'by', 'reason']));
    }));

  rep.command('import-postmaster <file>').description('import a Google Postmaster Tools CSV export of one sending domain (GM-14)').option('--domain <domain>', 'the sending domain (required)').option('--json')
    .action((file: string, own: { domain?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const o = withParent(own);
      if (!o.domain) throw new CliError('--domain <domain> is required');
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
      }
      const r = await core.services.reputation.importPostmaster(o.domain, text);
      if (!r.ok) throw new CliError(r.error.detail);
      print(o.json, r.value, () => [`${r.value.imported} day(s) of ${r.value.domain} imported (${r.value.from} → ${r.value.to}); columns: ${r.value.columns.join(', ')}`,
        ...r.value.problems.map((p) => `  skipped: ${p}`)].join('\n'));
    }));

  const tenant = program.commands.find((c) => c.name() === 'tenant') ?? program.command('tenant').description('tenants (operator)');
  tenant.command('review <tenant>').description('approve a tenant in review, change its daily cap or threshold profiles (MJ-10); audited')
    .option('--approve', 'review → active').option('--cap <n>', 'messages a day, or "none"').option('--profiles <names>', 'comma-separated, e.g. mailjet,gmail,strict').option('--note <text>').option('--json')
    .action((ref: string, o: { approve?: boolean; cap?: string; profiles?: string; note?: string; json?: boolean }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, ref);
      let dailyCap: number | null | undefined;
      if (o.cap !== undefined) {
        dailyCap = o.cap === 'none' ? null : Number(o.cap);
        if (dailyCap !== null && (!Number.isInteger(dailyCap) || dailyCap < 0)) throw new CliError('--cap: a whole number of messages, or "none"');
      }
      const r = await core.services.reputation.review(t.id, { approve: o.approve, dailyCap, profiles: o.profiles?.split(',').map((p) => p.trim()).filter(Boolean), note: o.note }, ACTOR);
      if (!r.ok) throw new CliError(r.error.detail);
      print(o.json, r.value, () => `tenant ${t.name}: ${r.value.status}, daily cap ${r.value.dailyCap ?? (r.value.status === 'review' ? `the review default (${core.config.reputation.review.dailyCap})` : 'none')}, profiles ${(r.value.profiles ?? core.config.reputation.profiles).join(', ')}`);
    }));
  tenant.command('suspend <tenant>').description('stop the tenant\'s marketing at once (transactional continues unless --stop-transactional)').requiredOption('--reason <text>')
    .option('--stop-transactional', 'stop transactional mail too')
    .action((ref: string, o: { reason: string; stopTransactional?: boolean }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, ref);
      const r = await core.services.reputation.suspend(t.id, o.reason, { stopTransactional: o.stopTransactional, actor: ACTOR });
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `tenant ${t.name} suspended; ${r.value.pausedCampaigns.length} campaign(s) paused; transactional ${o.stopTransactional ? 'stopped' : 'continues'}`);
    }));
  tenant.command('resume <tenant>').description('lift a suspension or a throttle; campaigns paused by the suspension resume').option('--note <text>')
    .action((ref: string, o: { note?: string }) => withCore(cfg(), async (core) => {
      const t = await tenantByRef(core, ref);
      const r = await core.services.reputation.resume(t.id, ACTOR, o.note);
      if (!r.ok) throw new CliError(r.error.detail);
      print(false, null, () => `tenant ${t.name} resumed; ${r.value.resumedCampaigns.length} campaign(s) sending again`);
    }));
}

async function tenantOfDomain(core: Core, domain: string) {
  const owner = await core.services.reputation.ownerOf(domain);
  if (!owner) throw new CliError(`no sending domain ${domain}`);
  return tenantByRef(core, owner);
}

// The read side: every indicator of a tenant per scope (the tenant, each
// sending domain, stream, campaign, provider, IP pool, and each domain's
// Gmail-bound traffic), today, over 7 days and over the window, with the
// daily series for trends, each checked against the rules that apply; plus
// the tenant's controls, bulk status and GM requirements, Gmail recovery
// windows, open pauses, the actions taken and imported Postmaster figures.
// Reads counters only (one indexed query for the window), never the log.
import { getDomain } from 'tldts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { ReputationStore, CounterRow } from './store.ts';
import type { Controls } from './controls.ts';
import { addCounts, emptyCounts, indicatorsOf, sumCounts, type Counts, type Indicators } from './indicators.ts';
import { rulesOf, type Thresholds } from './thresholds.ts';
import { addDays, checkRules, missingRequirements, recoveryWindow, rollingCount, utcDay, type Check, type Recovery } from './rules.ts';

export const DIMS = ['tenant', 'domain', 'stream', 'campaign', 'provider', 'pool', 'gmail'] as const;
export type Dim = (typeof DIMS)[number];

export interface ScopeReport {
  scope: Dim;
  key: string;
  label: string;
  today: Counts & { indicators: Indicators };
  last7: Counts & { indicators: Indicators };
  window: Counts & { indicators: Indicators };
  /** oldest first, one entry per day of the window */
  series: { day: string; sent: number; delivered: number; indicators: Indicators }[];
  /** the rules that apply to this scope, on today (campaigns: since they started) */
  checks: Check[];
  /** campaigns: status and why */
  status?: string;
  statusReason?: string | null;
}

export interface ReportOptions {
  /** a sending domain's name: only its scopes (and the tenant's) */
  domain?: string;
  /** a campaign id: only its scope (and the tenant's) */
  campaign?: string;
  /** days of the window, 1-90 (default 30) */
  days?: number;
}

const withIndicators = (c: Counts) => ({ ...c, indicators: indicatorsOf(c) });

export function createReport(o: { store: ReputationStore; controls: Controls; clock: Clock; thresholds: Thresholds; config: Config['reputation']; googleTls(): 'required' | 'opportunistic' }) {
  const { store } = o;

  return async function report(tenantId: string, opts: ReportOptions = {}) {
    const now = o.clock.now();
    const today = utcDay(now);
    const days = Math.min(90, Math.max(1, opts.days ?? 30));
    const from = addDays(today, -(days - 1));
    const weekFrom = addDays(today, -6);
    const [tenant, controls, rows, [domains, streams], pauses, actions, postmaster, usedToday, gate] = await Promise.all([
      store.tenant(tenantId), store.controls(tenantId), store.countersOfTenant(tenantId, addDays(today, -Math.max(days, 31))), store.names(tenantId),
      store.openPauses(tenantId), store.actions(tenantId, 50), store.postmaster(tenantId, from), store.usage(tenantId, today), o.controls.gate(tenantId),
    ]);
    if (!tenant) return undefined;
    const domainId = opts.domain ? domains.find((d) => d.name === opts.domain!.toLowerCase())?.id ?? '\u0000none' : undefined;

    const byScope = new Map<string, CounterRow[]>();
    for (const r of rows) {
      if (domainId && !(r.dim === 'tenant' || ((r.dim === 'domain' || r.dim === 'gmail') && r.key === domainId))) continue;
      if (opts.campaign && !(r.dim === 'tenant' || (r.dim === 'campaign' && r.key === opts.campaign))) continue;
      const k = `${r.dim}\u0000${r.key}`;
      const list = byScope.get(k) ?? [];
      list.push(r);
      byScope.set(k, list);
    }
    const campaignIds = [...byScope.keys()].filter((k) => k.startsWith('campaign\u0000')).map((k) => k.split('\u0000')[1]);
    const campaigns = new Map((await store.campaignNames(campaignIds)).map((c) => [c.id, c]));
    const domainName = new Map(domains.map((d) => [d.id, d.name]));
    const streamName = new Map(streams.map((s) => [s.id, s.name]));
    const profiles = controls?.profiles ? (JSON.parse(controls.profiles) as string[]) : o.config.profiles;
    const rules = rulesOf(o.thresholds, profiles);
    const labelOf = (dim: Dim, key: string) => {
      switch (dim) {
        case 'tenant': return tenant.name;
        case 'domain': return domainName.get(key) ?? key;
        case 'gmail': return `${domainName.get(key) ?? key} → Gmail`;
        case 'stream': return streamName.get(key) ?? key;
        case 'campaign': return campaigns.get(key)?.name ?? key;
        default: return key;
      }
    };

    const dayList = Array.from({ length: days }, (_, i) => addDays(from, i));
    const nothing = indicatorsOf(emptyCounts());
    const scopes: ScopeReport[] = [];
    for (const [k, list] of byScope) {
      const [dim, key] = k.split('\u0000') as [Dim, string];
      const perDay = new Map<string, Counts>();
      for (const r of list) perDay.set(r.day, addCounts(perDay.get(r.day) ?? emptyCounts(), r));
      const todayCounts = perDay.get(today) ?? emptyCounts();
      const series = dayList.map((day) => {
        const c = perDay.get(day);
        return c ? { day, sent: c.sent, delivered: c.delivered, indicators: indicatorsOf(c) } : { day, sent: 0, delivered: 0, indicators: nothing };
      });
      // older days are loaded for the recovery windows only
      const inWindow = [...perDay].filter(([d]) => d >= from).map(([, c]) => c);
      let checks: Check[] = [];
      if (dim === 'campaign') checks = checkRules(o.thresholds.breakers.rules.map((rule) => ({ profile: 'breaker', rule })), sumCounts(inWindow));
      else if (dim === 'gmail') checks = checkRules(rules.filter((r) => r.rule.scope === 'gmail'), todayCounts);
      else if (dim === 'tenant' || dim === 'domain' || dim === 'stream') checks = checkRules(rules.filter((r) => r.rule.scope === 'tenant'), todayCounts);
      const c = campaigns.get(key);
      scopes.push({
        scope: dim, key, label: labelOf(dim, key),
        today: withIndicators(todayCounts), last7: withIndicators(sumCounts([...perDay].filter(([d]) => d >= weekFrom).map(([, c]) => c))), window: withIndicators(sumCounts(inWindow)),
        series, checks, ...(dim === 'campaign' && c ? { status: c.status, statusReason: c.status_reason } : {}),
      });
    }
    scopes.sort((a, b) => DIMS.indexOf(a.scope) - DIMS.indexOf(b.scope) || b.window.sent - a.window.sent || a.label.localeCompare(b.label));
    if (!scopes.some((s) => s.scope === 'tenant')) {
      const zero = withIndicators(emptyCounts());
      const series = dayList.map((day) => ({ day, sent: 0, delivered: 0, indicators: nothing }));
      scopes.unshift({ scope: 'tenant', key: '', label: tenant.name, today: zero, last7: zero, window: zero, series, checks: checkRules(rules.filter((r) => r.rule.scope === 'tenant'), emptyCounts()) });
    }

    // GM-10: each domain's recovery window at Gmail; GM-1: bulk status of each organizational domain
    const recovery: { domain: string; pausedSince: number | null; window: Recovery }[] = [];
    for (const s of scopes.filter((x) => x.scope === 'gmail')) {
      const pause = pauses.find((p) => p.domain_id === s.key && p.rule === 'gm.spam-critical');
      const history = byScope.get(`gmail\u0000${s.key}`)!.map((r) => ({ day: r.day, delivered: r.delivered, complained: r.complained }));
      recovery.push({ domain: domainName.get(s.key) ?? s.key, pausedSince: pause?.since ?? null, window: recoveryWindow(history, today, o.thresholds.recovery, 30, pause ? utcDay(pause.since) : undefined) });
    }
    const orgs = [...new Set(domains.map((d) => getDomain(d.name) ?? d.name))];
    const windowMs = o.thresholds.bulk.windowHours * 3600_000;
    const [bulkList, withKeys, minutes] = await Promise.all([store.bulkDomains(orgs), store.domainsWithKeys(tenantId), store.gmailMinutes(orgs, now - windowMs, now)]);
    const bulkRows = new Map(bulkList.map((b) => [b.org_domain, b]));
    const bulk = orgs.map((org) => {
      const b = bulkRows.get(org);
      const mine = withKeys.filter((d) => (getDomain(d.name) ?? d.name) === org).sort((a, b) => a.name.localeCompare(b.name));
      return {
        orgDomain: org, bulk: Boolean(b), since: b ? new Date(b.since).toISOString() : null,
        gmailMessages24h: rollingCount(minutes.filter((m) => m.org_domain === org), now, windowMs), threshold: o.thresholds.bulk.messages,
        requirements: mine.map((d) => ({ domain: d.name, missing: missingRequirements({ domain: d.name, dkimKey: d.dkimKey, verified: d.verified, oneClickUnsubscribe: true, googleTls: o.googleTls() }) })),
      };
    });

    return {
      tenant: {
        id: tenant.id, name: tenant.name, status: tenant.status, profiles, dailyCap: gate.cap, usedToday: gate.cap !== null ? usedToday : null,
        throttle: gate.throttle ? { perMinute: gate.throttle.perMinute, until: new Date(gate.throttle.until).toISOString() } : null,
        suspended: gate.suspendedReason ? { reason: gate.suspendedReason, transactionalStopped: gate.suspendTransactional } : null,
      },
      day: today, from, thresholdsVersion: o.thresholds.version,
      scopes, bulk, recovery,
      pauses: pauses.map((p) => ({ domain: p.domain, provider: p.provider, rule: p.rule, reason: p.reason, since: new Date(p.since).toISOString() })),
      actions: actions.map((a) => ({ ...a, at: new Date(a.created_at).toISOString() })),
      postmaster: postmaster.map((p) => ({ domain: p.domain, day: p.day, spamRate: p.spam_rate, ipReputation: p.ip_reputation, domainReputation: p.domain_reputation, spf: p.spf_rate, dkim: p.dkim_rate, dmarc: p.dmarc_rate, tls: p.tls_rate })),
    };
  };
}

export type Report = NonNullable<Awaited<ReturnType<ReturnType<typeof createReport>>>>;

// After each rollup pass, the rules look at what changed: a tenant's day
// against its profiles (MJ-1), a sending domain's Gmail-bound day (GM-10), a
// running campaign since it started (the circuit breakers), an
// organizational domain's Gmail-bound 24 hours (GM-1). A crossing is
// recorded once per rule, scope and window (a unique index, so several
// processes agree), takes its step on the ladder, and acts (effects.ts).
// A periodic sweep re-checks what can end by itself: a bulk domain's missing
// requirements once they are met, a Gmail pause once the 7-day recovery
// window is complete.
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { ReputationStore } from './store.ts';
import type { Effects } from './effects.ts';
import type { Controls } from './controls.ts';
import type { Touched } from './rollup.ts';
import { SEP } from './rollup.ts';
import { sumCounts } from './indicators.ts';
import { rulesOf, type Thresholds } from './thresholds.ts';
import {
  acting, addDays, checkRules, DAY_MS, ladderStep, missingRequirements, recoveryWindow, rollingCount, utcDay, type Check,
} from './rules.ts';
import { getDomain } from 'tldts';
import { newId } from '../ids.ts';

export interface ActOptions {
  store: ReputationStore;
  effects: Effects;
  controls: Controls;
  clock: Clock;
  logger: Logger;
  thresholds: Thresholds;
  /** profiles of tenants without their own */
  defaultProfiles: string[];
  /** TLS policy towards Google as configured (GM-7) */
  googleTls(): 'required' | 'opportunistic';
}

export const BULK_RULE = 'gm.bulk';
export const REQUIREMENTS_RULE = 'gm.bulk-requirements';
export const GMAIL_PAUSE_RULE = 'gm.spam-critical';

const pct = (v: number | null) => (v === null ? 'n/a' : `${+(v * 100).toPrecision(3)} %`);
const fmt = (c: Check) => (c.indicator === 'complaints' || c.indicator === 'trapsAndAbuse' ? String(c.value) : pct(c.value));
const lineOf = (c: Check) => (c.indicator === 'complaints' || c.indicator === 'trapsAndAbuse' ? String(c.threshold) : pct(c.threshold));

export function reasonOf(c: Check, window: string): string {
  const vol = c.volume !== null && c.volumeOf ? ` (${c.volume} ${c.volumeOf})` : '';
  return `${c.rule}: ${c.indicator} ${fmt(c)} ${c.op} ${lineOf(c)} on ${window}${vol}${c.note ? `; ${c.note}` : ''}`;
}

export function createActor(o: ActOptions) {
  const { store, effects, clock } = o;
  const log = o.logger.child({ component: 'reputation' });
  /** one scope's failure is logged and does not keep the others from being looked at (the counters are committed already) */
  const guard = (about: Record<string, unknown>, fn: () => Promise<void>) => fn().catch((err) => log.error({ err, ...about }, 'reputation: a rule could not be evaluated'));
  const tenantProfiles = async (tenantId: string) => {
    const c = await store.controls(tenantId);
    return c?.profiles ? (JSON.parse(c.profiles) as string[]) : o.defaultProfiles;
  };

  /** Records a crossing with its laddered step and carries the step out; the scope says what a pause pauses. */
  async function act(tenantId: string, scope: 'tenant' | 'gmail' | 'campaign', key: string, c: Check, window: string): Promise<void> {
    const since = clock.now() - o.thresholds.escalation.days * DAY_MS;
    const earlier = scope === 'campaign' ? 0 : await store.earlierCrossings(tenantId, scope, key, c.rule, window, since);
    const step = ladderStep(c.step, earlier);
    const reason = reasonOf(c, window.replace(/^day:/, '')) + (step !== c.step ? ` — crossed on ${earlier} earlier day(s): ${c.step} → ${step}` : '');
    const recorded = await effects.record({
      tenant_id: tenantId, scope, scope_key: key, rule: c.rule, step, indicator: c.indicator, value: c.value, threshold: c.threshold,
      volume: c.volume, min_volume: c.minVolume, window, profile: c.profile, reason, actor: 'system',
    });
    if (!recorded) return;
    switch (step) {
      case 'warn':
        return;
      case 'throttle':
        return effects.throttle(tenantId, 'system');
      case 'pause':
        if (scope === 'campaign') await effects.pauseCampaign(key, `reputation: ${reason}`);
        else if (scope === 'gmail') await pauseGoogle(tenantId, key, c.rule, reason);
        else await effects.pauseCampaigns(tenantId, `reputation: ${reason}`);
        return;
      case 'suspend':
        await effects.suspend(tenantId, reason, { actor: 'system' });
    }
  }

  async function pauseGoogle(tenantId: string, domainId: string, rule: string, reason: string): Promise<void> {
    await store.openPause({ id: newId('rpp', clock.now()), tenant_id: tenantId, domain_id: domainId, provider: 'google', rule, reason, since: clock.now() });
    o.controls.forget(tenantId);
  }

  async function tenantDay(tenantId: string, day: string): Promise<void> {
    const rows = await store.countersOf(tenantId, 'tenant', '', day);
    const counts = sumCounts(rows.filter((r) => r.day === day));
    const rules = rulesOf(o.thresholds, await tenantProfiles(tenantId)).filter((r) => r.rule.scope === 'tenant');
    for (const c of acting(checkRules(rules, counts))) await act(tenantId, 'tenant', '', c, `day:${day}`);
  }

  async function gmailDay(tenantId: string, day: string, domainId: string): Promise<void> {
    const rows = await store.countersOf(tenantId, 'gmail', domainId, day);
    const counts = sumCounts(rows.filter((r) => r.day === day));
    const rules = rulesOf(o.thresholds, await tenantProfiles(tenantId)).filter((r) => r.rule.scope === 'gmail');
    for (const c of acting(checkRules(rules, counts))) await act(tenantId, 'gmail', domainId, c, `day:${day}`);
  }

  /** A campaign still sending (the caller looked), since it started. */
  async function breaker(tenantId: string, campaignId: string): Promise<void> {
    const counts = sumCounts(await store.countersOf(tenantId, 'campaign', campaignId));
    const checks = checkRules(o.thresholds.breakers.rules.map((rule) => ({ profile: 'breaker', rule })), counts);
    for (const c of acting(checks)) await act(tenantId, 'campaign', campaignId, c, 'campaign');
  }

  /** GM-1: each organizational domain's Gmail-bound messages over the 24 h ending at its latest one; one query for all. */
  async function bulk(orgs: Touched['orgs']): Promise<void> {
    const known = new Set((await store.bulkDomains([...orgs.keys()])).map((b) => b.org_domain));
    const open = [...orgs].filter(([org]) => !known.has(org));
    if (!open.length) return;
    const windowMs = o.thresholds.bulk.windowHours * 3600_000;
    const minutes = await store.gmailMinutes(open.map(([org]) => org), Math.min(...open.map(([, s]) => s.at)) - windowMs, Math.max(...open.map(([, s]) => s.at)));
    for (const [org, seen] of open) {
      const count = rollingCount(minutes.filter((m) => m.org_domain === org), seen.at, windowMs);
      if (count >= o.thresholds.bulk.messages) await markBulk(org, seen.tenantId, seen.at, count);
    }
  }

  async function markBulk(org: string, tenantId: string, at: number, count: number): Promise<void> {
    if (!(await store.markBulk(org, at, count, tenantId))) return;
    const owners = new Set((await store.domainsWithKeys()).filter((d) => (getDomain(d.name) ?? d.name) === org).map((d) => d.tenantId));
    owners.add(tenantId);
    for (const t of owners) {
      await effects.record({
        tenant_id: t, scope: 'bulk', scope_key: org, rule: BULK_RULE, step: 'bulk', indicator: 'gmailMessages24h', value: count, threshold: o.thresholds.bulk.messages,
        window: '24h', reason: `${org} sent ${count} messages to personal Gmail accounts in 24 h: a bulk sender from now on, for good (GM-1)`, actor: 'system',
      });
    }
    await requirements([org]);
  }

  /** A bulk domain missing a GM requirement has its marketing to Google paused, with what is missing; met again, the pause lifts. */
  async function requirements(orgs: string[]): Promise<void> {
    if (!orgs.length) return;
    const open = await store.openPauses(null);
    const domains = (await store.domainsWithKeys()).filter((d) => orgs.includes(getDomain(d.name) ?? d.name));
    for (const d of domains) {
      const missing = missingRequirements({ domain: d.name, dkimKey: d.dkimKey, verified: d.verified, oneClickUnsubscribe: true, googleTls: o.googleTls() });
      const pause = open.find((p) => p.domain_id === d.id && p.rule === REQUIREMENTS_RULE);
      if (missing.length && !pause) {
        const reason = `bulk sender (GM-1) missing: ${missing.join('; ')}`;
        await store.openPause({ id: newId('rpp', clock.now()), tenant_id: d.tenantId, domain_id: d.id, provider: 'google', rule: REQUIREMENTS_RULE, reason, since: clock.now() });
        await effects.record({ tenant_id: d.tenantId, scope: 'gmail', scope_key: d.id, rule: REQUIREMENTS_RULE, step: 'pause', window: `day:${utcDay(clock.now())}`, reason, actor: 'system' });
        o.controls.forget(d.tenantId);
      } else if (!missing.length && pause && (await store.liftPause(pause.id, clock.now(), 'system'))) {
        await effects.record({ tenant_id: d.tenantId, scope: 'gmail', scope_key: d.id, rule: REQUIREMENTS_RULE, step: 'lift', window: pause.id, reason: `${d.name} meets the bulk-sender requirements now: marketing to Google resumes`, actor: 'system' });
        o.controls.forget(d.tenantId);
      }
    }
  }

  /** A Gmail pause lifts once the domain has had the required consecutive days under the line (GM-10). */
  async function recoveries(): Promise<void> {
    const today = utcDay(clock.now());
    for (const p of (await store.openPauses(null)).filter((x) => x.rule === GMAIL_PAUSE_RULE)) {
      const rows = await store.countersOf(p.tenant_id, 'gmail', p.domain_id, addDays(today, -31));
      const r = recoveryWindow(rows.map((x) => ({ day: x.day, delivered: x.delivered, complained: x.complained })), today, o.thresholds.recovery, 30, utcDay(p.since));
      if (r.eligible && r.eligibleOn !== null && r.eligibleOn <= today && (await store.liftPause(p.id, clock.now(), 'system'))) {
        await effects.record({
          tenant_id: p.tenant_id, scope: 'gmail', scope_key: p.domain_id, rule: GMAIL_PAUSE_RULE, step: 'lift', window: p.id,
          reason: `${p.domain}: ${r.streak} consecutive days under ${o.thresholds.recovery.rate * 100} % at Gmail: marketing to Google resumes (GM-10)`, actor: 'system',
        });
        o.controls.forget(p.tenant_id);
      }
    }
  }

  return {
    /** The rules on what a pass changed; only days from yesterday on act (a first rollup over an old log does not punish history). */
    async evaluate(t: Touched): Promise<void> {
      const floor = addDays(utcDay(clock.now()), -1);
      for (const k of t.tenantDays) {
        const [tenantId, day] = k.split(SEP);
        if (day >= floor) await guard({ tenantId, day }, () => tenantDay(tenantId, day));
      }
      for (const k of t.gmailDays) {
        const [tenantId, day, domainId] = k.split(SEP);
        if (day >= floor) await guard({ tenantId, day, domainId }, () => gmailDay(tenantId, day, domainId));
      }
      const campaigns = [...t.campaigns].map((k) => k.split(SEP) as [string, string]);
      const sending = new Set((await store.campaignStatuses(campaigns.map(([, id]) => id))).filter((c) => c.status === 'sending').map((c) => c.id));
      for (const [tenantId, campaignId] of campaigns) if (sending.has(campaignId)) await guard({ tenantId, campaignId }, () => breaker(tenantId, campaignId));
      if (t.orgs.size) await guard({ orgs: [...t.orgs.keys()] }, () => bulk(t.orgs));
    },

    /** What may end by itself: requirements met again, a recovery window complete. */
    async sweep(): Promise<void> {
      const open = await store.openPauses(null);
      const orgs = [...new Set(open.filter((p) => p.rule === REQUIREMENTS_RULE).map((p) => getDomain(p.domain) ?? p.domain))];
      await requirements(orgs);
      await recoveries();
    },

    requirements,
  };
}

export type Actor = ReturnType<typeof createActor>;

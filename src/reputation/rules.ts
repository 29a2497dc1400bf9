// The pure rules of reputation: a threshold rule checked against counters
// (with the minimum volume it needs and the line it uses), which crossings
// act, the ladder (a rule crossed again within the escalation window takes
// the next step), Gmail's recovery window (GM-10), the rolling 24 h count of
// the bulk-sender status (GM-1) and the GM requirements a bulk domain must
// meet. Inputs in, decision out, no IO; table-tested.
import { indicatorsOf, type Counts } from './indicators.ts';
import { STEPS, type Rule, type Step, type Thresholds } from './thresholds.ts';

export const DAY_MS = 24 * 3600_000;
export const MINUTE_MS = 60_000;
export const utcDay = (t: number): string => new Date(t).toISOString().slice(0, 10);
export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day: string, n: number): string => utcDay(dayStart(day) + n * DAY_MS);

export interface Check {
  rule: string;
  profile: string;
  indicator: Rule['indicator'];
  /** the indicator's value; null when nothing was sent to compute it on */
  value: number | null;
  op: Rule['op'];
  /** the line used: the rule's, or the 1 % one when unsubscribes exceed clicks */
  threshold: number;
  /** the volume the minimum applies to, what it counts, and the minimum (null when the rule needs none) */
  volume: number | null;
  volumeOf: 'sent' | 'delivered' | null;
  minVolume: number | null;
  state: 'ok' | 'over' | 'insufficient' | 'unknown';
  step: Step;
  /** why this line (the unsubscribe switch), for people */
  note?: string;
}

export function checkRule(rule: Rule, c: Counts, profile: string): Check {
  const ind = indicatorsOf(c);
  const value = ind[rule.indicator];
  const switched = rule.whenUnsubscribesExceedClicks !== undefined && ind.unsubscribesExceedClicks;
  const threshold = switched ? rule.whenUnsubscribesExceedClicks! : rule.value;
  const volume = rule.minVolume ? c[rule.minVolume.of] : null;
  const minVolume = rule.minVolume?.atLeast ?? null;
  const base = { rule: rule.id, profile, indicator: rule.indicator, value, op: rule.op, threshold, volume, volumeOf: rule.minVolume?.of ?? null, minVolume, step: rule.step,
    ...(switched ? { note: `unsubscribes (${c.unsubscribed}) exceed clicks (${c.clicked}): the line is ${threshold * 100} %` } : {}) };
  if (volume !== null && minVolume !== null && volume < minVolume) return { ...base, state: 'insufficient' };
  if (value === null) return { ...base, state: 'unknown' };
  const over = rule.op === '>' ? value > threshold : value >= threshold;
  return { ...base, state: over ? 'over' : 'ok' };
}

export function checkRules(rules: { profile: string; rule: Rule }[], c: Counts): Check[] {
  return rules.map(({ profile, rule }) => checkRule(rule, c, profile));
}

const rank = (s: Step): number => STEPS.indexOf(s);

/**
 * The crossings that act: of several crossed rules on one indicator (0.1 %
 * and 0.3 % of Gmail's rate, mailjet and a stricter profile) only the one
 * with the highest step, so each crossing triggers exactly one step.
 */
export function acting(checks: Check[]): Check[] {
  const best = new Map<string, Check>();
  for (const c of checks) {
    if (c.state !== 'over') continue;
    const prior = best.get(c.indicator);
    if (!prior || rank(c.step) > rank(prior.step)) best.set(c.indicator, c);
  }
  return [...best.values()];
}

/** The ladder: a first crossing takes its rule's step; each earlier day the same rule was crossed (within the escalation window) one more, up to suspend. */
export function ladderStep(ruleStep: Step, earlierCrossings: number): Step {
  return STEPS[Math.min(rank(ruleStep) + Math.max(0, earlierCrossings), STEPS.length - 1)];
}

export interface DayVolume {
  day: string;
  delivered: number;
  complained: number;
}

export interface Recovery {
  /** consecutive judged days under the line, ending yesterday */
  streak: number;
  /** the last day at or over the line in the data, if any */
  lastBadDay: string | null;
  /** the streak has reached the days required, or there is no bad day to recover from */
  eligible: boolean;
  /** when mitigation can be asked for: the day after the streak's last required day, or projected from today */
  eligibleOn: string | null;
  /** each day judged, newest first (below the minimum volume: not judged, neither counts nor breaks the streak) */
  days: { day: string; rate: number | null; verdict: 'good' | 'bad' | 'not judged' }[];
}

/**
 * GM-10's recovery window on one domain's Gmail-bound days: complete UTC
 * days before `today`, walked back from yesterday until a bad day.
 * `knownBad`: a day known to be bad whatever the data says so far (the day a
 * pause began, which may be today).
 */
export function recoveryWindow(history: DayVolume[], today: string, r: Thresholds['recovery'], lookbackDays = 30, knownBad?: string): Recovery {
  const byDay = new Map(history.map((h) => [h.day, h]));
  const days: Recovery['days'] = [];
  const goods: string[] = [];
  let lastBadDay: string | null = null;
  if (knownBad && knownBad >= today) lastBadDay = knownBad;
  for (let i = 1; i <= lookbackDays && lastBadDay === null; i++) {
    const day = addDays(today, -i);
    if (knownBad && day <= knownBad) {
      lastBadDay = knownBad;
      break;
    }
    const h = byDay.get(day);
    if (!h || h.delivered < Math.max(1, r.minVolume)) {
      days.push({ day, rate: h && h.delivered ? h.complained / h.delivered : null, verdict: 'not judged' });
      continue;
    }
    const rate = h.complained / h.delivered;
    if (rate < r.rate) {
      days.push({ day, rate, verdict: 'good' });
      goods.push(day);
      continue;
    }
    days.push({ day, rate, verdict: 'bad' });
    lastBadDay = day;
    break;
  }
  const streak = goods.length;
  if (lastBadDay === null) {
    return { streak, lastBadDay, eligible: true, eligibleOn: null, days };
  }
  if (streak >= r.days) {
    const oldestFirst = [...goods].reverse();
    return { streak, lastBadDay, eligible: true, eligibleOn: addDays(oldestFirst[r.days - 1], 1), days };
  }
  // projected: from today on (from tomorrow when today is the bad day), every day under the line
  return { streak, lastBadDay, eligible: false, eligibleOn: addDays(today, r.days - streak + (lastBadDay >= today ? 1 : 0)), days };
}

/** Gmail-bound messages in the rolling window ending at `end`, from per-minute buckets (a bucket counts when it overlaps the window). */
export function rollingCount(buckets: { minute: number; count: number }[], end: number, windowMs: number): number {
  let n = 0;
  for (const b of buckets) if (b.minute > end - windowMs - MINUTE_MS && b.minute <= end) n += b.count;
  return n;
}

export const isGmailAddress = (address: string, gmailDomains: readonly string[]): boolean => {
  const at = address.lastIndexOf('@');
  return at >= 0 && gmailDomains.includes(address.slice(at + 1).toLowerCase());
};

/** What envoi knows of a bulk domain's GM requirements from its own state. */
export interface BulkFacts {
  domain: string;
  /** an active DKIM key: every message is signed (GM-2, GM-4) */
  dkimKey: boolean;
  /** the domain's records were checked and found (`envoi domain verify`): SPF, DKIM and DMARC published (GM-2, GM-8) */
  verified: boolean;
  /** RFC 8058 one-click unsubscribe on marketing (GM-9): always on for campaigns */
  oneClickUnsubscribe: boolean;
  /** TLS required on the way to Google (GM-7): the provider profile, with configured overrides */
  googleTls: 'required' | 'opportunistic';
}

/** The GM requirements a bulk domain misses, in plain words; empty when it meets them all. */
export function missingRequirements(f: BulkFacts): string[] {
  const out: string[] = [];
  if (!f.dkimKey) out.push(`DKIM signing: ${f.domain} has no active DKIM key`);
  if (!f.verified) out.push(`SPF, DKIM and DMARC records: ${f.domain} is not verified (publish its records, then envoi domain verify)`);
  if (!f.oneClickUnsubscribe) out.push('one-click unsubscribe (RFC 8058) on marketing');
  if (f.googleTls !== 'required') out.push('TLS: delivery.providers.google.tls must stay "required"');
  return out;
}

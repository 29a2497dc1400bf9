// The threshold profiles (policy/data/reputation-thresholds.json), validated
// once with zod, with the configured step overrides applied. Pure.
import { z } from 'zod';
import data from '../policy/data/reputation-thresholds.json' with { type: 'json' };
import { INDICATOR_NAMES, type IndicatorName } from './indicators.ts';

export const STEPS = ['warn', 'throttle', 'pause', 'suspend'] as const;
export type Step = (typeof STEPS)[number];

const step = z.enum(STEPS);
const rule = z.strictObject({
  id: z.string().regex(/^[a-z]+\.[a-z-]+$/),
  scope: z.enum(['tenant', 'gmail', 'campaign']),
  indicator: z.enum(INDICATOR_NAMES as [IndicatorName, ...IndicatorName[]]),
  op: z.enum(['>', '>=']),
  value: z.number().nonnegative(),
  /** the line when unsubscribes exceed clicks (MJ-1's 1 %) */
  whenUnsubscribesExceedClicks: z.number().nonnegative().optional(),
  minVolume: z.strictObject({ of: z.enum(['sent', 'delivered']), atLeast: z.number().int().positive() }).optional(),
  step,
  source: z.string().min(10),
});
const file = z.strictObject({
  _comment: z.string(),
  version: z.string(),
  gmailDomains: z.array(z.string()).min(1),
  bulk: z.strictObject({ messages: z.number().int().positive(), windowHours: z.number().positive(), source: z.string() }),
  recovery: z.strictObject({ rate: z.number().positive(), days: z.number().int().positive(), minVolume: z.number().int().nonnegative(), source: z.string() }),
  profiles: z.record(z.string(), z.strictObject({ description: z.string(), rules: z.array(rule).min(1) })),
  breakers: z.strictObject({ description: z.string(), rules: z.array(rule).min(1) }),
  escalation: z.strictObject({ days: z.number().int().positive(), note: z.string() }),
});

export type Rule = z.infer<typeof rule>;
export type Thresholds = z.infer<typeof file>;

/** The shipped thresholds; throws at start when the data file is malformed (a test checks it). */
export function loadThresholds(raw: unknown = data): Thresholds {
  const t = file.parse(raw);
  const ids = [...Object.values(t.profiles).flatMap((p) => p.rules), ...t.breakers.rules].map((r) => r.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new Error(`reputation thresholds: rule ${dup} appears twice`);
  return t;
}

/** Every rule id, for validating configuration. */
export const ruleIds = (t: Thresholds): string[] => [...Object.values(t.profiles).flatMap((p) => p.rules), ...t.breakers.rules].map((r) => r.id);

/** The thresholds with configured steps (reputation.steps: rule id → step); an unknown id is a configuration error. */
export function withSteps(t: Thresholds, steps: Record<string, Step>): Thresholds {
  const known = new Set(ruleIds(t));
  const unknown = Object.keys(steps).filter((id) => !known.has(id));
  if (unknown.length) throw new Error(`reputation.steps: unknown rule ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  const apply = (r: Rule): Rule => (steps[r.id] ? { ...r, step: steps[r.id] } : r);
  return {
    ...t,
    profiles: Object.fromEntries(Object.entries(t.profiles).map(([name, p]) => [name, { ...p, rules: p.rules.map(apply) }])),
    breakers: { ...t.breakers, rules: t.breakers.rules.map(apply) },
  };
}

/** The rules of the named profiles (unknown names are ignored: the operator API refuses them). */
export function rulesOf(t: Thresholds, profiles: readonly string[]): { profile: string; rule: Rule }[] {
  return profiles.flatMap((name) => (t.profiles[name]?.rules ?? []).map((r) => ({ profile: name, rule: r })));
}

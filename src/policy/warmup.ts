// Warm-up (GM-13): a new IP pool or sending domain earns its volume at each
// provider day by day. The caller keeps one ramp index per (IP pool, sending
// domain, provider), 0 on the first day. Each day it calls dailyBudget and
// nextRampDay with that index and the previous day's health: the first is
// today's volume, the second is the index to store for tomorrow. The index
// only advances on healthy days, so a doubtful day holds the volume and a
// bad one steps it back. Pure.

export interface WarmupSchedule {
  /** messages on day 0 */
  start: number;
  /** multiplier per healthy day (1.5 to 2 is usual) */
  growth: number;
  /** the ramp ends here; none means no cap once warmed */
  max?: number;
}

export interface WarmupHealth {
  /** hard bounces / sent over the last day, as a fraction (0.05 = 5 %) */
  bounceRate: number;
  /** complaints / delivered over the last day, as a fraction (0.001 = 0.1 %) */
  complaintRate: number;
}

/** A few hundred a day, half as much again each healthy day: about 5,000 a
 * day after a week, the cap after about two. */
export const DEFAULT_WARMUP: Readonly<Required<WarmupSchedule>> = Object.freeze({ start: 300, growth: 1.5, max: 100_000 });

/** Above these, the ramp holds (GM-10's 0.1 % warning; 5 % bounces means a
 * stale list). */
export const HOLD_AT = Object.freeze({ bounceRate: 0.05, complaintRate: 0.001 });
/** From these, it steps back (0.3 % is where Gmail stops mitigating). */
export const STEP_BACK_AT = Object.freeze({ bounceRate: 0.1, complaintRate: 0.003 });

export type WarmupVerdict = 'grow' | 'hold' | 'step-back';

/** How a day's health moves the ramp. Unknown rates (NaN) hold: no data is
 * no proof of health. */
export function warmupVerdict(health: WarmupHealth): WarmupVerdict {
  const { bounceRate: b, complaintRate: c } = health;
  if (!Number.isFinite(b) || !Number.isFinite(c)) return 'hold';
  if (b >= STEP_BACK_AT.bounceRate || c >= STEP_BACK_AT.complaintRate) return 'step-back';
  if (b > HOLD_AT.bounceRate || c > HOLD_AT.complaintRate) return 'hold';
  return 'grow';
}

function level(schedule: WarmupSchedule, index: number): number {
  const raw = schedule.start * schedule.growth ** Math.max(0, index);
  // The epsilon absorbs float noise (674.9999…) before flooring.
  const n = Math.floor(raw + 1e-9);
  return Math.min(n, schedule.max ?? Number.POSITIVE_INFINITY);
}

/** Messages allowed on ramp day `dayIndex` given the latest health: the
 * day's level when healthy, the previous day's when holding, two levels
 * back when stepping back (never below day 0's). */
export function dailyBudget(schedule: WarmupSchedule, dayIndex: number, health: WarmupHealth): number {
  const day = Number.isFinite(dayIndex) ? Math.max(0, Math.floor(dayIndex)) : 0;
  const verdict = warmupVerdict(health);
  const index = verdict === 'grow' ? day : verdict === 'hold' ? day - 1 : day - 2;
  return level(schedule, index);
}

/** The day index to store for tomorrow: one more after a healthy day, the
 * same after a doubtful one, one less after a bad one. */
export function nextRampDay(dayIndex: number, health: WarmupHealth): number {
  const day = Number.isFinite(dayIndex) ? Math.max(0, Math.floor(dayIndex)) : 0;
  const verdict = warmupVerdict(health);
  return verdict === 'grow' ? day + 1 : verdict === 'hold' ? day : Math.max(0, day - 1);
}

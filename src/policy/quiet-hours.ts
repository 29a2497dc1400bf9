// Quiet hours (AF-9): marketing is not started during a provider's busy
// local hours (15:00-22:00 Europe/Paris at the French ISPs) and is preferred
// in its calm ones (00:00-07:00). Pure: the instant is passed in; local time
// comes from Intl, so daylight saving time is the runtime's tz database's
// business, not ours. Windows may cross midnight ("22:00" to "07:00").

export interface QuietHours {
  timeZone: string;
  /** local "HH:MM", inclusive */
  from: string;
  /** local "HH:MM", exclusive */
  to: string;
  /** the hours to prefer for bulk sending */
  preferred?: { from: string; to: string };
}

const MINUTE = 60_000;
const DAY = 86_400_000;

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

// One formatter per zone: building them is the expensive part of Intl.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall-clock time of an instant in a zone. */
function wall(t: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour % 24, mi: parts.minute, s: parts.second };
}

/** A wall time as if it were UTC: comparable, and offset = wallMs - t. */
function wallMs(w: Wall): number {
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
}

function minutesOf(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`quiet hours: "${hhmm}" is not HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** [from, to) in minutes of the day; from > to wraps past midnight; from = to is no window. */
function inWindow(minute: number, from: number, to: number): boolean {
  if (from === to) return false;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

function localMinute(now: number, timeZone: string): number {
  const w = wall(now, timeZone);
  return w.h * 60 + w.mi;
}

/** Is marketing to be held at this instant? */
export function inQuietHours(now: number, q: QuietHours): boolean {
  return inWindow(localMinute(now, q.timeZone), minutesOf(q.from), minutesOf(q.to));
}

/** Is this instant in the provider's preferred hours for bulk sending? */
export function inPreferredHours(now: number, q: QuietHours): boolean {
  if (!q.preferred) return false;
  return inWindow(localMinute(now, q.timeZone), minutesOf(q.preferred.from), minutesOf(q.preferred.to));
}

/** The instants at which the wall clock of a zone shows a given date and
 * minute: usually one, two when clocks go back, and, when clocks jump over
 * it, the instant of the jump (the first moment at or after that time). */
function instantsAt(y: number, mo: number, d: number, minute: number, timeZone: string): number[] {
  const target = Date.UTC(y, mo - 1, d, Math.floor(minute / 60), minute % 60);
  // The offsets in force a day either side and at the guess cover any one
  // transition near the target.
  const offsets = new Set([-DAY, 0, DAY].map((dt) => wallMs(wall(target + dt, timeZone)) - Math.floor((target + dt) / 1000) * 1000));
  const found = [...new Set([...offsets].map((o) => target - o))].filter((t) => wallMs(wall(t, timeZone)) === target).sort((a, b) => a - b);
  if (found.length) return found;
  // A gap: search the jump between the two readings, to the minute.
  let lo = target - Math.max(...offsets);
  let hi = target - Math.min(...offsets);
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (wallMs(wall(mid, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  return [hi];
}

/** The instant from which marketing may start again: now when outside the
 * quiet hours, else the next time the local clock reaches `to`. */
export function nextAllowed(now: number, q: QuietHours): number {
  if (!inQuietHours(now, q)) return now;
  const to = minutesOf(q.to);
  const today = wall(now, q.timeZone);
  for (let day = 0; day <= 2; day++) {
    // Calendar arithmetic on the local date, done in UTC so no zone interferes.
    const date = new Date(Date.UTC(today.y, today.mo - 1, today.d + day));
    const next = instantsAt(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), to, q.timeZone).find((t) => t > now);
    if (next !== undefined) return next;
  }
  throw new Error('nextAllowed: no end of quiet hours within two days'); // unreachable for a valid window
}

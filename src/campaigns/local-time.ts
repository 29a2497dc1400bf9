// Scheduling in the tenant's time zone: "2026-12-01T09:00" in Europe/Paris is
// an instant that depends on the date (CET or CEST). Pure, with Intl doing the
// zone rules; no dependency needed for this one conversion.

/** The UTC offset (ms) of a zone at an instant. */
function offsetAt(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * "YYYY-MM-DDTHH:MM[:SS]" read as wall-clock time in `timeZone`; an input
 * with its own offset or Z is taken as it is. null when it is not a date.
 */
export function localToUtc(input: string, timeZone: string): number | null {
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(input)) {
    const t = Date.parse(input);
    return Number.isNaN(t) ? null : t;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(input);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  // two passes settle the offset across a DST change
  let utc = wall - offsetAt(wall, timeZone);
  utc = wall - offsetAt(utc, timeZone);
  return utc;
}

// Checks the policy data files and the tenant profile share: a regular
// expression that compiles, an IANA time zone Intl knows.
import { z } from 'zod';

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The source of a case-insensitive regular expression, as the data files write it. */
export const regexSource = z.string().min(1).refine((s) => {
  try {
    new RegExp(s, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

export const timeZone = z.string().refine(isTimeZone, 'unknown time zone');

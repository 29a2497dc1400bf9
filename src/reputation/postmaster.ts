// Google Postmaster Tools figures (GM-14), read from a CSV export so they
// can be shown beside envoi's own. Google's exports and the API's traffic
// stats name the same figures differently ("User reported spam rate",
// userReportedSpamRatio); headers are matched without case, spaces or
// punctuation, and the columns this file does not know are ignored. Rates
// are read as given: "0.12%" is 0.0012; a bare number is a fraction when at
// most 1, a percentage above. Pure.
import { parse } from 'csv-parse/sync';

export interface PostmasterDay {
  day: string;
  spamRate: number | null;
  ipReputation: string | null;
  domainReputation: string | null;
  spf: number | null;
  dkim: number | null;
  dmarc: number | null;
  tls: number | null;
  deliveryErrors: string | null;
}

type Field = keyof PostmasterDay;

const ALIASES: Record<Field, string[]> = {
  day: ['date', 'day'],
  spamRate: ['userreportedspamrate', 'userreportedspamratio', 'spamrate', 'userreportedspam', 'spam'],
  ipReputation: ['ipreputation', 'ipreputations'],
  domainReputation: ['domainreputation'],
  spf: ['spfsuccessrate', 'spfsuccessratio', 'spfsuccess', 'spf', 'authenticatedtrafficspf'],
  dkim: ['dkimsuccessrate', 'dkimsuccessratio', 'dkimsuccess', 'dkim', 'authenticatedtrafficdkim'],
  dmarc: ['dmarcsuccessrate', 'dmarcsuccessratio', 'dmarcsuccess', 'dmarc', 'authenticatedtrafficdmarc'],
  tls: ['outboundencryptionrate', 'outboundencryptionratio', 'outboundencryption', 'tlsoutbound', 'encryptionoutbound', 'tls'],
  deliveryErrors: ['deliveryerrors', 'deliveryerror', 'errors'],
};
const RATES: Field[] = ['spamRate', 'spf', 'dkim', 'dmarc', 'tls'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const norm = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, '');
const blank = (v: string) => v === '' || /^(-|–|n\/?a|none|null)$/i.test(v);

/** A rate as a fraction; null when empty; undefined when not a rate. */
export function parseRate(raw: string): number | null | undefined {
  const v = raw.trim();
  if (blank(v)) return null;
  const m = /^(\d+(?:[.,]\d+)?|[.,]\d+)\s*(%)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1].replace(',', '.'));
  return m[2] || n > 1 ? n / 100 : n;
}

/** A day as YYYY-MM-DD; null when the text is no date this file knows. */
export function parseDay(raw: string): string | null {
  const v = raw.trim();
  let y: number, mo: number, d: number;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(v))) [y, mo, d] = [+m[1], +m[2], +m[3]];
  else if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(v))) [y, mo, d] = [+m[1], +m[2], +m[3]];
  else if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v))) [y, mo, d] = [+m[3], +m[1], +m[2]];
  else if ((m = /^([a-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})$/i.exec(v)) && MONTHS.includes(m[1].toLowerCase())) [y, mo, d] = [+m[3], MONTHS.indexOf(m[1].toLowerCase()) + 1, +m[2]];
  else if ((m = /^(\d{1,2}) ([a-z]{3})[a-z]*\.? (\d{4})$/i.exec(v)) && MONTHS.includes(m[2].toLowerCase())) [y, mo, d] = [+m[3], MONTHS.indexOf(m[2].toLowerCase()) + 1, +m[1]];
  else return null;
  const t = Date.UTC(y, mo - 1, d);
  const iso = new Date(t).toISOString().slice(0, 10);
  return iso === `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}` ? iso : null;
}

/** The days of an export, with a problem per line that could not be read. */
export function parsePostmasterCsv(text: string): { days: PostmasterDay[]; columns: Field[]; problems: string[] } {
  const problems: string[] = [];
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    return { days: [], columns: [], problems: [`not a CSV file: ${(e as Error).message}`] };
  }
  if (!records.length) return { days: [], columns: [], problems: ['the file is empty'] };
  const header = records[0].map(norm);
  const index = new Map<Field, number>();
  for (const [field, names] of Object.entries(ALIASES) as [Field, string[]][]) {
    const i = names.map((n) => header.indexOf(n)).find((x) => x >= 0);
    if (i !== undefined) index.set(field, i);
  }
  if (!index.has('day')) return { days: [], columns: [], problems: [`no date column in the header (${records[0].join(', ')})`] };
  if (index.size === 1) return { days: [], columns: ['day'], problems: ['no column with a Postmaster figure (spam rate, IP or domain reputation, SPF/DKIM/DMARC, encryption, delivery errors)'] };
  const byDay = new Map<string, PostmasterDay>();
  for (const [n, rec] of records.slice(1).entries()) {
    const line = n + 2;
    const cell = (f: Field) => (index.has(f) ? rec[index.get(f)!] ?? '' : '');
    const day = parseDay(cell('day'));
    if (!day) {
      problems.push(`line ${line}: "${cell('day')}" is not a date`);
      continue;
    }
    const row: PostmasterDay = { day, spamRate: null, ipReputation: null, domainReputation: null, spf: null, dkim: null, dmarc: null, tls: null, deliveryErrors: null };
    for (const f of RATES) {
      if (!index.has(f)) continue;
      const r = parseRate(cell(f));
      if (r === undefined) problems.push(`line ${line}: ${f} "${cell(f)}" is not a rate`);
      else (row as unknown as Record<string, number | null>)[f] = r;
    }
    for (const f of ['ipReputation', 'domainReputation', 'deliveryErrors'] as const) {
      const v = cell(f).trim();
      if (index.has(f) && !blank(v)) row[f] = v.slice(0, 500);
    }
    byDay.set(day, row);
  }
  return { days: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day)), columns: [...index.keys()], problems };
}

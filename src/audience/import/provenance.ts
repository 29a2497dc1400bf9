// Provenance of imported contacts (MJ-4, MJ-6): when, where and how each
// address was collected, for the whole file or per row (a row's own value
// wins over the file's). Pure: strings in, a checked provenance or the reason
// the row is refused out.
import { isIP } from 'node:net';
import type { ConsentSource, OptIn } from '../../store/schema.ts';

export const SOURCES: ConsentSource[] = ['form', 'api', 'import', 'contest', 'customer', 'other'];
export const METHODS: OptIn[] = ['single', 'confirmed', 'double', 'none'];

/** The provenance values a CSV column can carry, by their column-mapping name. */
export const PROVENANCE_KEYS = ['source', 'collected_at', 'method', 'consent_text', 'form_url', 'ip', 'user_agent', 'confirmed_at', 'relationship', 'informed_how'] as const;
export type ProvenanceKey = (typeof PROVENANCE_KEYS)[number];
export type RawProvenance = Partial<Record<ProvenanceKey, string>>;

/** File-wide provenance as the API and the CLI take it. */
export interface FileProvenance {
  source: string;
  /** ISO 8601; a time without a zone is read as UTC */
  collectedAt: string;
  method: string;
  consentText?: string;
  formUrl?: string;
  ip?: string;
  confirmedAt?: string;
  relationship?: string;
  informedHow?: string;
}

export interface Provenance {
  source: ConsentSource;
  collectedAt: number;
  method: OptIn;
  consentText: string | null;
  formUrl: string | null;
  ip: string | null;
  userAgent: string | null;
  confirmedAt: number | null;
  relationship: string | null;
  informedHow: string | null;
}

export type ProvenanceCheck = { ok: true; value: Provenance } | { ok: false; code: 'missing_provenance' | 'invalid_provenance'; detail: string };

export function fileProvenanceRaw(p: FileProvenance | undefined): RawProvenance {
  if (!p) return {};
  const raw: RawProvenance = {
    source: p.source, collected_at: p.collectedAt, method: p.method, consent_text: p.consentText, form_url: p.formUrl,
    ip: p.ip, confirmed_at: p.confirmedAt, relationship: p.relationship, informed_how: p.informedHow,
  };
  for (const k of PROVENANCE_KEYS) if (!raw[k]?.trim()) delete raw[k];
  return raw;
}

// ISO 8601 dates and date-times as spreadsheets and databases write them
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch ms of an ISO 8601 date or date-time; null when it is not one. No zone means UTC. */
export function parseTime(s: string): number | null {
  const m = ISO.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const z = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac.slice(0, 4)}${z}`);
  // Date.parse rolls 2026-02-31 over to March: a calendar check keeps it honest
  if (Number.isNaN(t) || new Date(Date.parse(`${y}-${mo}-${d}T00:00:00Z`)).getUTCDate() !== Number(d)) return null;
  return t;
}

/** A day of slack for clocks and time zones before a date counts as "in the future". */
const FUTURE_SLACK_MS = 86_400_000;

/** Checks one row's provenance: the row's values over the file's. */
export function checkProvenance(raw: RawProvenance, now: number): ProvenanceCheck {
  const missing: string[] = (['source', 'collected_at', 'method'] as const).filter((k) => !raw[k]);
  const method = raw.method?.trim().toLowerCase() as OptIn | undefined;
  if (method === 'none') {
    if (!raw.relationship) missing.push('relationship');
    if (!raw.informed_how) missing.push('informed_how');
  } else if (!raw.consent_text) missing.push('consent_text');
  if (missing.length) return { ok: false, code: 'missing_provenance', detail: `missing provenance: ${missing.join(', ')}` };
  const invalid = (detail: string): ProvenanceCheck => ({ ok: false, code: 'invalid_provenance', detail: `invalid provenance: ${detail}` });

  const source = raw.source!.trim().toLowerCase() as ConsentSource;
  if (!SOURCES.includes(source)) return invalid(`source "${clip(raw.source!)}" is not one of ${SOURCES.join(', ')}`);
  if (!METHODS.includes(method!)) return invalid(`method "${clip(raw.method!)}" is not one of ${METHODS.join(', ')}`);
  const collectedAt = parseTime(raw.collected_at!);
  if (collectedAt === null) return invalid(`collected_at "${clip(raw.collected_at!)}" is not an ISO 8601 date`);
  if (collectedAt > now + FUTURE_SLACK_MS) return invalid(`collected_at ${raw.collected_at} is in the future`);
  let confirmedAt: number | null = null;
  if (raw.confirmed_at) {
    confirmedAt = parseTime(raw.confirmed_at);
    if (confirmedAt === null) return invalid(`confirmed_at "${clip(raw.confirmed_at)}" is not an ISO 8601 date`);
    if (confirmedAt < collectedAt || confirmedAt > now + FUTURE_SLACK_MS) return invalid('confirmed_at is before collected_at or in the future');
  }
  if (raw.ip && !isIP(raw.ip.trim())) return invalid(`ip "${clip(raw.ip)}" is not an IPv4 or IPv6 address`);
  if (raw.form_url && !isHttpUrl(raw.form_url.trim())) return invalid(`form_url "${clip(raw.form_url)}" is not an http(s) URL`);
  return {
    ok: true,
    value: {
      source, collectedAt, method: method!, consentText: raw.consent_text ?? null, formUrl: raw.form_url?.trim() ?? null, ip: raw.ip?.trim() ?? null,
      userAgent: raw.user_agent ?? null, confirmedAt, relationship: raw.relationship ?? null, informedHow: raw.informed_how ?? null,
    },
  };
}

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

const clip = (s: string) => (s.length > 60 ? s.slice(0, 57) + '...' : s);

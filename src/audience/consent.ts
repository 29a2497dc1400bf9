// Consent records (MJ-5, MJ-6, AF-16, AF-17): what makes a subscription
// mailable, the proof an ESP or a regulator asks for, and the header that
// carries the consent with each marketing message. Pure functions; the
// records are written by subscriptions.ts and imports.
import type { ConsentRecord, ConsentSource, List, OptIn } from '../store/schema.ts';

export interface ConsentInput {
  source: ConsentSource;
  collectedAt?: number;
  formUrl?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** the words shown; default: the list's current consent text */
  consentText?: string | null;
  checkboxUnchecked?: boolean | null;
  separateConsent?: boolean | null;
  optIn: OptIn;
  confirmedAt?: number | null;
  relationship?: string | null;
  informedHow?: string | null;
  importId?: string | null;
}

/** Whether a consent record lets the list mail the contact, by the list's own rule. */
export function consentSatisfies(list: Pick<List, 'opt_in' | 'allow_relationship'>, c: Pick<ConsentRecord, 'opt_in' | 'confirmed_at' | 'relationship' | 'informed_how'>): boolean {
  if (c.opt_in === 'double' || c.opt_in === 'confirmed') return c.confirmed_at !== null;
  if (c.opt_in === 'single') return list.opt_in === 'single';
  return list.allow_relationship === 1 && !!c.relationship?.trim() && !!c.informed_how?.trim();
}

const OPT_IN_LABEL: Record<OptIn, string> = {
  single: 'single opt-in',
  confirmed: 'confirmed opt-in',
  double: 'double opt-in',
  none: 'no opt-in (existing relationship)',
};

export const optInLabel = (o: OptIn) => OPT_IN_LABEL[o];

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/**
 * The consent header of a marketing message (AF-17): when and how consent was
 * given, from which IP, and when it was confirmed. One line of ASCII, no
 * personal data beyond what the recipient gave themselves.
 */
export function consentHeaderValue(c: Pick<ConsentRecord, 'source' | 'opt_in' | 'collected_at' | 'ip' | 'confirmed_at' | 'confirm_ip'>): string {
  const parts = [`method=${c.opt_in}`, `source=${c.source}`, `date=${iso(c.collected_at)}`];
  if (c.ip) parts.push(`ip=${c.ip}`);
  if (c.confirmed_at !== null) parts.push(`confirmed=${iso(c.confirmed_at)}`);
  if (c.confirm_ip) parts.push(`confirm-ip=${c.confirm_ip}`);
  return parts.join('; ').replace(/[^\x20-\x7e]/g, '');
}

export const CONSENT_HEADER = 'X-Consent';

// Proof of consent (MJ-6): for one address, per list, when and how it was
// collected, from where, the exact words shown, how it was confirmed, or the
// relationship that stands in for opt-in. As data (JSON) here; the HTML page
// renders this same object.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { addressHash } from './address.ts';
import { optInLabel } from './consent.ts';

export interface ConsentProof {
  email: string;
  contactId: string;
  generatedAt: string;
  lists: {
    list: string;
    listId: string;
    status: string;
    subscribedAt: string | null;
    unsubscribedAt: string | null;
    quarantined: boolean;
    consent: {
      source: string;
      collectedAt: string;
      formUrl: string | null;
      ip: string | null;
      userAgent: string | null;
      consentText: string | null;
      consentTextSha256: string | null;
      checkboxUncheckedByDefault: boolean | null;
      separateFromOtherTerms: boolean | null;
      optIn: string;
      optInLabel: string;
      confirmedAt: string | null;
      confirmIp: string | null;
      confirmUserAgent: string | null;
      relationship: string | null;
      informedHow: string | null;
      importId: string | null;
    } | null;
    /** earlier consent records of the same (contact, list), oldest first */
    history: { collectedAt: string; source: string; optIn: string }[];
  }[];
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const bool = (n: number | null) => (n === null ? null : n === 1);

export async function consentProof(db: Kysely<Database>, tenantId: string, email: string, now: number, listRef?: string): Promise<ConsentProof | undefined> {
  const contact = await db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('address_hash', '=', addressHash(email)).where('status', '=', 'active').executeTakeFirst();
  if (!contact) return undefined;
  let subs = db.selectFrom('subscriptions as s').innerJoin('lists as l', 'l.id', 's.list_id')
    .select(['s.list_id', 'l.name', 's.status', 's.confirmed_at', 's.created_at', 's.unsubscribed_at', 's.quarantined', 's.consent_id'])
    .where('s.contact_id', '=', contact.id).orderBy('l.name');
  if (listRef) subs = subs.where((eb) => eb.or([eb('l.id', '=', listRef), eb('l.name', '=', listRef)]));
  const rows = await subs.execute();
  const records = await db.selectFrom('consent_records as r').leftJoin('consent_texts as t', 't.hash', 'r.consent_text_hash')
    .selectAll('r').select('t.text as consent_text').where('r.contact_id', '=', contact.id).orderBy('r.id').execute();
  return {
    email: contact.email!,
    contactId: contact.id,
    generatedAt: new Date(now).toISOString(),
    lists: rows.map((s) => {
      const r = records.find((x) => x.id === s.consent_id);
      return {
        list: s.name, listId: s.list_id, status: s.status, subscribedAt: iso(s.confirmed_at), unsubscribedAt: iso(s.unsubscribed_at), quarantined: s.quarantined === 1,
        consent: r ? {
          source: r.source, collectedAt: iso(r.collected_at)!, formUrl: r.form_url, ip: r.ip, userAgent: r.user_agent,
          consentText: r.consent_text, consentTextSha256: r.consent_text_hash,
          checkboxUncheckedByDefault: bool(r.checkbox_unchecked), separateFromOtherTerms: bool(r.separate_consent),
          optIn: r.opt_in, optInLabel: optInLabel(r.opt_in), confirmedAt: iso(r.confirmed_at), confirmIp: r.confirm_ip, confirmUserAgent: r.confirm_user_agent,
          relationship: r.relationship, informedHow: r.informed_how, importId: r.import_id,
        } : null,
        history: records.filter((x) => x.list_id === s.list_id && x.id !== s.consent_id).map((x) => ({ collectedAt: iso(x.collected_at)!, source: x.source, optIn: x.opt_in })),
      };
    }),
  };
}

// Subscriptions: one per (contact, list), with its status and the consent
// record that justifies it. "subscribed" is reached only when the consent
// satisfies the list's rule (consent.ts); otherwise the subscription waits
// "pending" for the confirmation link (double opt-in, MJ-5, AF-16).
import type { Kysely } from 'kysely';
import type { Database, ConsentRecord, Contact, List, Subscription } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { appendEvents } from '../events/log.ts';
import { storeConsentText } from './consent-texts.ts';
import { consentSatisfies, type ConsentInput } from './consent.ts';
import type { Contacts } from './contacts.ts';

export interface SubscribeOutcome {
  contact: Contact;
  subscription: Subscription;
  consent: ConsentRecord;
  /** true when a confirmation mail must be sent (double opt-in pending) */
  needsConfirmation: boolean;
  /** the contact was already subscribed: nothing changed */
  alreadySubscribed: boolean;
}

export function createSubscriptions(db: Kysely<Database>, clock: Clock, contacts: Contacts) {
  return {
    async subscribe(tenantId: string, list: List, email: string, fields: unknown, consent: ConsentInput): Promise<Result<SubscribeOutcome>> {
      if (list.tenant_id !== tenantId) return fail('not_found', 'no such list');
      const now = clock.now();
      return db.transaction().execute(async (trx): Promise<Result<SubscribeOutcome>> => {
        const c = await contacts.upsert(tenantId, email, fields, trx);
        if (!c.ok) return c;
        const existing = await trx.selectFrom('subscriptions').selectAll().where('list_id', '=', list.id).where('contact_id', '=', c.value.id).executeTakeFirst();
        if (existing?.status === 'subscribed') {
          const current = await trx.selectFrom('consent_records').selectAll().where('id', '=', existing.consent_id!).executeTakeFirstOrThrow();
          return ok({ contact: c.value, subscription: existing, consent: current, needsConfirmation: false, alreadySubscribed: true });
        }
        const record: ConsentRecord = {
          id: newId('cns', now), tenant_id: tenantId, contact_id: c.value.id, list_id: list.id, source: consent.source,
          collected_at: consent.collectedAt ?? now, form_url: consent.formUrl ?? null, ip: consent.ip ?? null, user_agent: consent.userAgent ?? null,
          consent_text_hash: consent.consentText ? await storeConsentText(trx, consent.consentText, now) : list.consent_text_hash,
          checkbox_unchecked: bool(consent.checkboxUnchecked), separate_consent: bool(consent.separateConsent), opt_in: consent.optIn,
          confirmed_at: consent.confirmedAt ?? null, confirm_ip: null, confirm_user_agent: null,
          relationship: consent.relationship ?? null, informed_how: consent.informedHow ?? null, import_id: consent.importId ?? null, created_at: now,
        };
        await trx.insertInto('consent_records').values(record).execute();
        const mailable = consentSatisfies(list, record);
        const sub: Subscription = {
          contact_id: c.value.id, list_id: list.id, tenant_id: tenantId, status: mailable ? 'subscribed' : 'pending', consent_id: record.id,
          quarantined: 0, import_id: consent.importId ?? null, created_at: existing?.created_at ?? now, confirmed_at: mailable ? (record.confirmed_at ?? now) : null,
          unsubscribed_at: null, updated_at: now,
        };
        await trx.insertInto('subscriptions').values(sub)
          .onConflict((oc) => oc.columns(['list_id', 'contact_id']).doUpdateSet({
            status: sub.status, consent_id: sub.consent_id, confirmed_at: sub.confirmed_at, unsubscribed_at: null, updated_at: now,
            // the person's own new consent supersedes a held import's record
            ...(consent.source !== 'import' ? { quarantined: 0, import_id: null } : {}),
          })).execute();
        await appendEvents(trx, [{ tenantId, messageId: c.value.id, type: 'subscribed', at: now, data: { list: list.name, status: sub.status, source: record.source, optIn: record.opt_in } }]);
        return ok({ contact: c.value, subscription: sub, consent: record, needsConfirmation: !mailable && list.opt_in === 'double' && record.opt_in !== 'none', alreadySubscribed: false });
      });
    },

    /**
     * The subscriber clicked the confirmation link. Idempotent: a second click
     * changes nothing. A later consent record (a newer sign-up) supersedes an
     * older link, which then changes nothing either.
     */
    async confirm(tenantId: string, listId: string, contactId: string, consentId: string, ip: string | null, userAgent: string | null): Promise<Result<'confirmed' | 'already'>> {
      const now = clock.now();
      return db.transaction().execute(async (trx): Promise<Result<'confirmed' | 'already'>> => {
        const sub = await trx.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).where('list_id', '=', listId).where('contact_id', '=', contactId).executeTakeFirst();
        if (!sub || sub.consent_id !== consentId) return fail('not_found', 'this confirmation link is no longer valid');
        if (sub.status === 'subscribed') return ok('already');
        if (sub.status === 'unsubscribed') return fail('conflict', 'this address unsubscribed since; sign up again to resubscribe');
        await trx.updateTable('consent_records').set({ opt_in: 'double', confirmed_at: now, confirm_ip: ip, confirm_user_agent: userAgent }).where('id', '=', consentId).execute();
        await trx.updateTable('subscriptions').set({ status: 'subscribed', confirmed_at: now, updated_at: now }).where('list_id', '=', listId).where('contact_id', '=', contactId).execute();
        // a confirmed sign-up lifts an earlier global unsubscribe, never a bounce or complaint
        const contact = await trx.selectFrom('contacts').select('address_hash').where('id', '=', contactId).executeTakeFirstOrThrow();
        await trx.deleteFrom('suppressions').where('tenant_id', '=', tenantId).where('address_hash', '=', contact.address_hash).where('reason', '=', 'unsubscribe').execute();
        await appendEvents(trx, [{ tenantId, messageId: contactId, type: 'confirmed', at: now, data: { list: listId, ip } }]);
        return ok('confirmed');
      });
    },

    /** Unsubscribes from one list, at once; idempotent. */
    async unsubscribe(tenantId: string, listId: string, contactId: string, source: string): Promise<Result<'unsubscribed' | 'already'>> {
      const now = clock.now();
      const res = await db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('subscriptions').set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
          .where('tenant_id', '=', tenantId).where('list_id', '=', listId).where('contact_id', '=', contactId).where('status', '!=', 'unsubscribed')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) await appendEvents(trx, [{ tenantId, messageId: contactId, type: 'unsubscribed', at: now, data: { list: listId, source } }]);
        return Number(r.numUpdatedRows);
      });
      if (res === 1) return ok('unsubscribed');
      const exists = await db.selectFrom('subscriptions').select('status').where('tenant_id', '=', tenantId).where('list_id', '=', listId).where('contact_id', '=', contactId).executeTakeFirst();
      return exists ? ok('already') : fail('not_found', 'no such subscription');
    },

    ofContact(tenantId: string, contactId: string) {
      return db.selectFrom('subscriptions as s').innerJoin('lists as l', 'l.id', 's.list_id')
        .select(['l.id as list_id', 'l.name as list', 's.status', 's.created_at', 's.confirmed_at', 's.unsubscribed_at', 's.quarantined', 's.consent_id'])
        .where('s.tenant_id', '=', tenantId).where('s.contact_id', '=', contactId).orderBy('l.name').execute();
    },
  };
}

const bool = (b: boolean | null | undefined) => (b === undefined || b === null ? null : b ? 1 : 0);

export type Subscriptions = ReturnType<typeof createSubscriptions>;

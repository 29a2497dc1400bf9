// Lists: what a contact subscribes to. Each has a fixed From (AF-14), an
// opt-in mode (double by default, MJ-5, AF-16) and the current consent text,
// stored once per version and referenced by hash (MJ-6).
import type { Kysely } from 'kysely';
import type { Database, List } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { isUniqueViolation } from '../store/connect.ts';
import { parseAddress, checkHeaderText } from '../compose/address.ts';
import { storeConsentText } from './consent-texts.ts';

export interface ListInput {
  name: string;
  description?: string;
  fromAddress: string;
  fromName: string;
  optIn?: 'double' | 'single';
  allowRelationship?: boolean;
  /** the exact words shown beside the consent box */
  consentText: string;
  stream?: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function createLists(db: Kysely<Database>, clock: Clock) {
  return {
    async create(tenantId: string, input: ListInput): Promise<Result<List>> {
      if (!NAME.test(input.name)) return fail('request.invalid', 'a list name is 1-63 characters: a-z, 0-9, _ and -', 'name');
      const from = parseAddress(input.fromAddress, 'fromAddress');
      if (!from.ok) return from;
      const fromName = checkHeaderText(input.fromName ?? '', 'fromName');
      if (!fromName.ok) return fromName;
      if (!input.fromName?.trim()) return fail('request.invalid', 'a From name is required: recipients recognise the sender by it (AF-15)', 'fromName');
      if (!input.consentText?.trim()) return fail('request.invalid', 'the consent text shown to subscribers is required (MJ-6)', 'consentText');
      const domain = from.value.domain;
      const owned = await db.selectFrom('domains').select('id').where('tenant_id', '=', tenantId).where('name', '=', domain).executeTakeFirst();
      if (!owned) return fail('message.from_not_verified', `${domain} is not a sending domain of this account`, 'fromAddress');
      const now = clock.now();
      const list: List = {
        id: newId('lst', now), tenant_id: tenantId, name: input.name, description: input.description ?? '',
        from_address: from.value.email, from_name: input.fromName.trim(), stream: input.stream ?? 'marketing',
        opt_in: input.optIn ?? 'double', allow_relationship: input.allowRelationship ? 1 : 0,
        consent_text_hash: await storeConsentText(db, input.consentText, now), form_enabled: 1, created_at: now, deleted_at: null,
      };
      try {
        await db.insertInto('lists').values(list).execute();
      } catch (e) {
        if (isUniqueViolation(e)) return fail('conflict', `a list named ${input.name} exists already`, 'name');
        throw e;
      }
      return ok(list);
    },

    list(tenantId: string): Promise<List[]> {
      return db.selectFrom('lists').selectAll().where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).orderBy('name').execute();
    },

    /** by id or name, within the tenant, not deleted */
    find(tenantId: string, ref: string): Promise<List | undefined> {
      return db.selectFrom('lists').selectAll().where('tenant_id', '=', tenantId).where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)])).executeTakeFirst();
    },

    /** A public form reaches a list by id only. */
    findPublic(id: string): Promise<List | undefined> {
      return db.selectFrom('lists').selectAll().where('id', '=', id).where('deleted_at', 'is', null).where('form_enabled', '=', 1).executeTakeFirst();
    },

    /** New consent wording: a new version, stored once; earlier records keep pointing at theirs. */
    async setConsentText(tenantId: string, ref: string, text: string): Promise<Result<List>> {
      const l = await this.find(tenantId, ref);
      if (!l) return fail('not_found', `no list ${ref}`);
      if (!text.trim()) return fail('request.invalid', 'the consent text is required', 'consentText');
      const hash = await storeConsentText(db, text, clock.now());
      await db.updateTable('lists').set({ consent_text_hash: hash }).where('id', '=', l.id).execute();
      return ok({ ...l, consent_text_hash: hash });
    },

    /** Soft delete: subscriptions stay for the record, the list is no longer usable. */
    async remove(tenantId: string, ref: string): Promise<Result<true>> {
      const l = await this.find(tenantId, ref);
      if (!l) return fail('not_found', `no list ${ref}`);
      await db.updateTable('lists').set({ deleted_at: clock.now(), form_enabled: 0 }).where('id', '=', l.id).execute();
      return ok(true);
    },
  };
}

export type Lists = ReturnType<typeof createLists>;

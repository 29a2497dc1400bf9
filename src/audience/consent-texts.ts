// Consent wording, stored once per version and referenced by its SHA-256, so
// a proof shows the exact words a subscriber saw, even after the list's text
// changed.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export async function storeConsentText(db: Kysely<Database>, text: string, now: number): Promise<string> {
  const hash = crypto.createHash('sha256').update(text, 'utf8').digest('hex');
  await db.insertInto('consent_texts').values({ hash, text, created_at: now }).onConflict((oc) => oc.column('hash').doNothing()).execute();
  return hash;
}

export async function consentText(db: Kysely<Database>, hash: string | null): Promise<string | null> {
  if (!hash) return null;
  return (await db.selectFrom('consent_texts').select('text').where('hash', '=', hash).executeTakeFirst())?.text ?? null;
}

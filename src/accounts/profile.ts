// The tenant's sender identity (MC-11, MC-12, MJ-8): the organisation, its
// postal address and phone printed in every marketing message, its own
// domain (to know when a From is another party's), and its time zone (for
// scheduling). Marketing is refused while the profile is incomplete.
import type { Kysely } from 'kysely';
import type { Database, TenantProfile } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { fail, ok, type Result } from '../errors.ts';
import { checkHeaderText, parseDomain } from '../compose/address.ts';
import { isTimeZone } from '../policy/validators.ts';

export interface ProfileInput {
  organisation: string;
  postalAddress: string;
  phone: string;
  organisationDomain: string;
  timezone?: string;
  /** click-tracking host: a name under one of the tenant's sending domains, pointed (CNAME) at envoi */
  trackingHost?: string | null;
}

export function createProfiles(db: Kysely<Database>, clock: Clock) {
  return {
    get(tenantId: string): Promise<TenantProfile | undefined> {
      return db.selectFrom('tenant_profiles').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    },

    async set(tenantId: string, p: ProfileInput): Promise<Result<TenantProfile>> {
      for (const [field, v] of [['organisation', p.organisation], ['postalAddress', p.postalAddress], ['phone', p.phone]] as const) {
        if (!v?.trim()) return fail('request.invalid', `${field} is required: bulk mail must say who sends it (MC-11, MC-12)`, field);
        const c = checkHeaderText(v, field);
        if (!c.ok) return c;
      }
      if (!/^\+?[0-9 ().-]{6,25}$/.test(p.phone.trim())) return fail('request.invalid', 'phone: digits, spaces, ( ) . - and an optional leading +', 'phone');
      const d = parseDomain(p.organisationDomain ?? '');
      if (!d.ok) return fail('request.invalid', `organisationDomain: ${d.error.detail}`, 'organisationDomain');
      const timezone = p.timezone ?? 'UTC';
      if (!isTimeZone(timezone)) return fail('request.invalid', `unknown time zone ${timezone}`, 'timezone');
      let trackingHost: string | null = null;
      if (p.trackingHost) {
        const h = parseDomain(p.trackingHost);
        if (!h.ok) return fail('request.invalid', `trackingHost: ${h.error.detail}`, 'trackingHost');
        const owned = await db.selectFrom('domains').select('name').where('tenant_id', '=', tenantId).where('verified', '=', 1).execute();
        // never a shared domain, never an IP (AF-12): the tenant's own name, so links show the sender's domain
        if (!owned.some((d2) => h.value === d2.name || h.value.endsWith('.' + d2.name))) {
          return fail('request.invalid', `trackingHost ${h.value} must be a name under one of your verified sending domains`, 'trackingHost');
        }
        trackingHost = h.value;
      }
      const row: TenantProfile = {
        tenant_id: tenantId, organisation: p.organisation.trim(), postal_address: p.postalAddress.trim(), phone: p.phone.trim(),
        organisation_domain: d.value, timezone, updated_at: clock.now(), tracking_host: trackingHost,
      };
      await db.insertInto('tenant_profiles').values(row).onConflict((oc) => oc.column('tenant_id').doUpdateSet({
        organisation: row.organisation, postal_address: row.postal_address, phone: row.phone, organisation_domain: row.organisation_domain,
        timezone: row.timezone, updated_at: row.updated_at, tracking_host: row.tracking_host,
      })).execute();
      return ok(row);
    },
  };
}

export type Profiles = ReturnType<typeof createProfiles>;

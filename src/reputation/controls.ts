// What a tenant may send right now, as the send paths ask it: the tenant's
// status (review with its daily cap, active, suspended), a throttle on its
// marketing, and the pauses of a sending domain's marketing to one provider.
// The transactional checklist calls admit(); the campaign dispatch checklist
// calls marketing() for each recipient, so a suspension or a pause holds the
// rest of a running campaign at once. State is read once a second per tenant
// (forget() makes a change visible at once in this process).
import type { Recipient, Tenant } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Limiter } from '../delivery/limits/types.ts';
import type { Config } from '../config/schema.ts';
import { fail, ok, type Result } from '../errors.ts';
import type { ReputationStore } from './store.ts';
import { DAY_MS, dayStart, isGmailAddress, utcDay } from './rules.ts';
import { singleFlight } from '../single-flight.ts';

export interface TenantGate {
  status: string;
  /** messages a day; null: none */
  cap: number | null;
  throttle: { perMinute: number; until: number } | null;
  suspendedReason: string | null;
  suspendTransactional: boolean;
  /** sending domain name → provider → why its marketing there is paused */
  pauses: Map<string, Map<string, string>>;
}

/** A marketing recipient held back: its row waits in the queue until `until`. */
export interface Hold {
  hold: number;
  reason: string;
}

const TTL_MS = 1_000;

export function createControls(o: { store: ReputationStore; clock: Clock; limiter: Limiter; config: Config['reputation']; gmailDomains: readonly string[] }) {
  const cache = new Map<string, { at: number; gate: TenantGate }>();
  // one load per tenant at a time: when the cached state expires, the hundred
  // recipients a worker has in flight wait for the same three queries instead
  // of running three each (sampled on PostgreSQL: a tenth of its busy time)
  const loading = singleFlight<TenantGate>();

  async function load(tenantId: string): Promise<TenantGate> {
    const [tenant, c, pauses] = await Promise.all([o.store.tenant(tenantId), o.store.controls(tenantId), o.store.openPauses(tenantId)]);
    const status = tenant?.status ?? 'disabled';
    const now = o.clock.now();
    const byDomain = new Map<string, Map<string, string>>();
    for (const p of pauses) {
      const m = byDomain.get(p.domain) ?? new Map<string, string>();
      m.set(p.provider, p.reason);
      byDomain.set(p.domain, m);
    }
    return {
      status,
      cap: c?.daily_cap ?? (status === 'review' ? o.config.review.dailyCap : null),
      throttle: c?.throttle_per_minute && c.throttle_until && c.throttle_until > now ? { perMinute: c.throttle_per_minute, until: c.throttle_until } : null,
      suspendedReason: status === 'suspended' ? c?.suspended_reason ?? 'suspended' : null,
      suspendTransactional: status === 'suspended' && c?.suspend_transactional === 1,
      pauses: byDomain,
    };
  }

  async function gate(tenantId: string): Promise<TenantGate> {
    const now = o.clock.now();
    const hit = cache.get(tenantId);
    if (hit && now - hit.at < TTL_MS && now >= hit.at) return hit.gate;
    return loading.run(tenantId, () => load(tenantId), (g) => {
      if (cache.size > 10_000) cache.clear();
      cache.set(tenantId, { at: now, gate: g });
    });
  }

  const holdFor = (now: number) => now + o.config.holdMinutes * 60_000;

  return {
    gate,
    forget(tenantId: string): void {
      cache.delete(tenantId);
      loading.forget(tenantId);
    },

    /** The dispatch checklist's question for one campaign recipient: null, or hold it (with the reason). */
    async marketing(r: Recipient, fromDomain: string): Promise<Hold | null> {
      const g = await gate(r.tenant_id);
      const now = o.clock.now();
      if (g.status === 'suspended') return { hold: holdFor(now), reason: `tenant suspended: ${g.suspendedReason}` };
      if (g.status === 'disabled') return { hold: holdFor(now), reason: 'tenant disabled' };
      const paused = g.pauses.get(fromDomain.toLowerCase());
      const google = paused?.get('google');
      if (google && isGmailAddress(r.address, o.gmailDomains)) return { hold: holdFor(now), reason: `marketing of ${fromDomain} to Google paused: ${google}` };
      if (g.throttle && !(await o.limiter.takeRate(`reputation:throttle:${r.tenant_id}`, g.throttle.perMinute))) {
        return { hold: now + Math.max(1_000, Math.ceil(60_000 / g.throttle.perMinute)), reason: `tenant throttled to ${g.throttle.perMinute} marketing messages a minute` };
      }
      if (g.cap !== null && !(await o.store.takeUsage(r.tenant_id, utcDay(now), 1, g.cap))) {
        return { hold: dayStart(utcDay(now)) + DAY_MS, reason: `daily cap of ${g.cap} reached (${g.status})` };
      }
      return null;
    },

    /** The transactional checklist's question: may this tenant send `recipients` more messages on this stream now? */
    async admit(tenant: Tenant, recipients: number, streamKind: string): Promise<Result<void>> {
      const g = await gate(tenant.id);
      if (g.status === 'suspended' && (g.suspendTransactional || streamKind === 'marketing')) {
        return fail('tenant.suspended', `the account ${tenant.name} is suspended${g.suspendTransactional ? '' : ' for marketing'}: ${g.suspendedReason}`);
      }
      if (g.cap !== null && !(await o.store.takeUsage(tenant.id, utcDay(o.clock.now()), recipients, g.cap))) {
        return fail('tenant.daily_cap', `the account ${tenant.name} may send ${g.cap} messages a day${g.status === 'review' ? ' while in review (an operator lifts it)' : ''}; today's are used`);
      }
      return ok(undefined);
    },
  };
}

export type Controls = ReturnType<typeof createControls>;

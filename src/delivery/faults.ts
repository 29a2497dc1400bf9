// Configuration faults of a sending domain, as receivers report them (GM-11):
// Gmail's 4.7.23 (PTR), 4.7.27 (SPF), 4.7.29 (TLS), 4.7.30 (DKIM), 4.7.31
// (DMARC), 4.7.32 (alignment), and the other "domain-fault" reactions of
// policy/data/providers.json. The engine records one when a reply calls for
// it; while a fault is open, the domain's marketing to that provider waits
// (transactional mail still goes, and keeps probing). A fault stays open
// until the tenant clears it, having fixed the cause: a fault cleared too
// early is simply recorded again by the next such reply.
import type { Kysely } from 'kysely';
import type { Database, DomainFault } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { ReactionRule } from '../policy/providers.ts';
import { parseEnhanced } from '../policy/replies.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';

type Cause = NonNullable<ReactionRule['fault']>['cause'];

/** What is wrong, in the words a tenant reads next to the remedy. */
export const FAULT_TEXT: Record<Cause, string> = {
  ptr: 'the sending IP has no reverse DNS (PTR) name that resolves back to it',
  spf: 'SPF does not pass for the sending domain',
  tls: 'the message was not sent over TLS',
  dkim: 'DKIM does not pass for the sending domain',
  dmarc: 'DMARC does not pass for the From: domain',
  alignment: 'the From: domain is not aligned with the SPF or DKIM domain',
};

export interface FaultReport {
  domainId: string;
  /** the provider profile's name (google, laposte…) */
  provider: string;
  /** the reaction that matched the reply: a "domain-fault" one */
  rule: ReactionRule;
  /** the reply as received */
  code: number;
  text: string;
}

export interface FaultsOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** how long activeFault may answer from memory: another worker's new fault is seen within this (default 5 s) */
  cacheMs?: number;
}

export function createFaults(o: FaultsOptions) {
  const { db, clock } = o;
  const cacheMs = o.cacheMs ?? 5000;
  // the cache runs on the process's own monotonic time: it is about freshness, not policy
  const cache = new Map<string, { at: number; fault: DomainFault | null }>();
  const forget = (domainId: string, provider: string) => cache.delete(`${domainId}|${provider}`);

  return {
    /** Opens the fault, or counts one more report on the open one. */
    async record(r: FaultReport): Promise<DomainFault> {
      if (r.rule.action !== 'domain-fault' || !r.rule.fault) throw new Error(`faults.record: the ${r.rule.action} reaction is not a domain fault`);
      const { tenant_id } = await db.selectFrom('domains').select('tenant_id').where('id', '=', r.domainId).executeTakeFirstOrThrow();
      const now = clock.now();
      const code = parseEnhanced(r.text) ?? r.rule.match.enhanced ?? String(r.code);
      const example = `${r.code} ${r.text}`.slice(0, 2000);
      const { cause, remedy } = r.rule.fault;
      const row = await db.insertInto('domain_faults').values({
        id: newId('flt', now), tenant_id, domain_id: r.domainId, provider: r.provider, code, cause, fault: FAULT_TEXT[cause], remedy, example,
        first_seen: now, last_seen: now, count: 1, cleared_at: null, cleared_by: null,
      })
        .onConflict((oc) => oc.columns(['domain_id', 'provider', 'code']).where('cleared_at', 'is', null)
          .doUpdateSet((eb) => ({ last_seen: now, count: eb('domain_faults.count', '+', 1), example, remedy })))
        .returningAll().executeTakeFirstOrThrow();
      forget(r.domainId, r.provider);
      return row;
    },

    /** The open fault that pauses the domain's marketing to the provider, if any. Cheap: answered from memory for a few seconds. */
    async activeFault(domainId: string, provider: string): Promise<DomainFault | null> {
      const key = `${domainId}|${provider}`;
      const t = performance.now();
      const hit = cache.get(key);
      if (hit && t - hit.at < cacheMs) return hit.fault;
      const fault = (await db.selectFrom('domain_faults').selectAll().where('domain_id', '=', domainId).where('provider', '=', provider)
        .where('cleared_at', 'is', null).orderBy('last_seen', 'desc').limit(1).executeTakeFirst()) ?? null;
      if (cache.size > 10_000) cache.clear();
      cache.set(key, { at: t, fault });
      return fault;
    },

    /** The domain's faults, open ones first, newest first. */
    list(domainId: string): Promise<DomainFault[]> {
      return db.selectFrom('domain_faults').selectAll().where('domain_id', '=', domainId)
        .orderBy((eb) => eb.case().when('cleared_at', 'is', null).then(0).else(1).end())
        .orderBy('last_seen', 'desc').orderBy('id', 'desc').execute();
    },

    /** Clears an open fault of the domain: its marketing to that provider resumes (here at once, in other workers within the cache time). */
    async clear(domainId: string, faultId: string, by: string): Promise<Result<DomainFault>> {
      const row = await db.updateTable('domain_faults').set({ cleared_at: clock.now(), cleared_by: by })
        .where('id', '=', faultId).where('domain_id', '=', domainId).where('cleared_at', 'is', null)
        .returningAll().executeTakeFirst();
      if (row) {
        forget(domainId, row.provider);
        return ok(row);
      }
      const exists = await db.selectFrom('domain_faults').select('id').where('id', '=', faultId).where('domain_id', '=', domainId).executeTakeFirst();
      return exists ? fail('conflict', `fault ${faultId} is already cleared`) : fail('not_found', `no fault ${faultId}`);
    },
  };
}

export type Faults = ReturnType<typeof createFaults>;

/** A fault as the API and the CLI show it. */
export function faultView(f: DomainFault) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: f.id, provider: f.provider, code: f.code, cause: f.cause, fault: f.fault, remedy: f.remedy, example: f.example,
    firstSeen: iso(f.first_seen), lastSeen: iso(f.last_seen), count: f.count, active: f.cleared_at === null,
    clearedAt: iso(f.cleared_at), clearedBy: f.cleared_by,
  };
}

// The doctor (issue 8): every check of a sending domain's DNS and
// infrastructure, explained with the exact fix (MC-4, MC-5, MC-6, MC-8, MJ-8,
// GM-2, GM-4, GM-5, GM-8, AF-3 … AF-8); the preflight of one message as Gmail
// would judge it (GM-11); and the gate that keeps a misconfigured domain from
// sending marketing outside the sandbox. Reads as: gather facts (facts.ts),
// judge them (judge.ts, pure), keep the report (store.ts).
import fs from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database, Domain } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Resolver } from '../net/resolver.ts';
import type { Domains } from '../accounts/domains.ts';
import type { Streams } from '../accounts/streams.ts';
import type { Profiles } from '../accounts/profile.ts';
import type { Campaigns } from '../campaigns/index.ts';
import type { Sandbox } from '../delivery/sandbox.ts';
import { loadProviders, withOverrides } from '../policy/providers.ts';
import { composeForRecipient } from '../campaigns/compose-campaign.ts';
import { newId } from '../ids.ts';
import { fail, type Result } from '../errors.ts';
import { gatherFacts, type Environment } from './facts.ts';
import { judgeDomain } from './judge.ts';
import { zonesFrom } from './dnsbl.ts';
import type { FetchLike } from './rdap.ts';
import { createReportStore } from './store.ts';
import { doctorGate } from './gate.ts';
import { summarise, type DomainReport } from './types.ts';
import { preflight, type PreflightReport } from './preflight/index.ts';

export type { Check, DomainReport, Status } from './types.ts';
export type { PreflightReport } from './preflight/index.ts';

export interface DoctorDeps {
  db: Kysely<Database>;
  clock: Clock;
  resolver: Resolver;
  /** RDAP's HTTP client (tests serve RDAP from loopback); default: the global fetch */
  fetch?: FetchLike;
  domains: Domains;
  streams: Streams;
  profiles?: Profiles;
  /** preflight --campaign / --sandbox */
  campaigns?: Campaigns;
  sandbox?: Sandbox;
  config: Pick<Config, 'hostname' | 'delivery' | 'doctor'>;
}

/** What preflight judges: a raw message, one recipient's copy of a campaign, or a sandbox capture. */
export type PreflightSource = { raw: Buffer } | { campaign: string } | { sandbox: string };

export interface PreflightOptions {
  ip?: string;
  kind?: 'marketing' | 'transactional';
}

export function createDoctor(d: DoctorDeps) {
  const reports = createReportStore(d.db);
  const cfg = d.config;
  const ehloName = cfg.delivery.ehloName ?? cfg.hostname;
  let ca: string | undefined | null = null;
  const caPem = () => (ca === null ? (ca = cfg.doctor.caFile ? fs.readFileSync(cfg.doctor.caFile, 'utf8') : undefined) : ca);

  const environment = (): Environment => ({
    resolver: d.resolver, fetch: d.fetch ?? (globalThis.fetch as unknown as FetchLike),
    hostname: cfg.hostname, ehloName, zones: zonesFrom(cfg.doctor.dnsblZones), rdapBaseUrl: cfg.doctor.rdapBaseUrl,
    smtpPort: cfg.doctor.smtpPort, timeoutMs: cfg.doctor.timeoutMs, ...(caPem() ? { ca: caPem() } : {}),
  });

  /** The public IPs mail of this tenant leaves from, when configuration says (else the EHLO name's addresses are used). */
  async function configuredIps(tenantId: string): Promise<string[]> {
    if (cfg.doctor.sendingIps.length) return cfg.doctor.sendingIps;
    const pools = cfg.delivery.pools;
    const used = (await d.streams.list(tenantId)).map((s) => pools[s.ip_pool]).filter((ip): ip is string => !!ip);
    return [...new Set(used.length ? used : Object.values(pools))];
  }

  return {
    /** Runs every check of a domain, keeps the report (the gate reads it) and returns it. */
    async check(domain: Domain): Promise<DomainReport> {
      const [keys, signingKeys, records, streams, sendingIps] = await Promise.all([
        d.domains.activeKeys(domain.id), d.domains.signingKeys(domain), d.domains.records(domain), d.streams.list(domain.tenant_id), configuredIps(domain.tenant_id),
      ]);
      const expectedSpf: Record<string, string> = {};
      for (const r of records) if (r.type === 'TXT' && r.value.startsWith('v=spf1')) expectedSpf[r.name] = r.value;
      const facts = await gatherFacts(environment(), {
        name: domain.name,
        keys: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, publicKey: k.public_key, record: records.find((r) => r.name === `${k.selector}._domainkey.${domain.name}`)?.value ?? '' })),
        signingKeys,
        bounceHosts: [...new Set(streams.map((s) => `${s.bounce_label}.${domain.name}`))],
        expectedSpf,
        sendingIps,
      });
      const now = d.clock.now();
      const report = summarise(domain.id, domain.name, now, judgeDomain(facts, now));
      await reports.save(domain.tenant_id, report);
      return report;
    },

    /** The last report, without running anything. */
    last: (domainId: string) => reports.last(domainId),

    /** Refuses marketing outside the sandbox while the last report fails a blocking check. */
    gate: (domainId: string) => doctorGate(d.db, domainId),

    /** Judges one message as a Gmail-like receiver would (tenantId null: operator). */
    async preflight(tenantId: string | null, source: PreflightSource, opts: PreflightOptions = {}): Promise<Result<PreflightReport>> {
      const env = {
        resolver: d.resolver, hostname: cfg.hostname, ehloName, sendingIps: cfg.doctor.sendingIps, pools: cfg.delivery.pools,
        providers: withOverrides(loadProviders(), cfg.delivery.providers), domains: d.domains, streams: d.streams, ...(d.profiles ? { profiles: d.profiles } : {}),
      };
      const base = { tenantId, ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.kind ? { kind: opts.kind } : {}) };
      if ('raw' in source) return preflight(env, { ...base, raw: source.raw, source: 'message' });
      if ('sandbox' in source) {
        const e = await d.sandbox?.get(tenantId, source.sandbox);
        if (!e) return fail('not_found', `no sandbox message ${source.sandbox}`);
        const kind = opts.kind ?? (await reports.sandboxKind(e.id)) ?? 'marketing';
        return preflight(env, { ...base, kind, raw: e.raw, envelopeFrom: e.mail_from, source: `sandbox ${e.id}` });
      }
      const c = await d.campaigns?.lifecycle.get(tenantId, source.campaign);
      if (!c || !d.campaigns) return fail('not_found', `no campaign ${source.campaign}`);
      const shape = await d.campaigns.dispatch.shapeOf(c.id);
      if (typeof shape === 'string') return fail('conflict', `campaign ${c.name} cannot be composed: ${shape}`);
      d.campaigns.dispatch.forget(c.id); // a later edit must not reuse this shape
      const listId = (JSON.parse(c.list_ids) as string[])[0];
      const rid = newId('rcp', d.clock.now());
      const raw = composeForRecipient(shape, { recipientId: rid, email: `preview@${shape.fromDomain}`, fields: { first_name: 'Alex', last_name: 'Sample' }, listId, consent: null }, d.clock.now());
      if (!raw.ok) return raw;
      return preflight(env, { ...base, kind: 'marketing', stream: c.stream, raw: raw.value, envelopeFrom: `b-preflight@${shape.bounceDomain}`, source: `campaign ${c.id}` });
    },
  };
}

export type Doctor = ReturnType<typeof createDoctor>;

// Which of a domain's MX hosts one message may use (issue 5, GM-7): those
// with an address of the IP pool's family (an IPv4 pool cannot reach an
// IPv6-only MX, and the other way round), then, under the domain's MTA-STS
// policy in enforce mode, those the policy lists. None left: the recipient
// waits (deferred with the reason), never bounces — the next attempt may
// find a fixed policy or DNS. And what a delivery done under a policy in
// testing mode would have broken, for its event.
import { isIP } from 'node:net';
import { forFamily, type MxHost } from './mx.ts';
import type { MtaSts } from './mta-sts.ts';
import { mxAllowed, stsViolation, type SessionTls, type StsPolicy } from '../../policy/mta-sts.ts';

/** the recipient domain's MTA-STS policy, when it is in enforce or testing mode */
export interface AppliedSts {
  domain: string;
  id: string;
  policy: StsPolicy;
  /** why a cached policy applies (the fetch failed), if it does */
  note?: string;
}

export type Picked = { hosts: MxHost[]; sts?: AppliedSts } | { defer: Record<string, unknown> };

export async function pickHosts(domain: string, all: MxHost[], ipPool: string, source: string | undefined, mtaSts?: Pick<MtaSts, 'policyFor'>): Promise<Picked> {
  const hosts = forFamily(all, source);
  if (!hosts.length) {
    const family = isIP(source!) === 6 ? 'IPv6' : 'IPv4';
    return { defer: { stage: 'route', reason: 'address-family', text: `no MX host of ${domain} has an ${family} address, and IP pool "${ipPool}" sends from ${source} (${family} only)` } };
  }
  const state = mtaSts ? await mtaSts.policyFor(domain) : undefined;
  if (state?.kind !== 'policy' || state.policy.mode === 'none') return { hosts };
  const sts: AppliedSts = { domain, id: state.id, policy: state.policy, ...(state.note ? { note: state.note } : {}) };
  if (sts.policy.mode !== 'enforce') return { hosts, sts };
  const allowed = hosts.filter((h) => mxAllowed(sts.policy, h.host));
  if (allowed.length) return { hosts: allowed, sts };
  return { defer: {
    stage: 'mta-sts', reason: 'mta-sts', mtaSts: { mode: 'enforce', id: sts.id },
    text: `MTA-STS (enforce): no MX host of ${domain} (${hosts.map((h) => h.host).join(', ')}) is allowed by its policy (mx: ${sts.policy.mx.join(', ')}); not delivered`,
  } };
}

/** What an event says of the policy; in testing mode, what would have failed under enforce. */
export function stsRecord(sts: AppliedSts, host: string | undefined, tls: SessionTls | undefined): { mode: string; id: string; note?: string; failure?: string } {
  const failure = sts.policy.mode === 'testing' && host && tls ? stsViolation(sts.policy, host, tls) : undefined;
  return { mode: sts.policy.mode, id: sts.id, ...(sts.note ? { note: sts.note } : {}), ...(failure ? { failure } : {}) };
}

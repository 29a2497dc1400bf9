// Is an open or a click a person, or a machine (Apple Mail Privacy
// Protection, a security gateway prefetching links)? Pure; the patterns are
// data (data/machine-agents.json). Machine events are still recorded — with
// `machine: true` and the reason — but never count as engagement (MJ-2).
import data from './data/machine-agents.json' with { type: 'json' };

export interface TrackingRequest {
  userAgent: string | undefined;
  ip: string;
  /** ms since the message was delivered; undefined when unknown */
  sinceDeliveryMs: number | undefined;
}

export type MachineVerdict = { machine: false } | { machine: true; reason: 'apple-mpp' | 'scanner' | 'prefetch' };

const fragments = data.scanners.userAgentFragments.map((f) => f.toLowerCase());
const windowMs = data.prefetchWindowSeconds * 1000;

export function machineVerdict(r: TrackingRequest, kind: 'open' | 'click'): MachineVerdict {
  const ua = (r.userAgent ?? '').trim();
  const ip = r.ip.replace(/^::ffff:/, '');
  if (kind === 'open' && (data.appleMpp.exactUserAgents.includes(ua) || data.appleMpp.ipv4Prefixes.some((p) => ip.startsWith(p)))) {
    return { machine: true, reason: 'apple-mpp' };
  }
  const lower = ua.toLowerCase();
  if (fragments.some((f) => lower.includes(f))) return { machine: true, reason: 'scanner' };
  const early = r.sinceDeliveryMs !== undefined && r.sinceDeliveryMs >= 0 && r.sinceDeliveryMs < windowMs;
  if (early && (ua === '' || kind === 'click')) return { machine: true, reason: 'prefetch' };
  return { machine: false };
}

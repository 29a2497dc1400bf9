// MTA-STS (RFC 8461), the pure part: the `_mta-sts` TXT record, the policy
// file, which MX names a policy allows, and what a delivery would break of it.
// No IO here: delivery/route/mta-sts.ts fetches, caches and calls these.

export type StsMode = 'enforce' | 'testing' | 'none';

export interface StsPolicy {
  mode: StsMode;
  /** MX patterns: "mx.example.com" or "*.example.com" (one label) */
  mx: string[];
  /** seconds the policy may be cached (at most a year, RFC 8461 §3.2) */
  maxAge: number;
}

/** RFC 8461 §3.2: max_age is at most 31557600 s */
export const MAX_AGE_LIMIT = 31_557_600;

/**
 * The TXT answer of `_mta-sts.<domain>` (each record's strings joined):
 * the policy id when exactly one record starts with `v=STSv1;` and is valid
 * (§3.1); otherwise none (the domain has no usable MTA-STS).
 */
export function parseStsRecord(records: string[]): { id: string } | null {
  // records that do not begin with v=STSv1; are discarded; more than one left means none
  const sts = records.map((r) => r.trim()).filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return null;
  const fields = new Map<string, string>();
  for (const part of sts[0].split(';')) {
    const f = part.trim();
    if (!f) continue;
    const eq = f.indexOf('=');
    if (eq <= 0) return null;
    const key = f.slice(0, eq).trim();
    if (!fields.has(key)) fields.set(key, f.slice(eq + 1).trim());
  }
  const id = fields.get('id');
  return id && /^[A-Za-z0-9]{1,32}$/.test(id) ? { id } : null;
}

export type ParsedPolicy = { ok: true; policy: StsPolicy } | { ok: false; problem: string };

/** The policy file (§3.2): "key: value" lines; version, mode and max_age required, mx required unless mode is none. */
export function parsePolicy(text: string): ParsedPolicy {
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: string | undefined;
  const mx: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { ok: false, problem: `not a "key: value" line: ${line.slice(0, 80)}` };
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    // the first of a repeated key counts (§3.2); mx may repeat; unknown keys are ignored
    if (key === 'version') version ??= value;
    else if (key === 'mode') mode ??= value;
    else if (key === 'max_age') maxAge ??= value;
    else if (key === 'mx') mx.push(value.toLowerCase().replace(/\.$/, ''));
  }
  if (version !== 'STSv1') return { ok: false, problem: version === undefined ? 'no version' : `unknown version "${version}"` };
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return { ok: false, problem: mode === undefined ? 'no mode' : `unknown mode "${mode}"` };
  if (maxAge === undefined || !/^\d{1,10}$/.test(maxAge)) return { ok: false, problem: maxAge === undefined ? 'no max_age' : `max_age is not a number of seconds: "${maxAge}"` };
  const age = Number(maxAge);
  if (age > MAX_AGE_LIMIT) return { ok: false, problem: `max_age ${age} is more than ${MAX_AGE_LIMIT}` };
  const bad = mx.find((p) => !validPattern(p));
  if (bad !== undefined) return { ok: false, problem: `not an MX pattern: "${bad}"` };
  if (mode !== 'none' && mx.length === 0) return { ok: false, problem: `mode ${mode} without any mx` };
  return { ok: true, policy: { mode, mx, maxAge: age } };
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function validPattern(p: string): boolean {
  const labels = (p.startsWith('*.') ? p.slice(2) : p).split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l) || /^xn--[a-z0-9-]+$/.test(l));
}

/** Does an MX name match a pattern (§4.1)? "*.example.com" stands for exactly one label. */
export function mxMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return h === p;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export const mxAllowed = (policy: StsPolicy, host: string): boolean => policy.mx.some((p) => mxMatches(p, host));

/** What TLS a session had: none, or a certificate verified (against the MX name) or not, and why. */
export type SessionTls = { encrypted: false } | { encrypted: true; authorized: boolean; authorizationError?: string };

/**
 * What a delivery to `host` with that TLS breaks of the policy (§4, §5):
 * undefined when nothing; mode none asks nothing.
 */
export function stsViolation(policy: StsPolicy, host: string, tls: SessionTls): string | undefined {
  if (policy.mode === 'none') return undefined;
  if (!mxAllowed(policy, host)) return `${host} is not an MX host the policy allows (mx: ${policy.mx.join(', ')})`;
  if (!tls.encrypted) return `${host} was reached without TLS`;
  if (!tls.authorized) return `the certificate of ${host} is not valid for it: ${tls.authorizationError ?? 'not verified'}`;
  return undefined;
}

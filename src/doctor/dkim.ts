// DKIM (GM-2): each active selector's public key is published, equal to the
// key envoi signs with, large enough, and a test signature verifies. Pure
// over the facts gathered in facts.ts (the TXT answer, the verification of a
// test message signed with the domain's keys).
import crypto from 'node:crypto';
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

export interface DkimKeyFacts {
  /** selector._domainkey.domain */
  name: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  /** base64 public key envoi signs with (p=) */
  expectedKey: string;
  /** the TXT record value envoi prints for this key */
  expectedRecord: string;
  published: Lookup<string[]>;
  /** mailauth's verdict on a test message signed with this key: pass, fail, neutral, temperror… */
  signature: { result: string; comment?: string };
}

const REQ = ['GM-2'];

/** Tags of a DKIM key record (RFC 6376 §3.6.1). */
export function parseDkimRecord(value: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of value.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    tags[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).replace(/\s+/g, '');
  }
  return tags;
}

/** RSA modulus bits of a base64 SPKI key; 256 for a raw 32-byte Ed25519 key; null when unreadable. */
export function keyBits(p: string, algorithm: DkimKeyFacts['algorithm']): number | null {
  const der = Buffer.from(p, 'base64');
  if (algorithm === 'ed25519-sha256') return der.length === 32 ? 256 : null;
  try {
    return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength ?? null;
  } catch {
    return null;
  }
}

export function judgeDkimKey(f: DkimKeyFacts): Check[] {
  const fix = `TXT ${f.name} "${f.expectedRecord}"`;
  if (f.published.kind === 'error') return [couldNotCheck('dkim.published', f.name, REQ, `the DKIM record ${f.name}`, f.published.code)];
  const records = f.published.kind === 'found' ? f.published.value.map(parseDkimRecord).filter((t) => 'p' in t) : [];
  if (!records.length) {
    return [check({ id: 'dkim.published', subject: f.name, status: 'fail', requirements: REQ, blocking: true, found: `no DKIM key is published for selector ${f.selector}: receivers cannot verify envoi's ${f.algorithm} signature (Gmail: 4.7.30)`, fix })];
  }
  const out: Check[] = [check({ id: 'dkim.published', subject: f.name, status: 'pass', requirements: REQ, found: `a DKIM key record is published for selector ${f.selector}` })];
  const match = records.find((t) => t.p === f.expectedKey);
  const shown = records[0];
  if (!match) {
    const why = shown.p === '' ? 'the published key is revoked (empty p=)' : 'the published key differs from the key envoi signs with: every signature of this selector fails';
    out.push(check({ id: 'dkim.key', subject: f.name, status: 'fail', requirements: REQ, blocking: true, found: why, fix: `replace the record: ${fix}` }));
  } else {
    out.push(check({ id: 'dkim.key', subject: f.name, status: 'pass', requirements: REQ, found: 'the published key is the key envoi signs with' }));
  }
  const bits = keyBits((match ?? shown).p, f.algorithm);
  if (bits === null) {
    out.push(check({ id: 'dkim.size', subject: f.name, status: 'fail', requirements: REQ, blocking: true, found: 'the published key cannot be read', fix }));
  } else if (f.algorithm === 'ed25519-sha256') {
    out.push(check({ id: 'dkim.size', subject: f.name, status: 'pass', requirements: REQ, found: 'Ed25519 key (RFC 8463), sent beside the RSA signature' }));
  } else if (bits < 1024) {
    out.push(check({ id: 'dkim.size', subject: f.name, status: 'fail', requirements: REQ, blocking: true, found: `RSA key of ${bits} bits: receivers ignore keys under 1024 bits (RFC 8301)`, fix }));
  } else if (bits < 2048) {
    out.push(check({ id: 'dkim.size', subject: f.name, status: 'warn', requirements: REQ, found: `RSA key of ${bits} bits: 2048 is expected`, fix }));
  } else {
    out.push(check({ id: 'dkim.size', subject: f.name, status: 'pass', requirements: REQ, found: `RSA key of ${bits} bits` }));
  }
  // a signature can only verify with the right key: judged when the key matches
  if (match) {
    const r = f.signature.result;
    if (r === 'pass') out.push(check({ id: 'dkim.signature', subject: f.name, status: 'pass', requirements: REQ, found: 'a test message signed by envoi with this key verifies' }));
    else if (r === 'temperror') out.push(couldNotCheck('dkim.signature', f.name, REQ, `the key at ${f.name}`, 'temperror'));
    else out.push(check({ id: 'dkim.signature', subject: f.name, status: 'fail', requirements: REQ, blocking: true, found: `a test message signed by envoi does not verify (${r}${f.signature.comment ? `: ${f.signature.comment}` : ''})`, fix }));
  }
  return out;
}

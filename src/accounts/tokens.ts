// Signed, expiring tokens for public links (confirmation, unsubscribe, proof
// pages): "<payload base64url>.<MAC base64url>", the payload a small JSON
// object with a purpose and an expiry. A forged or altered token fails the
// MAC; an expired one says so; nothing is looked up before the MAC passes.
import crypto from 'node:crypto';
import type { Secrets } from './secrets.ts';

export type TokenCheck<T> = { ok: true; payload: T } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

const MAC_BYTES = 18;

export function signToken(secrets: Secrets, purpose: string, payload: Record<string, unknown>, expiresAt: number): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(expiresAt / 1000) })).toString('base64url');
  return `${body}.${secrets.mac('token/' + purpose, body).subarray(0, MAC_BYTES).toString('base64url')}`;
}

export function verifyToken<T extends Record<string, unknown>>(secrets: Secrets, purpose: string, token: string, now: number): TokenCheck<T> {
  if (typeof token !== 'string' || token.length > 2048) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot < 1) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  // The MAC is compared as the exact text we wrote: base64url decoding skips
  // characters it does not know and ignores trailing bits, so comparing the
  // decoded bytes accepted altered tokens ("…A" appended, "…!") as the same.
  const mac = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(secrets.mac('token/' + purpose, body).subarray(0, MAC_BYTES).toString('base64url'));
  if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) return { ok: false, reason: 'forged' };
  let payload: T & { exp?: number };
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < now) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}

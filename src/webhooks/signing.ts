// Webhook signatures: HMAC-SHA256 under the endpoint's secret over
// "<unix seconds>.<body>", sent as `Envoi-Signature: t=<unix>,v1=<hex>`
// (the scheme Stripe made familiar). The timestamp inside the MAC lets a
// receiver refuse replays of an old request; several v1= values may appear
// (a rotated secret), a receiver accepts any that matches. Pure.
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'Envoi-Signature';

/** A new signing secret: 32 random bytes, with a prefix that says what it is. */
export function newWebhookSecret(): string {
  return 'whsec_' + crypto.randomBytes(32).toString('base64url');
}

export function sign(secret: string, unixSeconds: number, body: string): string {
  return crypto.createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${sign(secret, unixSeconds, body)}`;
}

export type Verification = 'ok' | 'malformed' | 'mismatch' | 'stale';

/** What a receiver does: parse, recompute, compare in constant time, check the age. */
export function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): Verification {
  if (!header) return 'malformed';
  let t: number | undefined;
  const macs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) macs.push(v.toLowerCase());
  }
  if (t === undefined || macs.length === 0) return 'malformed';
  const expected = Buffer.from(sign(secret, t, body), 'hex');
  if (!macs.some((m) => crypto.timingSafeEqual(Buffer.from(m, 'hex'), expected))) return 'mismatch';
  return Math.abs(nowSeconds - t) > toleranceSeconds ? 'stale' : 'ok';
}

// Dashboard passwords, hashed with scrypt (RFC 7914) from node:crypto.
// scrypt is memory-hard: each guess costs 128 MiB of RAM as well as CPU, so
// GPUs and ASICs gain little over our own server; it ships with Node, so no
// native package (argon2) joins the install. Parameters follow OWASP's
// password storage advice (N = 2^17, r = 8, p = 1) and are stored with each
// hash, so raising them later re-hashes at the next sign-in, not by migration.
import crypto from 'node:crypto';

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

export const DEFAULT_PARAMS: ScryptParams = { log2N: 17, r: 8, p: 1 };
const KEY_LEN = 32;

/** Passwords shorter than this are refused; longer than MAX are refused too (hashing cost). */
export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 1024;

function derive(password: string, salt: Buffer, k: ScryptParams): Promise<Buffer> {
  const N = 2 ** k.log2N;
  // Node refuses above maxmem (32 MiB by default); scrypt needs 128·N·r bytes
  const maxmem = 128 * N * k.r + 16 * 1024 * 1024;
  return new Promise((resolve, reject) =>
    crypto.scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N, r: k.r, p: k.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, k: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await derive(password, salt, k);
  return ['scrypt', k.log2N, k.r, k.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Parameters of a stored hash, or null when it is not one of ours. */
export function paramsOf(stored: string): (ScryptParams & { salt: Buffer; key: Buffer }) | null {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return null;
  const [log2N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (log2N < 10 || log2N > 20 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { log2N, r, p, salt: Buffer.from(m[4], 'base64'), key: Buffer.from(m[5], 'base64') };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const k = paramsOf(stored);
  if (!k) return false;
  const key = await derive(password, k.salt, k);
  return key.length === k.key.length && crypto.timingSafeEqual(key, k.key);
}

/** True when a stored hash uses weaker parameters than today's defaults. */
export function needsRehash(stored: string, k: ScryptParams = DEFAULT_PARAMS): boolean {
  const s = paramsOf(stored);
  return !s || s.log2N < k.log2N || s.r < k.r || s.p < k.p;
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD) return `a password needs at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `a password has at most ${MAX_PASSWORD} characters`;
  return null;
}

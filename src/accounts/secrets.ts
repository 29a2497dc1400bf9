// The platform's master key and what is derived from it.
//
// DKIM private keys are kept encrypted in the database (AES-256-GCM) rather
// than in 0600 files: with PostgreSQL, workers on several machines sign mail
// and all need the keys, and a database dump or backup alone must not leak
// them. The master key comes from config/env (`secretKey`) or, on a single
// machine, from <dataDir>/secret.key created once with mode 0600. Every process
// of one cluster must be given the same key.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Secrets {
  /** encrypts a secret for storage */
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** HMAC-SHA256 under a purpose-specific key: signed tokens in links and VERP addresses */
  mac(purpose: string, data: string): Buffer;
}

export function loadOrCreateMasterKey(opts: { secretKey?: string; dataDir: string }): Buffer {
  if (opts.secretKey) return decodeKey(opts.secretKey, 'secretKey');
  const file = path.join(opts.dataDir, 'secret.key');
  try {
    return decodeKey(fs.readFileSync(file, 'utf8').trim(), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const key = crypto.randomBytes(32);
  // 'wx': never overwrite a key another process wrote a moment ago
  try {
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return decodeKey(fs.readFileSync(file, 'utf8').trim(), file);
    throw e;
  }
}

function decodeKey(text: string, where: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${where}: the secret key must be 32 bytes, base64 or hex`);
  return key;
}

export function createSecrets(master: Buffer): Secrets {
  const derive = (info: string) => Buffer.from(crypto.hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  const encKey = derive('envoi/seal/v1');
  const macKeys = new Map<string, Buffer>();
  return {
    seal(plaintext) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', encKey, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
    },
    open(sealed) {
      if (!sealed.startsWith('v1:')) throw new Error('unknown sealed format');
      const buf = Buffer.from(sealed.slice(3), 'base64');
      const decipher = crypto.createDecipheriv('aes-256-gcm', encKey, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
    },
    mac(purpose, data) {
      let key = macKeys.get(purpose);
      if (!key) macKeys.set(purpose, (key = derive('envoi/mac/' + purpose)));
      return crypto.createHmac('sha256', key).update(data).digest();
    },
  };
}

/** API keys and SMTP passwords are 256-bit random secrets: SHA-256 is enough, a slow hash would only slow every request. */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

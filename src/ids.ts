// Identifiers: a short type prefix, then 20 characters that sort by creation
// time (48-bit ms timestamp) followed by 80 random bits, in Crockford base32.
// Sortable ids keep insert order in B-tree indexes and let listings page by id.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let rand = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += ALPHABET[(acc >> bits) & 31];
    }
  }
  return `${prefix}_${time}${rand}`;
}

/** A random secret of 32 bytes, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

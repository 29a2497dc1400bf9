// Identifiers: a short type prefix, then 20 characters that sort by creation
// time (48-bit ms timestamp) followed by 80 random bits, in Crockford base32.
// Sortable ids keep insert order in B-tree indexes and let listings page by id.
import { createHash, randomBytes } from 'node:crypto';

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

/**
 * Mailjet's per-recipient ids derived from envoi's recipient id, so they are
 * stable and need no extra column: SHA-256 of the id gives a UUID (version 8,
 * "custom", RFC 9562) from its first 16 bytes and a MessageID from the next 7
 * bytes masked to 53 bits, a positive integer JavaScript and JSON clients
 * hold exactly. With 2^53 values, a collision among 10 million recipients has
 * a chance of about 1 in 180; an endpoint that looks messages up by MessageID
 * must therefore store or index it rather than assume it unique.
 */
export function mailjetIds(recipientId: string): { uuid: string; id: number } {
  const h = createHash('sha256').update(`envoi/mailjet/${recipientId}`).digest();
  const u = Buffer.from(h.subarray(0, 16));
  u[6] = (u[6] & 0x0f) | 0x80;
  u[8] = (u[8] & 0x3f) | 0x80;
  const hex = u.toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const n = h.readUIntBE(16, 6) * 2 ** 5 + (h[22] >> 3); // 48 + 5 = 53 bits
  return { uuid, id: n === 0 ? 1 : n };
}

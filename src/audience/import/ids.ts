// Ids for a batch of imported rows, in src/ids.ts's format (prefix, 10
// time characters, 16 characters of 80 random bits, Crockford base32), with
// the random bits drawn in bulk and each batch's ids handed out in ascending
// order.
//
// Why: newId draws its bits with one randomBytes call per id, about 3 µs, and
// at two ids per row that was 10 % of a million-row import. And ids of one
// batch share their time part, so in random order they land at random places
// at the right edge of every index on them (contact, consent and
// subscription keys), splitting pages half full; ascending, SQLite appends.
// Each id keeps its 80 random bits: ids may end up in confirmation links.
// (A candidate for src/ids.ts.)
import { randomFillSync } from 'node:crypto';
import { newId } from '../../ids.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CHARS = 16;
// byte → its low 5 bits as an ASCII base32 digit: 16 random bytes become 16 digits (80 bits) in place
const DIGIT = Uint8Array.from({ length: 256 }, (_, b) => ALPHABET.charCodeAt(b & 31));

/** `expected`: about how many ids of each prefix the batch takes (one draw serves them all, in order). */
export function batchIdMaker(now: number, expected = 2048): (prefix: string) => string {
  const time = newId('x', now).slice(2, 12);
  const pools = new Map<string, { ids: string[]; next: number }>();
  return (prefix) => {
    let pool = pools.get(prefix);
    if (!pool || pool.next === pool.ids.length) {
      pool = { ids: draw(prefix, time, Math.max(16, expected)), next: 0 };
      pools.set(prefix, pool);
    }
    return pool.ids[pool.next++];
  };
}

function draw(prefix: string, time: string, n: number): string[] {
  const bytes = randomFillSync(Buffer.alloc(n * CHARS));
  for (let i = 0; i < bytes.length; i++) bytes[i] = DIGIT[bytes[i]];
  const head = `${prefix}_${time}`;
  const ids = new Array<string>(n);
  for (let k = 0; k < n; k++) ids[k] = head + bytes.toString('latin1', k * CHARS, (k + 1) * CHARS);
  return ids.sort();
}

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
/** ids drawn at once per prefix; a batch needs at most one draw per prefix up to this size */
const DRAW = 4096;

export function batchIdMaker(now: number): (prefix: string) => string {
  const time = newId('x', now).slice(2, 12);
  const pools = new Map<string, { ids: string[]; next: number }>();
  return (prefix) => {
    let pool = pools.get(prefix);
    if (!pool || pool.next === pool.ids.length) {
      pool = { ids: draw(prefix, time), next: 0 };
      pools.set(prefix, pool);
    }
    return pool.ids[pool.next++];
  };
}

function draw(prefix: string, time: string): string[] {
  const bytes = randomFillSync(Buffer.alloc(DRAW * CHARS));
  const ids = new Array<string>(DRAW);
  for (let k = 0; k < DRAW; k++) {
    let rand = '';
    // 5 bits of each of 16 bytes: 80 random bits, as newId has
    for (let i = k * CHARS; i < (k + 1) * CHARS; i++) rand += ALPHABET[bytes[i] & 31];
    ids[k] = `${prefix}_${time}${rand}`;
  }
  return ids.sort();
}

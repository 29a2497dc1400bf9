// What the property-based tests of the hardening layer share: how many cases
// a property runs (CI's counts, multiplied by ENVOI_FUZZ_SCALE for the
// nightly-style run of scripts/fuzz-long.mjs), a reproducible seed
// (ENVOI_FUZZ_SEED), the time bound of one case, and the figure each
// property prints ("fuzz: <name>: <n> cases"), which docs/reliability.md
// records.
import fc from 'fast-check';
import type { TestContext } from 'node:test';

export const SCALE = Math.max(0.01, Number(process.env.ENVOI_FUZZ_SCALE ?? 1) || 1);
const SEED = process.env.ENVOI_FUZZ_SEED ? Number(process.env.ENVOI_FUZZ_SEED) : undefined;

/** CI's number of cases for a property, scaled. */
export const runs = (ciRuns: number): number => Math.max(1, Math.round(ciRuns * SCALE));

/**
 * Runs a property and prints how many cases it ran. A failure reports the
 * seed and the shrunk counterexample (fast-check's message).
 */
export async function fuzz<Ts extends [unknown, ...unknown[]]>(
  t: TestContext,
  name: string,
  ciRuns: number,
  property: fc.IAsyncPropertyWithHooks<Ts> | fc.IPropertyWithHooks<Ts>,
): Promise<number> {
  const numRuns = runs(ciRuns);
  try {
    await fc.assert(property as fc.IAsyncPropertyWithHooks<Ts>, { numRuns, seed: SEED });
  } catch (e) {
    // node's reporter shows the message only: put the property's own failure in it
    const cause = (e as { cause?: unknown }).cause;
    throw new Error(`${(e as Error).message}\nCause: ${cause instanceof Error ? cause.stack : String(cause)}`);
  }
  t.diagnostic(`fuzz: ${name}: ${numRuns} cases`);
  return numRuns;
}

/** Rejects when the promise takes longer than `ms`: "never hangs". */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Strings a hostile client likes: controls, CR/LF, NUL, quotes, encoded-words, Unicode separators, long runs. */
export const hostileString = (maxLength = 120): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.array(
      fc.constantFrom(
        '\r\n', '\n', '\r', '\0', '\t', '\u0085', '\u2028', '\u2029', '"', "'", '<', '>', '\\', '@', ':', ';', ',', '%',
        '=?utf-8?B?PHNjcmlwdD4=?=', 'Bcc: victim@evil.example', '\r\nBcc: victim@evil.example', '{{', '}}', '{%', '%}',
        'javascript:alert(1)', '<script>alert(1)</script>', ' ', 'é', '😀', 'a'.repeat(100), '.', '\u202e',
      ),
      { maxLength: 12 },
    ).map((parts) => parts.join('')),
  );

/** A message with `ops` applied: byte flips, cuts, repeats and insertions, the damage a broken MTA or an attacker does. */
export interface Mutation {
  op: 'flip' | 'delete' | 'repeat' | 'insert' | 'truncate' | 'line';
  at: number;
  len: number;
  bytes: Uint8Array;
  line: string;
}

const HOSTILE_LINES = [
  'Content-Type: multipart/mixed; boundary=""',
  'Content-Type: multipart/report; report-type=delivery-status; boundary="x"',
  'Content-Type: message/rfc822',
  'Content-Type: message/delivery-status',
  'Content-Type: message/feedback-report',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  'Subject: =?utf-8?B?////?= =?x-unknown?Q?=ZZ?=',
  'Final-Recipient: rfc822;',
  'Status: 9.9.9',
  'Action: failed',
  'Original-Recipient: rfc822; <>',
  'Feedback-Type: abuse',
  '--x',
  '--x--',
  '',
  '\t folded continuation',
];

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'delete', 'repeat', 'insert', 'truncate', 'line'),
  at: fc.nat(),
  len: fc.nat({ max: 400 }),
  bytes: fc.uint8Array({ maxLength: 64 }),
  line: fc.oneof(fc.constantFrom(...HOSTILE_LINES), fc.string({ maxLength: 80 })),
});

export function mutate(input: Buffer, ops: Mutation[]): Buffer {
  let b = input;
  for (const m of ops) {
    const at = b.length ? m.at % b.length : 0;
    switch (m.op) {
      case 'flip': {
        if (!b.length) break;
        b = Buffer.from(b);
        b[at] ^= 1 << (m.len % 8);
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'repeat':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at, at + m.len), b.subarray(at + m.len)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'line': {
        // at the start of a line, so it reads as a header or a boundary
        const nl = b.lastIndexOf(0x0a, at);
        const pos = nl + 1;
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(`${m.line}\r\n`, 'utf8'), b.subarray(pos)]);
        break;
      }
    }
  }
  return b;
}

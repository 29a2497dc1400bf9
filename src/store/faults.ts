// What a storage error means to whoever is waiting for an answer: the
// database is away (PostgreSQL stopped or unreachable, SQLite locked) and
// the request may be tried again shortly, or the disk is full and nothing
// more can be taken. Both are said as such — a 503 with Retry-After, a 507, an
// SMTP 421 4.3.2 or 452 4.3.1 — instead of a 500: the client keeps the
// message and retries, and what was accepted before stays where it is.
import type { Failure } from '../errors.ts';

/** seconds a client is told to wait when the database is away */
export const RETRY_AFTER_S = 30;

// PostgreSQL SQLSTATE classes and codes (Appendix A): 08 connection
// exception, 57P01–57P03 shutdown / cannot connect now, 53100 disk full.
const PG_AWAY = /^(08|57P0[123])/;
const NET_AWAY = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'SQLITE_BUSY', 'SQLITE_LOCKED']);
// node-postgres says these in words, without a code
const PG_AWAY_TEXT = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

export function storageFault(err: unknown): Failure | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (code === '53100' || code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return { code: 'storage.full', detail: 'the storage is full: nothing more can be accepted now; what was accepted before is kept' };
  }
  if (NET_AWAY.has(code) || PG_AWAY.test(code) || PG_AWAY_TEXT.test(message)) {
    return { code: 'unavailable', detail: `the database is unavailable; try again in ${RETRY_AFTER_S} s` };
  }
  return null;
}

// Request bodies are parsed with zod schemas that reject unknown fields; the
// first problem becomes a `request.invalid` failure naming the field.
import type { z } from 'zod';
import { FailureError, type Failure, type Result } from '../errors.ts';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i ? '.' : '') + String(p))).join('');
  const detail = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
  throw new FailureError({ code: 'request.invalid', detail: field ? `${field}: ${detail}` : detail, ...(field ? { field } : {}) });
}

/** Unwraps a Result at the edge: a failure becomes the problem response. */
export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new FailureError(r.error as Failure);
}

/**
 * A contact reference (id or address) from the path, decoded once more for
 * clients that encode the address themselves. Malformed escapes ("%") stay as
 * they are instead of throwing (a 500), and a NUL, which PostgreSQL text
 * cannot hold, names nothing (test/hardening found both).
 */
export function pathRef(raw: string): string {
  let v = raw;
  try {
    v = decodeURIComponent(raw);
  } catch {
    // not an escape: the text as given
  }
  if (v.includes('\0')) throw new FailureError({ code: 'not_found', detail: 'no such resource' });
  return v;
}

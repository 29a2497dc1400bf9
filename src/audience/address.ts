// The identity of a contact within a tenant: the address with its domain in
// ASCII form, and a hash of its lower-cased form that survives erasure.
import crypto from 'node:crypto';
import { parseAddress } from '../compose/address.ts';
import type { Result } from '../errors.ts';
import { ok } from '../errors.ts';

export interface ContactAddress {
  email: string;
  domain: string;
  hash: string;
}

/** The hash of the normalised address (domain in ASCII form), so "josé@café.fr" and its stored form agree. */
export function addressHash(email: string): string {
  const p = parseAddress(email);
  return crypto.createHash('sha256').update((p.ok ? p.value.email : email).trim().toLowerCase()).digest('hex');
}

export function contactAddress(input: unknown, field = 'email'): Result<ContactAddress> {
  const p = parseAddress(input, field);
  if (!p.ok) return p;
  return ok({ email: p.value.email, domain: p.value.domain, hash: crypto.createHash('sha256').update(p.value.email.toLowerCase()).digest('hex') });
}

// Email address syntax as envoi accepts it at its edges. Deliberately stricter
// than RFC 5322 (no comments, no quoted local parts, no IP literals): what we
// accept must survive every provider's parser, and a sender never needs more.
// IDN domains are accepted and kept in their ASCII (punycode) form.
import { domainToASCII } from 'node:url';
import { fail, ok, type Result } from '../errors.ts';

export interface ParsedAddress {
  local: string;
  /** ASCII form, lower case */
  domain: string;
  /** local@domain with the ASCII domain */
  email: string;
}

const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function parseAddress(input: unknown, field = 'email'): Result<ParsedAddress> {
  if (typeof input !== 'string') return fail('message.invalid_address', `${field} must be a string`, field);
  if (/[\u0000-\u001f\u007f]/.test(input)) return fail('message.header_injection', `${field} contains a control character or line break`, field);
  const s = input.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return fail('message.invalid_address', `"${clip(s)}" is not an email address`, field);
  const local = s.slice(0, at);
  const domainIn = s.slice(at + 1);
  if (local.length > 64) return fail('message.invalid_address', `the local part of "${clip(s)}" is longer than 64 characters`, field);
  if (!local.split('.').every((atom) => atom.length > 0 && LOCAL_ATOM.test(atom))) {
    return fail('message.invalid_address', `"${clip(s)}" has an invalid local part`, field);
  }
  const domain = parseDomain(domainIn);
  if (!domain.ok) return fail('message.invalid_address', `"${clip(s)}": ${domain.error.detail}`, field);
  return ok({ local, domain: domain.value, email: `${local}@${domain.value}` });
}

/** A host name as a sending or recipient domain: ASCII form, at least two labels, no IP literal. */
export function parseDomain(input: string): Result<string> {
  if (input.startsWith('[') || /^[0-9.]+$/.test(input)) return fail('message.invalid_address', 'IP literals are not accepted as domains');
  const ascii = domainToASCII(input.replace(/\.$/, '')).toLowerCase();
  if (!ascii || ascii.length > 253) return fail('message.invalid_address', `"${clip(input)}" is not a valid domain name`);
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1])) {
    return fail('message.invalid_address', `"${clip(input)}" is not a valid domain name`);
  }
  return ok(ascii);
}

/** Display names, subjects and other one-line header values: refuse CR, LF and other controls (STYLE 13). */
export function checkHeaderText(value: string, field: string): Result<string> {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    return fail('message.header_injection', `${field} contains a line break or control character`, field);
  }
  return ok(value);
}

const clip = (s: string) => (s.length > 80 ? s.slice(0, 77) + '...' : s);

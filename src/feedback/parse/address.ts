// Addresses as the corpus and the suppression list want them: bare,
// lower-cased, without "rfc822;", angle brackets, quotes or source routes.

// Local parts as MTAs print them; no "/" or "|", so pipe commands and paths
// around an address are not taken into it.
const LOCAL = "[A-Za-z0-9._%+=#&*!$^~{}'-]+";
const DOMAIN = '(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]|\\[[0-9.:A-Fa-f]+\\])';

/** An address inside text (no anchors; for building patterns). */
export const ADDRESS_SOURCE = `${LOCAL}@${DOMAIN}`;
const WHOLE = new RegExp(`^${ADDRESS_SOURCE}$`);
const ANYWHERE = new RegExp(`(?<![A-Za-z0-9._%+=-])(${ADDRESS_SOURCE})`);

/** A field value or a token as an address, or null when it is none:
 * "rfc822; <Jane@Example.org>" → "jane@example.org";
 * "@relay.example:jane@host" (a source route) → "jane@host" only when host is a domain. */
export function normaliseAddress(value: string | null | undefined): string | null {
  if (!value) return null;
  let s = value.trim().replace(/^rfc822\s*;\s*/i, '').trim();
  s = s.replace(/^<(.*)>$/, '$1').replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1').trim();
  s = s.replace(/^<(.*)>$/, '$1').trim();
  s = s.replace(/^(?:@[^:,]+[,:])+/, ''); // source route
  s = s.replace(/\.+$/, '');
  if (s.length > 254 || !WHOLE.test(s)) return null;
  const at = s.lastIndexOf('@');
  if (at < 1 || at > 64) return null;
  return s.toLowerCase();
}

/** The first address found in free text, normalised, or null. */
export function findAddress(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = ANYWHERE.exec(text);
  return m ? normaliseAddress(m[1]) : null;
}

/** Every address in a list-like value ("a@x, B <b@y>"), normalised, unique. */
export function findAddresses(text: string | null | undefined): string[] {
  if (!text) return [];
  const re = new RegExp(ANYWHERE.source, 'g');
  const out = new Set<string>();
  for (const m of text.matchAll(re)) {
    const a = normaliseAddress(m[1]);
    if (a) out.add(a);
  }
  return [...out];
}

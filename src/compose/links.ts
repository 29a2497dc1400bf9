// Click tracking links (issue 4, AF-12). Every http(s) link of a marketing
// message is parsed, re-encoded per RFC 3986 (WHATWG URL serialisation:
// percent-encoding, punycode hosts) and rewritten through the tenant's own
// tracking host as https://<host>/c/<recipient>.<url base64url>.<MAC>.
// The target travels inside the token and the MAC covers (recipient, URL), so
// the redirect needs no lookup and can never become an open redirect: it
// only ever sends a browser to a URL envoi signed at composition.
import crypto from 'node:crypto';
import type { Secrets } from '../accounts/secrets.ts';

const MAC_BYTES = 12;

const mac = (secrets: Secrets, rid: string, url: string) => secrets.mac('click', `${rid}\n${url}`).subarray(0, MAC_BYTES).toString('base64url');

export function clickToken(secrets: Secrets, recipientId: string, url: string): string {
  const body = recipientId.replace(/^rcp_/, '');
  return `${body}.${Buffer.from(url).toString('base64url')}.${mac(secrets, body, url)}`;
}

/** The recipient and target of a click token, or null when it was not signed by us. */
export function parseClickToken(secrets: Secrets, token: string): { recipientId: string; url: string } | null {
  const m = /^([0-9a-z]{20,40})\.([A-Za-z0-9_-]{1,8000})\.([A-Za-z0-9_-]{16})$/.exec(token);
  if (!m) return null;
  const url = Buffer.from(m[2], 'base64url').toString('utf8');
  const expected = Buffer.from(mac(secrets, m[1], url));
  const given = Buffer.from(m[3]);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  if (!/^https?:\/\//i.test(url)) return null;
  return { recipientId: 'rcp_' + m[1], url };
}

/** RFC 3986 form of an absolute http(s) URL, or null when it is not one. */
export function normaliseUrl(href: string): string | null {
  try {
    const u = new URL(href.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const decodeEntities = (s: string) => s.replace(/&amp;/gi, '&').replace(/&quot;/gi, '"').replace(/&#39;|&apos;/gi, "'").replace(/&lt;/gi, '<').replace(/&gt;/gi, '>');
const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/**
 * Rewrites the href of every <a> whose target is an absolute http(s) URL,
 * except those `keep` says to leave (the unsubscribe link: it must work
 * even if the tracking host is down).
 */
export function rewriteLinks(html: string, rewrite: (url: string) => string, keep: (url: string) => boolean): string {
  return html.replace(/(<a\b[^>]*?\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi, (whole, lead: string, dq?: string, sq?: string) => {
    const url = normaliseUrl(decodeEntities(dq ?? sq ?? ''));
    if (!url || keep(url)) return whole;
    return `${lead}"${escapeAttr(rewrite(url))}"`;
  });
}

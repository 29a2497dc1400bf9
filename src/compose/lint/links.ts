// Links (AF-12: do not obfuscate URLs, encode them per the RFCs): IP hosts,
// credentials before the host, shorteners, malformed, unencoded or
// double-encoded URLs, relative links, and link text that shows one domain
// while the link leads to another (the pattern of phishing).
import shorteners from '../../policy/data/url-shorteners.json' with { type: 'json' };
import { isRealHost, registrable } from './hosts.ts';
import { clip } from './text.ts';
import type { Finding } from './types.ts';
import type { Link, MessageView } from './view.ts';

const SHORTENERS = new Set(shorteners.domains);
/** per finding ID; beyond, the last one says how many more there are */
const MAX_PER_ID = 10;
// template placeholders (Liquid, Mailjet) are filled in at send time: judged as plain text
const PLACEHOLDER = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\[\[[\s\S]*?\]\]/g;
const HAS_PLACEHOLDER = /\{\{|\{%|\[\[/;
// link text that is itself a URL or a host name, e.g. "www.shop.example/sale"
const URL_TEXT = /^(?:https?:\/\/)?([\p{L}\p{N}.-]+\.[\p{L}]{2,63})(?::\d+)?(?:[/?#]\S*)?$/iu;

export function checkLinks(view: MessageView): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const link of view.links) {
    const key = `${link.where} ${link.href} ${link.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(...checkLink(link));
  }
  return capPerId(out);
}

function checkLink(link: Link): Finding[] {
  // browsers drop tabs and line breaks inside a URL (WHATWG), and HTML tools wrap long hrefs
  const raw = link.href.replace(/[\t\r\n]/g, '');
  const probe = raw.replace(PLACEHOLDER, 'x');
  const f = (id: string, severity: Finding['severity'], message: string, fix: string): Finding =>
    ({ id, severity, where: link.where, requirements: ['AF-12'], excerpt: clip(raw), message, fix });
  if (!raw || raw.startsWith('#')) return [];
  // "https://{{ shop_host }}/…": the host is only known at send time
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(raw)?.[0];
  if (authority && HAS_PLACEHOLDER.test(authority)) return [];
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(probe)?.[1].toLowerCase();
  if (!scheme) {
    // "{{ offer_url }}": the whole address comes at send time
    if (HAS_PLACEHOLDER.test(raw) && !/^(www\.|\/)/i.test(probe)) return [];
    return [f('link.relative', 'warn', 'This link is not absolute (no https:// and host): a mail has no page to resolve it against, so it leads nowhere',
      'Write the full address, starting with https://.')];
  }
  if (scheme !== 'http' && scheme !== 'https') return []; // mailto:, tel:, cid: … are not web links
  if (/[\u0000-\u001f\u007f]/.test(probe) || !/^https?:\/\/[^/\\]/i.test(probe)) {
    return [f('link.malformed', 'block', 'This URL is malformed: it does not start with http(s):// and a host, or contains control characters',
      'Copy the address again from the browser\'s address bar.')];
  }
  if (/%(?![0-9a-f]{2})/i.test(probe)) {
    return [f('link.malformed', 'block', 'This URL has a "%" that does not start a percent-encoded byte (%XX)',
      'Encode a literal % as %25, or fix the broken escape.')];
  }
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return [f('link.malformed', 'block', 'This URL cannot be parsed', 'Copy the address again from the browser\'s address bar.')];
  }
  const host = url.hostname.toLowerCase();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[')) {
    // "http://3405803783/" is 203.0.113.7 to a browser: say both
    const written = host.startsWith('[') ? host : /^https?:\/\/(?:[^@/]*@)?([^/:?#]+)/i.exec(probe)?.[1] ?? host;
    return [f('link.ip-host', 'block', `This link points to an IP address (${host}${written.toLowerCase() !== host ? `, written ${written}` : ''}), a hallmark of spam and phishing`,
      'Link to a domain name you own, e.g. https://www.your-domain.example/…')];
  }
  const out: Finding[] = [];
  if (url.username || url.password) {
    out.push(f('link.obfuscated', 'block', `Text before "@" hides the real host (${host}) behind something that looks like another one`,
      'Remove the part before "@" from the address.'));
  }
  if (!host.includes('.')) {
    out.push(f('link.malformed', 'block', `The host "${host}" is not a public domain name: recipients cannot reach it`, 'Link to a public address.'));
  }
  if (/[\s"<>\\^`{|}]|[^\x00-\x7f]/.test(probe.replace(/^https?:\/\/[^/?#]*/i, ''))) {
    out.push(f('link.unencoded', 'warn', 'This URL contains spaces or characters that must be percent-encoded (RFC 3986)',
      'Encode spaces as %20 and other special or accented characters as %XX.'));
  }
  if (doubleEncoded(url)) {
    out.push(f('link.double-encoded', 'warn', 'This URL is encoded twice ("%25XX"): the server receives "%XX" instead of the character',
      'Encode the URL once: replace %25XX with %XX.'));
  }
  if ([...SHORTENERS].some((d) => host === d || host.endsWith('.' + d))) {
    out.push(f('link.shortener', 'warn', `${host} is a public URL shortener: it hides the destination, and filters score the spam sent through it`,
      'Link to the destination directly (your own domain\'s tracking is added at send time).'));
  }
  const shown = link.where === 'html' ? URL_TEXT.exec(link.text.trim())?.[1] : undefined;
  if (shown && isRealHost(shown.toLowerCase()) && registrable(shown.toLowerCase()) !== registrable(host)) {
    out.push({ ...f('link.text-mismatch', 'review', `The link text shows ${shown} but the link goes to ${host}, the pattern of phishing`,
      'Make the text and the target the same site, or use words (e.g. "See the offer") instead of an address.'),
    excerpt: clip(`${link.text} → ${raw}`) });
  }
  return out;
}

/**
 * "%25XX" in the path, or in a query value that is not itself an encoded URL
 * (a redirect's ?url=https%3A%2F%2F…%2520… is correctly encoded once, around
 * a URL that was itself encoded once).
 */
function doubleEncoded(url: URL): boolean {
  const twice = /%25[0-9a-f]{2}/i;
  if (twice.test(url.pathname)) return true;
  for (const part of url.search.slice(1).split('&')) {
    const value = part.slice(part.indexOf('=') + 1);
    if (!twice.test(value)) continue;
    let once: string;
    try {
      once = decodeURIComponent(value);
    } catch {
      return true;
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(once)) return true;
  }
  return false;
}

function capPerId(findings: Finding[]): Finding[] {
  const count = new Map<string, number>();
  for (const f of findings) count.set(f.id, (count.get(f.id) ?? 0) + 1);
  const kept = new Map<string, number>();
  return findings.filter((f) => {
    const n = (kept.get(f.id) ?? 0) + 1;
    kept.set(f.id, n);
    if (n === MAX_PER_ID && count.get(f.id)! > MAX_PER_ID) f.message += ` (and ${count.get(f.id)! - MAX_PER_ID} more links like it)`;
    return n <= MAX_PER_ID;
  });
}

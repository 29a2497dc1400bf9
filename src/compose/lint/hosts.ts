// Host names as the lint compares them: by registrable domain (www.shop.example
// and shop.example are one site), and only names that can be real.
import { parse } from 'tldts';

/** A name under a public suffix, or under the .example/.test names reserved for documentation (RFC 2606). */
export function isRealHost(host: string): boolean {
  const info = parse(host);
  return info.domain !== null && (info.isIcann === true || /\.(example|test)$/.test(host));
}

/** "www.shop.example" → "shop.example"; the host itself when it has no registrable part. */
export function registrable(host: string): string {
  return parse(host).domain ?? host;
}

/** "maison-dupont" for maison-dupont.example: the brand a sender's domain usually carries. */
export function domainLabel(host: string): string {
  return parse(host).domainWithoutSuffix ?? '';
}

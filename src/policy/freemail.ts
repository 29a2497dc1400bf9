// GM-3: is this a freemail (consumer mailbox provider) domain? Pure; the list
// is data in policy/data/freemail.json.
import { parse } from 'tldts';
import data from './data/freemail.json' with { type: 'json' };

const DOMAINS = new Set(data.domains);
const BRANDS = new Set(data.brands);

export function isFreemailDomain(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const info = parse(d);
  if (info.domain && DOMAINS.has(info.domain)) return true;
  if (DOMAINS.has(d)) return true;
  return info.domainWithoutSuffix !== null && BRANDS.has(info.domainWithoutSuffix) && info.isIcann === true;
}

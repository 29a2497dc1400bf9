// Composes one campaign message for one recipient, at dispatch time
// (ARCHITECTURE: no stored body per recipient): personalise the compiled
// template, insert the mandatory parts, add the headers every marketing
// message carries, build the MIME from the prepared shape, sign twice.
import type { Secrets } from '../accounts/secrets.ts';
import type { Campaign, List, Tenant, TenantProfile } from '../store/schema.ts';
import type { CompiledTemplate } from '../compose/templates/index.ts';
import { renderTemplate } from '../compose/templates/index.ts';
import { buildMime, prepareMime, type Prepared } from '../compose/fast-mime.ts';
import type { DkimSigner } from '../compose/dkim.ts';
import { recipientToken } from '../compose/recipient-token.ts';
import { addressHeader } from '../compose/address-header.ts';
import { consentHeaderValue, CONSENT_HEADER } from '../audience/consent.ts';
import { fail, ok, type Result } from '../errors.ts';
import { withMandatoryParts } from './mandatory.ts';
import { clickToken, rewriteLinks } from '../compose/links.ts';

export interface CampaignShape {
  campaign: Campaign;
  tenant: Tenant;
  profile: TenantProfile;
  template: CompiledTemplate;
  lists: Map<string, List>;
  fromDomain: string;
  bounceDomain: string;
  signer: DkimSigner;
  publicUrl: string;
  secrets: Secrets;
  prepared: Prepared;
  /** the tenant's tracking host when the campaign tracks clicks, else null */
  trackingHost: string | null;
  /** the tenant's tracking host when the campaign tracks opens, else null */
  openHost: string | null;
}

export interface CampaignRecipient {
  recipientId: string;
  email: string;
  fields: Record<string, unknown>;
  listId: string;
  consent: { source: string; opt_in: string; collected_at: number; ip: string | null; confirmed_at: number | null; confirm_ip: string | null } | null;
}

/** The headers every message of the campaign shares, prepared once. */
export function campaignShape(s: Omit<CampaignShape, 'prepared' | 'trackingHost' | 'openHost'>): CampaignShape {
  const c = s.campaign;
  const headers: [string, string][] = [['From', addressHeader(c.from_address, c.from_name)]];
  if (c.reply_to) headers.push(['Reply-To', addressHeader(c.reply_to)]);
  // Gmail's Feedback-ID: campaign:stream:tenant:sender
  headers.push(['Feedback-ID', `${c.id}:${c.stream}:${s.tenant.name}:envoi`]);
  const trackingHost = c.track_clicks === 1 ? s.profile.tracking_host : null;
  const openHost = c.track_opens === 1 ? s.profile.tracking_host : null;
  return { ...s, trackingHost, openHost, prepared: prepareMime({ headers }) };
}

export function unsubscribeUrls(s: Pick<CampaignShape, 'publicUrl' | 'secrets' | 'bounceDomain'>, recipientId: string): { https: string; mailto: string } {
  const token = recipientToken(s.secrets, 'unsub', recipientId);
  return { https: `${s.publicUrl}/u/${token}`, mailto: `mailto:u-${token}@${s.bounceDomain}?subject=unsubscribe` };
}

export function composeForRecipient(s: CampaignShape, r: CampaignRecipient, now: number, opts: { test?: boolean } = {}): Result<Buffer> {
  const list = s.lists.get(r.listId);
  if (!list) return fail('internal', `list ${r.listId} of the campaign is gone`);
  const unsub = unsubscribeUrls(s, r.recipientId);
  const rendered = renderTemplate(s.template, {
    contact: { ...r.fields, email: r.email },
    list: { name: list.name, description: list.description },
    sender: { organisation: s.profile.organisation, postal_address: s.profile.postal_address, phone: s.profile.phone },
    unsubscribe_url: unsub.https,
  });
  if (!rendered.ok) return rendered;
  const parts = withMandatoryParts({
    html: rendered.value.html, text: rendered.value.text, unsubscribeUrl: unsub.https, listName: list.name,
    identity: { organisation: s.profile.organisation, postalAddress: s.profile.postal_address, phone: s.profile.phone, organisationDomain: s.profile.organisation_domain },
    fromDomain: s.fromDomain, fromName: s.campaign.from_name,
  });
  if (s.trackingHost) {
    const host = s.trackingHost;
    parts.html = rewriteLinks(parts.html, (url) => `https://${host}/c/${clickToken(s.secrets, r.recipientId, url)}`, (url) => url === unsub.https);
  }
  if (s.openHost) parts.html = withOpenPixel(parts.html, `https://${s.openHost}/o/${recipientToken(s.secrets, 'open', r.recipientId)}`);
  const messageId = `${r.recipientId.slice(4)}@${s.fromDomain}`;
  const headers: [string, string][] = [
    ['To', addressHeader(r.email)],
    ['Subject', (opts.test ? '[TEST] ' : '') + rendered.value.subject],
    ['Message-ID', `<${messageId}>`],
    // RFC 8058 one-click, plus a mailto for clients that only know that (GM-9, MC-13)
    ['List-Unsubscribe', `<${unsub.https}>, <${unsub.mailto}>`],
    ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
    ['List-Id', `${list.name} <${list.name.replace(/_/g, '-')}.${s.fromDomain}>`],
  ];
  if (r.consent) headers.push([CONSENT_HEADER, consentHeaderValue(r.consent as never)]);
  const mime = buildMime(s.prepared, { headers, text: parts.text, html: parts.html, date: new Date(now) });
  return ok(s.signer.sign(mime));
}

/** The open-tracking pixel, last in the body so a clipped message (Gmail clips at 102 KB) counts no open it did not show. */
export function withOpenPixel(html: string, url: string): string {
  const img = `<img src="${url}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
  const at = html.search(/<\/body\s*>/i);
  return at === -1 ? html + img : html.slice(0, at) + img + html.slice(at);
}

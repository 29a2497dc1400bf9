// The compose editor's live check (issue 9): a template that is not saved
// yet, rendered for one of the tenant's contacts (or a sample one) and run
// through the same content lint as a campaign submit. Nothing is stored, so
// the editor can call it on every pause in typing.
import type { Profiles } from '../accounts/profile.ts';
import type { Audience } from '../audience/index.ts';
import type { Resolver } from '../net/resolver.ts';
import { fail, ok, type Result } from '../errors.ts';
import { compileTemplate, renderTemplate, type TemplateSource } from '../compose/templates/index.ts';
import { lint, type Finding } from '../compose/lint/index.ts';

export interface DraftLintDeps {
  profiles: Profiles;
  audience: Audience;
  resolver?: Resolver;
  /** sandbox delivery: DNS findings warn instead of block */
  sandbox: boolean;
}

export interface DraftLintInput {
  source: TemplateSource;
  /** a contact of the tenant, by id or by address (one of them); neither: sample data */
  contactId?: string;
  email?: string;
  /** the From the campaign will use; absent: the sender checks are left out */
  from?: { email: string; name?: string };
}

export interface DraftLintResult {
  subject: string;
  html: string;
  text: string;
  findings: Finding[];
  /** whom it was rendered for: a real contact's address, or null for the sample */
  contact: string | null;
}

export const SAMPLE_CONTACT = { email: 'sample@example.com', first_name: 'Alex', last_name: 'Sample' };
export const PREVIEW_UNSUBSCRIBE_URL = 'https://unsubscribe.invalid/preview';

export function createDraftLint(d: DraftLintDeps) {
  return async (tenantId: string, input: DraftLintInput): Promise<Result<DraftLintResult>> => {
    if (input.contactId && input.email) return fail('request.invalid', 'give contactId or email, not both', 'email');
    const ref = input.contactId ?? input.email;
    let contact: Record<string, unknown> = SAMPLE_CONTACT;
    if (ref) {
      // tenant-scoped lookup: another tenant's contact is simply not found
      const c = await d.audience.contacts.find(tenantId, ref);
      if (!c || c.status !== 'active') return fail('not_found', `no contact ${ref}`, input.contactId ? 'contactId' : 'email');
      contact = { ...JSON.parse(c.fields), email: c.email };
    }
    const compiled = await compileTemplate(input.source);
    if (!compiled.ok) return compiled;
    const profile = await d.profiles.get(tenantId);
    const r = renderTemplate(compiled.value, {
      contact,
      // no campaign yet, hence no list: a stand-in the author recognises as one
      list: { name: 'your list', description: '' },
      sender: { organisation: profile?.organisation ?? '', postal_address: profile?.postal_address ?? '', phone: profile?.phone ?? '' },
      unsubscribe_url: PREVIEW_UNSUBSCRIBE_URL,
    });
    if (!r.ok) return r;
    const findings = await lint({
      kind: 'marketing',
      // the lint needs a From; without one, its sender findings are dropped below
      from: input.from ?? { email: 'draft@example.com', name: profile?.organisation },
      subject: r.value.subject, html: r.value.html, text: r.value.text, senderName: profile?.organisation,
    }, { resolver: input.from ? d.resolver : undefined });
    const kept = input.from ? findings : findings.filter(isContentFinding);
    return ok({ ...r.value, findings: d.sandbox ? softenDns(kept) : kept, contact: ref ? String(contact.email) : null });
  };
}

/** A finding about the content, not about a From the author has not chosen yet. */
export function isContentFinding(f: Finding): boolean {
  return f.where !== 'from' && f.where !== 'reply-to' && !f.id.startsWith('dns.');
}

/** In the sandbox nothing leaves the machine: an unresolvable test domain is worth knowing, not worth blocking. */
export function softenDns(findings: Finding[]): Finding[] {
  return findings.map((f) => (f.severity === 'block' && /dns|resolve/i.test(f.id) ? { ...f, severity: 'warn' as const, message: `${f.message} (sandbox: not blocking)` } : f));
}

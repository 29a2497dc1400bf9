// The campaign lifecycle (issue 4):
//   draft → (review) → approved → scheduled → sending ⇄ paused → completed
//   and cancelled from any state before completed.
// Submitting runs every check a send needs (sender identity, From domain,
// lists, template rendering, content lint); a blocking finding keeps the
// campaign a draft, a prohibited-category hit sends it to review until an
// operator approves it (MJ-9). Edits are refused once sending has started.
import type { Kysely } from 'kysely';
import type { Database, Campaign, CampaignStatus } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Audience } from '../audience/index.ts';
import type { Domains } from '../accounts/domains.ts';
import type { Profiles } from '../accounts/profile.ts';
import type { Templates } from './templates.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { parseAddress } from '../compose/address.ts';
import { isFreemailDomain } from '../policy/freemail.ts';
import { renderTemplate } from '../compose/templates/index.ts';
import { lint, verdict, type Finding } from '../compose/lint/index.ts';
import type { Resolver } from '../net/resolver.ts';
import { localToUtc } from './local-time.ts';
import { doctorGate } from '../doctor/gate.ts';
import { softenDns } from './draft-lint.ts';

export interface CampaignInput {
  name: string;
  template: string;
  templateVersion?: number;
  lists: string[];
  segment?: string | null;
  fromAddress?: string;
  fromName?: string;
  replyTo?: string | null;
  stream?: string;
  /** click tracking through the tenant's tracking host (default on when the profile has one) */
  trackClicks?: boolean;
  /** the open pixel (default on); off, engagement comes from clicks only */
  trackOpens?: boolean;
}

export interface LifecycleDeps {
  db: Kysely<Database>;
  clock: Clock;
  audience: Audience;
  domains: Domains;
  profiles: Profiles;
  templates: Templates;
  resolver?: Resolver;
  /** sandbox delivery: DNS findings warn instead of block, nothing leaves the machine anyway */
  sandbox: boolean;
}

const EDITABLE: CampaignStatus[] = ['draft', 'review', 'approved', 'scheduled'];

export function createLifecycle(d: LifecycleDeps) {
  const { db, clock } = d;

  async function resolve(tenantId: string, input: CampaignInput): Promise<Result<Omit<Campaign, 'id' | 'tenant_id' | 'status' | 'created_at' | 'updated_at' | 'findings' | 'status_reason' | 'approved_by' | 'scheduled_at' | 'checkpoint' | 'enqueued' | 'audience_done' | 'started_at' | 'completed_at' | 'message_row_id'>>> {
    if (!input.name?.trim() || input.name.length > 200) return fail('request.invalid', 'a campaign name of 1-200 characters is required', 'name');
    const v = await d.templates.version(tenantId, input.template, input.templateVersion);
    if (!v) return fail('not_found', `no template ${input.template}${input.templateVersion ? ` version ${input.templateVersion}` : ''}`, 'template');
    if (!input.lists?.length) return fail('request.invalid', 'a campaign targets at least one list', 'lists');
    const listIds: string[] = [];
    for (const ref of input.lists) {
      const l = await d.audience.lists.find(tenantId, ref);
      if (!l) return fail('not_found', `no list ${ref}`, 'lists');
      listIds.push(l.id);
    }
    if (input.segment) {
      const s = d.audience.segment(tenantId, input.segment);
      if (!s.ok) return s;
    }
    const first = (await d.audience.lists.find(tenantId, listIds[0]))!;
    const fromAddress = input.fromAddress ?? first.from_address;
    const from = parseAddress(fromAddress, 'fromAddress');
    if (!from.ok) return from;
    if (isFreemailDomain(from.value.domain)) return fail('message.freemail_from', `${from.value.domain} is a mailbox provider's domain (GM-3)`, 'fromAddress');
    const domain = await d.domains.find(tenantId, from.value.domain);
    if (!domain?.verified) return fail('message.from_not_verified', `${from.value.domain} is not a verified sending domain of this account`, 'fromAddress');
    let replyTo: string | null = null;
    if (input.replyTo) {
      const r = parseAddress(input.replyTo, 'replyTo');
      if (!r.ok) return r;
      replyTo = r.value.email;
    }
    const fromName = (input.fromName ?? first.from_name).trim();
    if (/[\r\n]/.test(fromName)) return fail('message.header_injection', 'fromName contains a line break', 'fromName');
    return ok({
      name: input.name.trim(), template_version_id: v.id, list_ids: JSON.stringify(listIds), segment: input.segment ?? null,
      stream: input.stream ?? 'marketing', from_address: from.value.email, from_name: fromName, reply_to: replyTo,
      track_clicks: input.trackClicks === false ? 0 : 1,
      track_opens: input.trackOpens === false ? 0 : 1,
    });
  }

  async function setStatus(c: Campaign, status: CampaignStatus, extra: Partial<Campaign> = {}): Promise<Campaign> {
    const now = clock.now();
    // the WHERE on the old status makes each transition atomic: two racing calls cannot both win
    const r = await db.updateTable('campaigns').set({ status, updated_at: now, ...extra }).where('id', '=', c.id).where('status', '=', c.status).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new Error(`campaign ${c.id} changed status meanwhile`);
    return { ...c, ...extra, status, updated_at: now };
  }

  const conflict = (c: Campaign, want: string) => fail('conflict', `campaign ${c.name} is ${c.status}; cannot ${want}`);

  // The doctor's gate (issue 8), at submit and at schedule: in smtp mode a From
  // domain whose last doctor report failed a blocking check (SPF, DKIM, DMARC,
  // PTR, blocklists…) sends no marketing, and the refusal names each fix. The
  // sandbox is not gated: nothing leaves the machine.
  const gate = async (c: Campaign): Promise<Result<unknown>> => {
    if (d.sandbox) return ok(null);
    const domain = await d.domains.find(c.tenant_id, c.from_address.slice(c.from_address.lastIndexOf('@') + 1));
    return domain ? doctorGate(db, domain.id) : ok(null);
  };

  return {
    async create(tenantId: string, input: CampaignInput): Promise<Result<Campaign>> {
      const r = await resolve(tenantId, input);
      if (!r.ok) return r;
      const now = clock.now();
      const c: Campaign = {
        id: newId('cmp', now), tenant_id: tenantId, status: 'draft', ...r.value, message_row_id: null, findings: '[]', status_reason: null,
        approved_by: null, scheduled_at: null, checkpoint: null, enqueued: 0, audience_done: 0, created_at: now, updated_at: now, started_at: null, completed_at: null,
      };
      await db.insertInto('campaigns').values(c).execute();
      return ok(c);
    },

    get(tenantId: string | null, id: string): Promise<Campaign | undefined> {
      let q = db.selectFrom('campaigns').selectAll().where('id', '=', id);
      if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
      return q.executeTakeFirst();
    },

    list(tenantId: string): Promise<Campaign[]> {
      return db.selectFrom('campaigns').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(500).execute();
    },

    /** Any edit sends the campaign back to draft; none once sending has started. */
    async update(tenantId: string, id: string, input: CampaignInput): Promise<Result<Campaign>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (!EDITABLE.includes(c.status)) return fail('conflict', `campaign ${c.name} is ${c.status}: a campaign cannot be edited once sending has started`);
      const r = await resolve(tenantId, input);
      if (!r.ok) return r;
      return ok(await setStatus(c, 'draft', { ...r.value, findings: '[]', status_reason: 'edited', approved_by: null, scheduled_at: null }));
    },

    /** Renders the campaign for a sample contact and lints it: the same checks as a send. */
    async check(c: Campaign, sample?: Record<string, unknown>): Promise<Result<{ findings: Finding[]; subject: string; html: string; text: string }>> {
      const profile = await d.profiles.get(c.tenant_id);
      if (!profile) return fail('request.invalid', 'the sender identity (organisation, postal address, phone) is missing: set it with PUT /v1/profile before sending marketing (MC-11, MC-12)', 'profile');
      const v = await d.templates.versionById(c.template_version_id);
      const t = v && (await d.templates.compiled(v));
      if (!t || !t.ok) return t ? t : fail('not_found', 'the template version is gone');
      const lists = JSON.parse(c.list_ids) as string[];
      for (const id of lists) {
        if (!(await d.audience.lists.find(c.tenant_id, id))) return fail('conflict', `list ${id} of campaign ${c.name} was deleted`, 'lists');
      }
      const first = (await d.audience.lists.find(c.tenant_id, lists[0]))!;
      const r = renderTemplate(t.value, {
        contact: sample?.email ? sample : { email: 'sample@example.com', first_name: 'Alex', last_name: 'Sample', ...(sample ?? {}) },
        list: { name: first.name, description: first.description },
        sender: { organisation: profile.organisation, postal_address: profile.postal_address, phone: profile.phone },
        unsubscribe_url: 'https://unsubscribe.invalid/preview',
      });
      if (!r.ok) return r;
      let findings = await lint({
        kind: 'marketing', from: { email: c.from_address, name: c.from_name }, replyTo: c.reply_to ? { email: c.reply_to } : undefined,
        subject: r.value.subject, html: r.value.html, text: r.value.text, senderName: profile.organisation,
      }, { resolver: d.resolver });
      if (d.sandbox) findings = softenDns(findings);
      return ok({ findings, ...r.value });
    },

    async submit(tenantId: string, id: string): Promise<Result<Campaign & { verdict: string }>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status !== 'draft') return conflict(c, 'submit it (only drafts are submitted)');
      const gated = await gate(c);
      if (!gated.ok) return gated;
      const checked = await this.check(c);
      if (!checked.ok) return checked;
      const v = verdict(checked.value.findings);
      const findings = JSON.stringify(checked.value.findings);
      if (v === 'blocked') {
        await db.updateTable('campaigns').set({ findings, status_reason: 'blocked by content checks', updated_at: clock.now() }).where('id', '=', c.id).execute();
        const blocks = [...new Set(checked.value.findings.filter((f) => f.severity === 'block').map((f) => `${f.id}: ${f.message}`))];
        return fail('campaign.blocked', `the campaign cannot be sent: ${blocks.join('; ')}`);
      }
      const reason = v === 'review' ? `needs an operator's approval: ${checked.value.findings.filter((f) => f.severity === 'review').map((f) => f.id).join(', ')}` : null;
      return ok({ ...(await setStatus(c, v === 'review' ? 'review' : 'approved', { findings, status_reason: reason })), verdict: v });
    },

    /** Operator: a campaign in review may be sent. */
    async approve(id: string, actor: string): Promise<Result<Campaign>> {
      const c = await this.get(null, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status !== 'review') return conflict(c, 'approve it');
      return ok(await setStatus(c, 'approved', { approved_by: actor, status_reason: `approved by ${actor}` }));
    },

    /** at: ISO instant, or wall-clock "YYYY-MM-DDTHH:MM" in the tenant's time zone; absent: now. */
    async schedule(tenantId: string, id: string, at?: string): Promise<Result<Campaign>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status !== 'approved') return conflict(c, 'schedule it (submit it first; campaigns in review need an operator)');
      const gated = await gate(c);
      if (!gated.ok) return gated;
      let when = clock.now();
      if (at) {
        const tz = (await d.profiles.get(tenantId))?.timezone ?? 'UTC';
        const t = localToUtc(at, tz);
        if (t === null) return fail('request.invalid', `not a date: ${at} (use 2026-12-01T09:00, read in ${tz})`, 'at');
        when = t;
      }
      return ok(await setStatus(c, 'scheduled', { scheduled_at: when }));
    },

    async pause(tenantId: string | null, id: string, reason = 'paused'): Promise<Result<Campaign>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status !== 'sending' && c.status !== 'scheduled') return conflict(c, 'pause it');
      return ok(await setStatus(c, 'paused', { status_reason: reason }));
    },

    async resume(tenantId: string, id: string): Promise<Result<Campaign>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status !== 'paused') return conflict(c, 'resume it');
      return ok(await setStatus(c, c.started_at === null ? 'scheduled' : 'sending', { status_reason: 'resumed' }));
    },

    async cancel(tenantId: string, id: string): Promise<Result<Campaign>> {
      const c = await this.get(tenantId, id);
      if (!c) return fail('not_found', `no campaign ${id}`);
      if (c.status === 'completed' || c.status === 'cancelled') return conflict(c, 'cancel it');
      const done = await setStatus(c, 'cancelled', { status_reason: 'cancelled', completed_at: clock.now() });
      await db.updateTable('recipients').set({ status: 'cancelled', updated_at: clock.now() }).where('campaign_id', '=', c.id).where('status', '=', 'queued').execute();
      return ok(done);
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;

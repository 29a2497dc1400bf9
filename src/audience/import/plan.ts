// One batch of rows against what the store already holds: which contacts to
// write, which consent records and subscriptions, which lines to refuse, and
// the batch's tally. Pure (ids come from the caller's factory), so the rules
// — suppressed addresses refused, unsubscribed never re-subscribed, an
// existing subscriber kept, duplicates merged — read as one checklist and are
// tested without a database.
import crypto from 'node:crypto';
import type { ConsentRecord, Import, List, Subscription, SuppressionReason } from '../../store/schema.ts';
import { consentSatisfies } from '../consent.ts';
import type { Fields } from '../contacts.ts';
import type { DomainVerdict } from './domains.ts';
import type { Candidate, Refused, RefusalCode } from './rows.ts';
import { emptyTally, type MergeCode, type Tally } from './report.ts';

/** What the store holds for the batch's addresses, read inside the batch's transaction. */
export interface BatchState {
  suppressed: Map<string, SuppressionReason>;
  /** by address hash */
  contacts: Map<string, { id: string; fields: string; status: string }>;
  /** this list's subscriptions, by contact id, with the status of the import that last wrote each */
  subscriptions: Map<string, { status: Subscription['status']; quarantined: number; importId: string | null; importStatus: Import['status'] | null }>;
}

export interface PlanContext {
  importId: string;
  tenantId: string;
  list: Pick<List, 'id' | 'opt_in' | 'allow_relationship'>;
  now: number;
  newId: (prefix: string) => string;
}

export interface ContactWrite {
  /** the id to create the contact with; the store may answer with the id of a row a concurrent writer created */
  id: string;
  hash: string;
  email: string;
  domain: string;
  fields: Fields;
  isNew: boolean;
}

export interface BatchPlan {
  /** new contacts and existing ones whose fields changed */
  contacts: ContactWrite[];
  /** consent records and subscriptions, with the address hash of their contact (the store corrects the contact id if a concurrent writer created that contact first) */
  consents: { hash: string; record: ConsentRecord }[];
  /** each with its consent record: the contact's `subscribed` event tells both */
  subscriptions: { hash: string; row: Subscription; consent: ConsentRecord }[];
  consentTexts: Map<string, string>;
  rejects: { line: number; email: string | null; reason: string }[];
  tally: Tally;
}

type Row = Refused | Candidate;

export function planBatch(rows: Row[], verdicts: Map<string, DomainVerdict>, state: BatchState, ctx: PlanContext): BatchPlan {
  const tally = emptyTally();
  const plan: BatchPlan = { contacts: [], consents: [], subscriptions: [], consentTexts: new Map(), rejects: [], tally };
  const seen = new Map<string, ContactWrite & { changed: boolean }>();
  const textHashes = new Map<string, string>();

  const refuse = (line: number, email: string | null, code: RefusalCode, detail: string) => {
    tally.counts.refused++;
    tally.refusals[code] = (tally.refusals[code] ?? 0) + 1;
    plan.rejects.push({ line, email, reason: detail });
  };
  const merge = (code: MergeCode) => {
    tally.counts.merged++;
    tally.merges[code] = (tally.merges[code] ?? 0) + 1;
  };

  for (const row of rows) {
    tally.counts.rows++;
    tally.stats.rows++;
    if (row.flags.role) tally.stats.roleAccounts++;
    if (row.flags.invalid) tally.stats.invalidAddresses++;
    if (row.flags.trap) tally.stats.spamtrapLike++;
    if (row.kind === 'refused') {
      refuse(row.line, row.email, row.code, row.detail);
      continue;
    }
    const { address: a } = row;
    const verdict = verdicts.get(a.domain) ?? 'unverified';
    if (verdict === 'nxdomain' || verdict === 'no_mail') {
      tally.stats.noMailDomains++;
      refuse(row.line, a.email, 'no_mail_domain', verdict === 'nxdomain' ? `domain ${a.domain} does not exist` : `domain ${a.domain} has no MX and no address record: it receives no mail`);
      continue;
    }
    const suppressed = state.suppressed.get(a.hash);
    if (suppressed) {
      refuse(row.line, a.email, 'suppressed', `suppressed: ${suppressed}`);
      continue;
    }
    const existing = state.contacts.get(a.hash);
    if (existing?.status === 'erased') {
      refuse(row.line, a.email, 'erased', 'this address was erased on request');
      continue;
    }
    const earlier = seen.get(a.hash);
    if (earlier) {
      // the same address earlier in this batch: its fields join the first row's
      mergeFields(earlier, row.fields);
      merge('duplicate_in_file');
      unverified(tally, verdict, a.domain);
      continue;
    }
    const sub = existing ? state.subscriptions.get(existing.id) : undefined;
    if (sub?.status === 'unsubscribed') {
      refuse(row.line, a.email, 'unsubscribed', 'unsubscribed from this list: an import never subscribes it again');
      continue;
    }
    const held = sub && sub.quarantined === 1 && sub.importId !== ctx.importId && !(sub.importStatus === 'running' || sub.importStatus === 'failed');
    const write: ContactWrite & { changed: boolean } = existing
      ? { id: existing.id, hash: a.hash, email: a.email, domain: a.domain, fields: JSON.parse(existing.fields) as Fields, isNew: false, changed: false }
      : { id: ctx.newId('con'), hash: a.hash, email: a.email, domain: a.domain, fields: {}, isNew: true, changed: true };
    mergeFields(write, row.fields);
    seen.set(a.hash, write);
    unverified(tally, verdict, a.domain);

    if (sub?.importId === ctx.importId) merge('duplicate_in_file'); // written by an earlier batch of this file
    else if (held) merge('held_for_review');
    else if (sub?.status === 'subscribed' && sub.quarantined === 0) merge('existing_subscriber');
    else {
      if (existing) merge('existing_contact');
      else tally.counts.accepted++;
      const p = row.provenance;
      let textHash: string | null = null;
      if (p.consentText !== null) {
        textHash = textHashes.get(p.consentText) ?? sha256(p.consentText);
        textHashes.set(p.consentText, textHash);
        plan.consentTexts.set(textHash, p.consentText);
      }
      const record: ConsentRecord = {
        id: ctx.newId('cns'), tenant_id: ctx.tenantId, contact_id: write.id, list_id: ctx.list.id, source: p.source, collected_at: p.collectedAt,
        form_url: p.formUrl, ip: p.ip, user_agent: p.userAgent, consent_text_hash: textHash, checkbox_unchecked: null, separate_consent: null,
        opt_in: p.method, confirmed_at: p.confirmedAt, confirm_ip: null, confirm_user_agent: null,
        relationship: p.relationship, informed_how: p.informedHow, import_id: ctx.importId, created_at: ctx.now,
      };
      const subscribed = consentSatisfies(ctx.list, record);
      if (subscribed) tally.counts.subscribed++;
      else tally.counts.pending++;
      plan.consents.push({ hash: a.hash, record });
      plan.subscriptions.push({
        hash: a.hash,
        consent: record,
        row: {
          contact_id: write.id, list_id: ctx.list.id, tenant_id: ctx.tenantId, status: subscribed ? 'subscribed' : 'pending', consent_id: record.id,
          // held until the import's verdict: nothing from a list still being read is mailable (MJ-4)
          quarantined: 1, import_id: ctx.importId, created_at: ctx.now,
          confirmed_at: subscribed ? (p.confirmedAt ?? p.collectedAt) : null, unsubscribed_at: null, updated_at: ctx.now,
        },
      });
    }
  }
  plan.contacts = [...seen.values()].filter((c) => c.changed).map(({ changed: _, ...c }) => c);
  return plan;
}

function mergeFields(target: ContactWrite & { changed: boolean }, fields: Fields): void {
  for (const [k, v] of Object.entries(fields)) {
    if (target.fields[k] !== v) {
      target.fields[k] = v;
      target.changed = true;
    }
  }
}

function unverified(t: Tally, v: DomainVerdict, domain: string): void {
  if (v !== 'unverified') return;
  t.counts.unverifiedDomains++;
  t.unverified.add(domain);
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

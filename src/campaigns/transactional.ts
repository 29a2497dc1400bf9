// Transactional sends: one message from an application to its recipients.
// Reads as a checklist (STYLE 3): tenant may send? stream? addresses and
// headers valid? From on a verified domain of the tenant and not freemail?
// compose, sign, size, then store message + recipients + events (+ the
// idempotency record) in one transaction, and only then answer.
import type { Kysely } from 'kysely';
import type { Database, Domain, Stream, Tenant } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Domains } from '../accounts/domains.ts';
import type { Streams } from '../accounts/streams.ts';
import type { Tenants } from '../accounts/tenants.ts';
import type { OutgoingMessage, SendReceipt } from '../compose/types.ts';
import { fail, ok, type Result } from '../errors.ts';
import { newId } from '../ids.ts';
import { isFreemailDomain } from '../policy/freemail.ts';
import { validateMessage } from '../compose/validate.ts';
import { buildMime } from '../compose/message.ts';
import { DkimSigner } from '../compose/dkim.ts';
import { verpAddress } from '../compose/verp.ts';
import { headerValue, parseRaw, rawFrom, rewriteHeaders } from '../compose/raw.ts';
import { parseAddress } from '../compose/address.ts';
import { appendEvents } from '../events/log.ts';
import { isUniqueViolation } from '../store/connect.ts';
import { createMessageLog } from './message-log.ts';

export interface TransactionalDeps {
  db: Kysely<Database>;
  clock: Clock;
  secrets: Secrets;
  tenants: Tenants;
  domains: Domains;
  streams: Streams;
  limits: { maxMessageBytes: number; maxRecipients: number };
  /** tells the delivery workers there is work (they also poll) */
  notify(): void;
  /** the tenant's status, caps and suspension (reputation/controls.ts): may it send this many more on this stream now? */
  admit?(tenant: Tenant, recipients: number, streamKind: string): Promise<Result<void>>;
}

export interface Idempotency {
  key: string;
  requestHash: string;
}

export type SendOutcome = SendReceipt & { replayed: boolean };

interface Prepared {
  tenant: Tenant;
  stream: Stream;
  domain: Domain;
  from: string;
  subject: string;
  customId: string | null;
  recipients: { email: string; kind: 'to' | 'cc' | 'bcc' }[];
}

export function createTransactional(deps: TransactionalDeps) {
  const { db, clock } = deps;
  const log = createMessageLog(db);

  /** The checks every send passes, whatever its entry point. */
  async function authorise(tenantId: string, streamName: string, fromDomain: string, recipients = 1): Promise<Result<{ tenant: Tenant; stream: Stream; domain: Domain }>> {
    const tenant = await deps.tenants.find(tenantId);
    if (!tenant) return fail('auth.invalid', 'unknown tenant');
    if (tenant.status === 'disabled') return fail('tenant.not_active', `the account ${tenant.name} is disabled`);
    const stream = await deps.streams.get(tenant.id, streamName);
    if (!stream) return fail('message.unknown_stream', `no stream named ${streamName}`, 'stream');
    if (isFreemailDomain(fromDomain)) {
      return fail('message.freemail_from', `${fromDomain} belongs to a mailbox provider: mail from it fails DMARC everywhere; send from your own domain (GM-3)`, 'from.email');
    }
    const domain = await deps.domains.find(tenant.id, fromDomain);
    if (!domain || !domain.verified) {
      return fail('message.from_not_verified', `${fromDomain} is not a verified sending domain of this account; add it with "envoi domain add ${fromDomain}"`, 'from.email');
    }
    // last: a refused send above counts nothing against the daily cap
    const admitted = await deps.admit?.(tenant, recipients, stream.kind);
    if (admitted && !admitted.ok) return admitted;
    return ok({ tenant, stream, domain });
  }

  function envoiHeaders(p: { tenant: Tenant; stream: Stream; domain: Domain }, messageId: string) {
    return {
      messageId,
      // Gmail's format: campaign:stream:tenant:sender; "tx" marks transactional mail (no campaign)
      feedbackId: `tx:${p.stream.name}:${p.tenant.name}:envoi`,
    };
  }

  // one signer per domain: its header list and keys are set up once, not per message
  const signers = new Map<string, DkimSigner>();
  async function sign(domain: Domain, unsigned: Buffer): Promise<Buffer> {
    let signer = signers.get(domain.id);
    if (!signer) signers.set(domain.id, (signer = new DkimSigner(await deps.domains.signingKeys(domain), { clock })));
    return signer.sign(unsigned);
  }

  async function persist(p: Prepared, messageId: string, id: string, raw: Buffer, idem?: Idempotency): Promise<Result<SendOutcome>> {
    if (raw.length > deps.limits.maxMessageBytes) {
      return fail('message.too_large', `the message is ${raw.length} bytes; the limit is ${deps.limits.maxMessageBytes}`);
    }
    const now = clock.now();
    const bounceDomain = `${p.stream.bounce_label}.${p.domain.name}`;
    const rows = p.recipients.map((r) => {
      const rid = newId('rcp', now);
      return {
        id: rid,
        message_id: id,
        tenant_id: p.tenant.id,
        address: r.email,
        kind: r.kind,
        envelope_from: verpAddress(deps.secrets, rid, bounceDomain),
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        locked_until: null,
        locked_by: null,
        updated_at: now,
      };
    });
    const receipt: SendReceipt = { id, messageId, recipients: rows.map((r) => ({ email: r.address, kind: r.kind as 'to', id: r.id })) };
    try {
      await db.transaction().execute(async (trx) => {
        // first, so a concurrent duplicate waits on this row and then fails
        if (idem) {
          await trx.insertInto('idempotency_keys').values({
            tenant_id: p.tenant.id, key: idem.key, request_hash: idem.requestHash, status_code: 202,
            response: JSON.stringify(receipt), created_at: now,
          }).execute();
        }
        await trx.insertInto('messages').values({
          id, tenant_id: p.tenant.id, stream_id: p.stream.id, domain_id: p.domain.id, message_id: messageId,
          from_address: p.from, subject: p.subject, custom_id: p.customId, campaign_id: null, raw, size: raw.length, created_at: now,
        }).execute();
        await trx.insertInto('recipients').values(rows).execute();
        await appendEvents(trx, rows.map((r) => ({
          tenantId: p.tenant.id, messageId: id, recipientId: r.id, type: 'accepted' as const, at: now,
          data: { to: r.address, stream: p.stream.name, size: raw.length, customId: p.customId },
        })));
      });
    } catch (e) {
      if (idem && isUniqueViolation(e)) return replay(p.tenant.id, idem);
      throw e;
    }
    deps.notify();
    return ok({ ...receipt, replayed: false });
  }

  async function replay(tenantId: string, idem: Idempotency): Promise<Result<SendOutcome>> {
    const row = await db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('key', '=', idem.key).executeTakeFirst();
    if (!row) return fail('internal', 'idempotency record vanished');
    if (row.request_hash !== idem.requestHash) {
      return fail('idempotency.mismatch', `Idempotency-Key "${idem.key}" was already used with a different request`);
    }
    return ok({ ...(JSON.parse(row.response) as SendReceipt), replayed: true });
  }

  return {
    /** A structured message (REST API, Mailjet-compatible API, CLI). */
    async send(tenantId: string, input: OutgoingMessage, idem?: Idempotency): Promise<Result<SendOutcome>> {
      if (idem) {
        const prior = await db.selectFrom('idempotency_keys').select('key').where('tenant_id', '=', tenantId).where('key', '=', idem.key).executeTakeFirst();
        if (prior) return replay(tenantId, idem);
      }
      const v = validateMessage(input, deps.limits.maxRecipients);
      if (!v.ok) return v;
      const auth = await authorise(tenantId, input.stream ?? 'transactional', v.value.fromDomain, v.value.recipients.length);
      if (!auth.ok) return auth;
      const now = clock.now();
      const id = newId('msg', now);
      const messageId = `${id.slice(4)}@${auth.value.domain.name}`;
      const h = envoiHeaders(auth.value, messageId);
      const unsigned = await buildMime(v.value.msg, { messageId, date: new Date(now), extraHeaders: { 'Feedback-ID': h.feedbackId } });
      const raw = await sign(auth.value.domain, unsigned);
      return persist({
        ...auth.value, from: v.value.msg.from.email, subject: input.subject, customId: input.customId ?? null, recipients: v.value.recipients,
      }, messageId, id, raw, idem);
    },

    /** A whole message with its envelope (SMTP submission). */
    async sendRaw(tenantId: string, envelope: { mailFrom: string; rcptTo: string[] }, rawIn: Buffer, streamName = 'transactional'): Promise<Result<SendOutcome>> {
      if (rawIn.length > deps.limits.maxMessageBytes) return fail('message.too_large', `the limit is ${deps.limits.maxMessageBytes} bytes`);
      const parsed = parseRaw(rawIn);
      if (!parsed.ok) return parsed;
      const from = rawFrom(parsed.value);
      if (!from.ok) return from;
      const recipients: Prepared['recipients'] = [];
      const seen = new Set<string>();
      for (const [i, r] of envelope.rcptTo.entries()) {
        const a = parseAddress(r, `rcptTo[${i}]`);
        if (!a.ok) return a;
        if (!seen.has(a.value.email.toLowerCase())) {
          seen.add(a.value.email.toLowerCase());
          recipients.push({ email: a.value.email, kind: 'to' });
        }
      }
      if (!recipients.length) return fail('message.no_recipients', 'no recipients');
      if (recipients.length > deps.limits.maxRecipients) return fail('request.invalid', `at most ${deps.limits.maxRecipients} recipients per message`);
      const auth = await authorise(tenantId, streamName, from.value.domain, recipients.length);
      if (!auth.ok) return auth;
      const now = clock.now();
      const id = newId('msg', now);
      const existingId = headerValue(parsed.value, 'message-id')?.replace(/^<|>$/g, '');
      // An application's own Message-ID is kept (its threading depends on it); envoi adds one when missing.
      const messageId = existingId && /^[^<>\s@]+@[^<>\s@]+$/.test(existingId) ? existingId : `${id.slice(4)}@${auth.value.domain.name}`;
      const add: Record<string, string> = { 'Feedback-ID': envoiHeaders(auth.value, messageId).feedbackId };
      if (messageId !== existingId) add['Message-ID'] = `<${messageId}>`;
      if (!headerValue(parsed.value, 'date')) add['Date'] = new Date(now).toUTCString().replace('GMT', '+0000');
      // Bcc must not travel; Return-Path is the receiver's to write; our own headers are ours to set.
      const unsigned = rewriteHeaders(parsed.value, ['bcc', 'return-path', 'feedback-id', 'dkim-signature', ...(messageId !== existingId ? ['message-id'] : [])], add);
      const raw = await sign(auth.value.domain, unsigned);
      const subject = headerValue(parsed.value, 'subject') ?? '';
      return persist({ ...auth.value, from: from.value.email, subject, customId: null, recipients }, messageId, id, raw);
    },

    /** A message of this tenant with its recipients and events; another tenant's is "not found". */
    get: log.story,
    /** The dashboard's search (message-log.ts). */
    byRecipient: log.byRecipient,
    byMessageId: log.byMessageId,
  };
}

export type Transactional = ReturnType<typeof createTransactional>;

// The simulator's receivers (mailbox.ts says who behaves how). Every outcome
// goes through the same paths as real delivery: the sandbox captures what was
// "delivered", outcomes.ts writes bounces and deferrals (a hard bounce
// suppresses), and the DSNs, ARF reports and auto-replies the receivers send
// back are handed to the inbound MX's handler — the same parser and actions
// as mail from the internet.
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import mailauth from 'mailauth/lib/dkim/verify.js';
import type { Database, Recipient } from '../../store/schema.ts';
import type { Clock } from '../../clock.ts';
import type { Sandbox } from '../sandbox.ts';
import type { Outcomes } from '../outcomes.ts';
import type { Domains } from '../../accounts/domains.ts';
import type { InboundHandler } from '../../feedback/inbound.ts';
import { newId } from '../../ids.ts';
import { loadProviders, reactionFor } from '../../policy/providers.ts';
import { asyncBounce, complaintReport, vacationReply, type Original } from './reports.ts';
import { simulatorBehaviour, SIMULATOR_DOMAIN, type Behaviour } from './mailbox.ts';

export interface SimulatorDeps {
  db: Kysely<Database>;
  clock: Clock;
  sandbox: Sandbox;
  outcomes: Outcomes;
  domains: Domains;
  /** the inbound MX's handler: where the receivers' reports go */
  inbound: () => InboundHandler | undefined;
  /** soft bounces are retried after this long (short, so a user sees the retry) */
  softRetryMs?: number;
}

const REPORTING_MTA = `mx.${SIMULATOR_DOMAIN}`;
const providers = loadProviders();
const google = providers.find((p) => p.name === 'google')!;

export function createSimulator(d: SimulatorDeps) {
  /** What Gmail would say about the message's authentication: null when it passes. */
  async function gmailVerdict(r: Recipient, raw: Buffer): Promise<{ code: number; enhanced: string } | null> {
    const fromDomain = /^from:[^\r\n]*@([a-z0-9.-]+)/im.exec(raw.subarray(0, 64 * 1024).toString('latin1'))?.[1]?.toLowerCase();
    const domain = fromDomain ? await d.db.selectFrom('domains').selectAll().where('name', '=', fromDomain).where('tenant_id', '=', r.tenant_id).executeTakeFirst() : undefined;
    // SPF cannot pass for a domain whose records were never published
    if (!domain || !domain.verified) return { code: 421, enhanced: '4.7.27' };
    const published = await d.domains.records(domain);
    const resolver = async (name: string, type: string) => {
      const hits = published.filter((p) => p.type === type && p.name.toLowerCase() === name.toLowerCase());
      if (!hits.length) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
      return hits.map((h) => [h.value]);
    };
    const res = await mailauth.dkimVerify(raw, { resolver, sender: r.envelope_from }) as { results: { signingDomain?: string; status?: { result?: string } }[] };
    const passing = res.results.filter((x) => x.status?.result === 'pass');
    if (!passing.length) return { code: 421, enhanced: '4.7.30' };
    const org = getDomain(fromDomain!) ?? fromDomain;
    if (!passing.some((x) => (getDomain(x.signingDomain ?? '') ?? x.signingDomain) === org)) return { code: 421, enhanced: '4.7.32' };
    return null;
  }

  function original(r: Recipient, raw: Buffer, now: number): Original {
    return { returnPath: r.envelope_from, recipient: r.address, raw, reportingMta: REPORTING_MTA, date: new Date(now), id: newId('sim', now).slice(4) };
  }

  async function sendBack(r: Recipient, report: Buffer, from: string): Promise<void> {
    const h = d.inbound();
    if (!h) return;
    // as a remote MTA would: RCPT first (refused if not ours), then the message
    const okRcpt = await h.acceptRecipient(r.envelope_from);
    if (okRcpt.ok) await h.receive({ mailFrom: from, rcptTo: [r.envelope_from], remoteAddress: '127.0.0.1' }, report);
  }

  return {
    handles: (address: string) => simulatorBehaviour(address) !== null,
    /** what gmail-strict@ answers for this message (null: accepted) */
    gmailVerdict,

    async deliver(r: Recipient, workerId: string, raw: Buffer): Promise<void> {
      const behaviour = simulatorBehaviour(r.address) as Behaviour;
      const now = d.clock.now();
      const at = { remoteHost: REPORTING_MTA, remoteIp: '127.0.0.1', provider: 'simulator', simulator: behaviour };
      switch (behaviour) {
        case 'bounce':
          return d.outcomes.final(r, workerId, 'bounced', now, { ...at, code: 550, enhanced: '5.1.1', text: `5.1.1 <${r.address}>: Recipient address rejected: User unknown`, hard: true, category: 'unknown-user' }, { hardBounce: true });
        case 'softbounce':
          if (r.attempts === 0) {
            return d.outcomes.deferred(r, workerId, now, now + (d.softRetryMs ?? 5000), { ...at, code: 452, enhanced: '4.2.2', text: '4.2.2 Mailbox full, try again later' });
          }
          return d.sandbox.deliver(r, workerId, raw);
        case 'gmail-strict': {
          const v = await gmailVerdict(r, raw);
          if (v) {
            const rule = google.reactions.find((x) => x.match.enhanced === v.enhanced);
            const text = rule?.example ?? `${v.code} ${v.enhanced} authentication failed`;
            const reaction = reactionFor(google, v.code, text, providers);
            return d.outcomes.deferred(r, workerId, now, now + 15 * 60_000, { ...at, provider: 'google', code: v.code, enhanced: v.enhanced, text, reaction: reaction?.action, fault: reaction?.fault });
          }
          return d.sandbox.deliver(r, workerId, raw);
        }
        default:
          await d.sandbox.deliver(r, workerId, raw);
      }
      // accepted; now the receiver's own mail comes back
      if (behaviour === 'bounce-async') await sendBack(r, asyncBounce(original(r, raw, now)), '');
      if (behaviour === 'complaint') await sendBack(r, complaintReport(original(r, raw, now)), `fbl@${REPORTING_MTA}`);
      if (behaviour === 'autoreply') await sendBack(r, vacationReply(original(r, raw, now)), r.address);
    },
  };
}

export type Simulator = ReturnType<typeof createSimulator>;

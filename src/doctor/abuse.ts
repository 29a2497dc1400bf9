// abuse@ and postmaster@ (AF-8, RFC 2142): accepted by the domain's MX (a
// RCPT probe, no message sent) or routed to envoi, which receives, stores
// and acknowledges reports. Pure over the probe.
import type { ProbeResult } from './smtp-probe.ts';
import { check, type Check } from './types.ts';

export const ROLE_MAILBOXES = ['abuse', 'postmaster'] as const;

export interface AbuseFacts {
  domain: string;
  /** the domain's MX is envoi's inbound server */
  routedToEnvoi: boolean;
  /** the RCPT probe of the domain's first answering MX, when not routed to envoi */
  probe?: { exchange: string; result: ProbeResult };
}

export function judgeAbuse(f: AbuseFacts): Check[] {
  const req = ['AF-8'];
  return ROLE_MAILBOXES.map((box) => {
    const address = `${box}@${f.domain}`;
    if (f.routedToEnvoi) return check({ id: 'abuse.mailbox', subject: address, status: 'pass', requirements: req, found: 'the domain\'s MX is envoi, which receives, stores and acknowledges reports' });
    if (!f.probe) return check({ id: 'abuse.mailbox', subject: address, status: 'warn', requirements: req, found: 'not probed: the domain has no MX that could be reached' });
    const r = f.probe.result.rcpt.find((x) => x.address === address);
    if (!r) return check({ id: 'abuse.mailbox', subject: address, status: 'warn', requirements: req, found: `could not check: ${f.probe.exchange} ${f.probe.result.error ?? 'ended the conversation early'}` });
    const reply = `${r.reply.code} ${r.reply.text.split('\n')[0]}`;
    if (r.reply.code >= 200 && r.reply.code < 300) return check({ id: 'abuse.mailbox', subject: address, status: 'pass', requirements: req, found: `${f.probe.exchange} accepts it (${reply})` });
    if (r.reply.code < 500) return check({ id: 'abuse.mailbox', subject: address, status: 'warn', requirements: req, found: `${f.probe.exchange} deferred it (${reply}); greylisting can do this — run the doctor again later` });
    return check({ id: 'abuse.mailbox', subject: address, status: 'fail', requirements: req, found: `${f.probe.exchange} refuses it (${reply}): complaints sent there are lost`, fix: `create the ${address} mailbox (or an alias to a mailbox someone reads), as RFC 2142 asks` });
  });
}

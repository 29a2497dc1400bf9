// Direct delivery to the recipient's MX (issue 5), one recipient at a time.
// The checklist before connecting: where does the domain's mail go (MX),
// which provider is it, is marketing to it in quiet hours (AF-9), is the
// provider slowed down or paused by an earlier reply (GM-11), is a
// connection slot free (per provider and IP pool)? Then STARTTLS-required
// SMTP (GM-7) from the stream's IP pool address with its EHLO name (MC-5,
// AF-19), the reply classified (policy/replies.ts) and its outcome written.
//
// Not yet here (issue 5 continues): connection reuse across messages, the
// shared caps in Redis, warm-up budgets, MTA-STS, smart-host mode.
import type { Logger } from 'pino';
import type { Recipient } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { MxRouter } from './route/mx.ts';
import type { Outcomes } from './outcomes.ts';
import { headersOf } from './outcomes.ts';
import { openSession, type SendOutcome } from './smtp/transport.ts';
import { loadProviders, providerForMx, reactionFor, type ProviderProfile } from '../policy/providers.ts';
import { classifyReply } from '../policy/replies.ts';
import { nextAllowed, inQuietHours } from '../policy/quiet-hours.ts';
import { expired, nextAttemptDelay } from '../policy/retry.ts';

export interface SmtpDeliveryOptions {
  clock: Clock;
  logger: Logger;
  router: MxRouter;
  outcomes: Outcomes;
  /** EHLO name: the FQDN of the source address (MC-5) */
  ehloName: string;
  /** IP pool name → local address to bind (AF-19); absent: the system's choice */
  pools: Record<string, string>;
  /** 25 in production; tests run their peers on another port */
  port: number;
  /** extra CA certificates to trust (tests) */
  ca?: string;
  timeoutsMs?: { connect?: number; command?: number };
}

export interface DeliveryJob {
  r: Recipient;
  raw: Buffer;
  workerId: string;
  /** marketing honours quiet hours; transactional never waits for them */
  marketing: boolean;
  ipPool: string;
  /** when the message was accepted: its age decides expiry */
  acceptedAt: number;
}

export function createSmtpDelivery(o: SmtpDeliveryOptions) {
  const providers = loadProviders();
  // per (provider, pool): open connections, and until when the provider is slowed down or paused
  const busy = new Map<string, number>();
  const holdUntil = new Map<string, { until: number; why: string }>();

  function outcomeData(target: { host: string; ip: string } | null, out: SendOutcome | null, extra: Record<string, unknown> = {}) {
    const base: Record<string, unknown> = { ...extra };
    if (target) Object.assign(base, { remoteHost: target.host, remoteIp: target.ip });
    if (out?.kind === 'sent') Object.assign(base, { tls: out.tls, code: out.response.code, text: out.response.text });
    if (out?.kind === 'failed') Object.assign(base, { stage: out.stage, code: out.code, enhanced: out.enhanced, text: out.text, tlsRefused: out.tlsRefused });
    return base;
  }

  async function retryOrExpire(j: DeliveryJob, now: number, data: Record<string, unknown>, retryAfterMinutes?: number) {
    if (expired(j.acceptedAt, now, j.marketing ? 'marketing' : 'transactional')) {
      return o.outcomes.final(j.r, j.workerId, 'expired', now, { ...data, reason: 'expired' });
    }
    const delay = Math.max(nextAttemptDelay(j.r.attempts + 1), (retryAfterMinutes ?? 0) * 60_000);
    return o.outcomes.deferred(j.r, j.workerId, now, now + delay, data);
  }

  async function attempt(j: DeliveryJob, provider: ProviderProfile, host: { host: string; ips: string[] }): Promise<{ target: { host: string; ip: string }; out: SendOutcome }> {
    const target = { host: host.host, ip: host.ips[0], port: o.port };
    const session = await openSession(target, {
      ehloName: o.ehloName, localAddress: o.pools[j.ipPool], tls: provider.tls, verifyCertificates: provider.verifyCertificates, ca: o.ca,
      connectTimeoutMs: o.timeoutsMs?.connect, socketTimeoutMs: o.timeoutsMs?.command, greetingTimeoutMs: o.timeoutsMs?.command,
    });
    if ('kind' in session) return { target, out: session };
    try {
      return { target, out: await session.send({ from: j.r.envelope_from, to: [j.r.address] }, j.raw) };
    } finally {
      await session.close();
    }
  }

  return {
    async deliver(j: DeliveryJob): Promise<void> {
      const now = o.clock.now();
      const domain = j.r.address.slice(j.r.address.lastIndexOf('@') + 1);
      const route = await o.router.route(domain);
      if (route.kind === 'no-mail') {
        return o.outcomes.final(j.r, j.workerId, 'bounced', now, { category: 'unknown-domain', hard: true, reason: route.reason, text: `${domain}: ${route.reason}` }, { hardBounce: true });
      }
      if (route.kind === 'dns-error') return retryOrExpire(j, now, { stage: 'dns', text: `DNS lookup of ${domain} failed (${route.code})` });

      const provider = providerForMx(route.hosts.map((h) => h.host), providers);
      // "default" gathers every other receiver: its caps and slowdowns are per MX host, not shared by all of them
      const key = `${provider.name === 'default' ? `default:${route.hosts[0].host}` : provider.name}|${j.ipPool}`;
      if (j.marketing && provider.quietHours && inQuietHours(now, provider.quietHours)) {
        return o.outcomes.postpone(j.r, j.workerId, now, nextAllowed(now, provider.quietHours));
      }
      const hold = holdUntil.get(key);
      if (hold && hold.until > now) return o.outcomes.postpone(j.r, j.workerId, now, hold.until);
      if ((busy.get(key) ?? 0) >= provider.maxConnections) return o.outcomes.postpone(j.r, j.workerId, now, now + 1000);

      busy.set(key, (busy.get(key) ?? 0) + 1);
      let last: { target: { host: string; ip: string }; out: SendOutcome } | undefined;
      try {
        for (const host of route.hosts) {
          last = await attempt(j, provider, host);
          // a host that did not answer: try the next MX; one that answered has spoken for the domain
          if (last.out.kind === 'sent' || (last.out.stage !== 'connect' && last.out.stage !== 'greeting') || last.out.code) break;
        }
      } finally {
        busy.set(key, (busy.get(key) ?? 1) - 1);
      }
      const { target, out } = last!;
      const done = o.clock.now();
      if (out.kind === 'sent' && out.recipients[0]?.accepted && out.response.code < 300) {
        return o.outcomes.final(j.r, j.workerId, 'delivered', done, outcomeData(target, out, { provider: provider.name }));
      }
      const code = out.kind === 'sent' ? (out.recipients[0]?.accepted ? out.response.code : out.recipients[0]?.code ?? 0) : out.code ?? 0;
      const text = out.kind === 'sent' ? (out.recipients[0]?.accepted ? out.response.text : out.recipients[0]?.text ?? '') : out.text;
      const failure = { ...outcomeData(target, out, { provider: provider.name, code, text }), transcript: out.transcript, headers: headersOf(j.raw) };
      if (out.kind === 'failed' && !out.code) return retryOrExpire(j, done, failure);
      const reaction = reactionFor(provider, code, text, providers);
      if (reaction && reaction.action !== 'domain-fault') {
        holdUntil.set(key, { until: done + (reaction.durationMinutes ?? 15) * 60_000, why: reaction.example });
      }
      const c = classifyReply(code, text, { provider: provider.name });
      const data = { ...failure, classification: c, reaction: reaction?.action, fault: reaction?.fault };
      switch (c.kind) {
        case 'delivered':
          return o.outcomes.final(j.r, j.workerId, 'delivered', done, outcomeData(target, out, { provider: provider.name }));
        case 'deferred':
          return retryOrExpire(j, done, data, c.retryAfterMinutes);
        case 'bounced':
          if (!c.hard) return retryOrExpire(j, done, data);
          return o.outcomes.final(j.r, j.workerId, 'bounced', done, data, { hardBounce: true });
        case 'blocked':
          return c.permanent ? o.outcomes.final(j.r, j.workerId, 'blocked', done, data) : retryOrExpire(j, done, data);
      }
    },
  };
}

export type SmtpDelivery = ReturnType<typeof createSmtpDelivery>;

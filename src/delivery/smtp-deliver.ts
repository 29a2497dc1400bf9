// Direct delivery to the recipients' MX hosts (issue 5), many at once.
// The checklist for each recipient, before it waits for a session: where
// does the domain's mail go (MX), which provider is it, is marketing to it in
// quiet hours (AF-9), is the provider slowed down or paused by an earlier
// reply (GM-11)? Then it joins the ready queue of its egress path
// (egress/path.ts); the path's lanes — at most the provider's connection cap
// per (provider, IP pool), at most delivery.concurrency in all — each keep
// one STARTTLS-required (GM-7) SMTP session from the pool's address with its
// EHLO name (MC-5, AF-19) and send on it message after message
// (egress/session.ts). Each reply is classified (policy/replies.ts) and its
// outcome handed to the group writer (outcomes.ts).
//
// Direct to the MX, two more steps pick the hosts (route/pick.ts): the IP
// pool's address family (an IPv4 pool reaches only A addresses, an IPv6 pool
// only AAAA), and the domain's MTA-STS policy (RFC 8461): in enforce mode
// only the MX names it lists are used, and TLS with a certificate valid for
// the MX name is required whatever the provider profile says (such mail goes
// on a path of its own, "…|mta-sts", when the profile is laxer); in testing
// mode delivery is as usual and what would have failed is recorded.
import type { Logger } from 'pino';
import type { Recipient } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { MxRouter, Route } from './route/mx.ts';
import type { Outcomes } from './outcomes.ts';
import { headersOf } from './outcomes.ts';
import { openSession, type SendFailure, type SendOutcome } from './smtp/transport.ts';
import type { StepTimeouts } from './smtp/wire.ts';
import { loadProviders, providerForMx, reactionFor, type ProviderProfile } from '../policy/providers.ts';
import { classifyReply } from '../policy/replies.ts';
import { nextAllowed, inQuietHours } from '../policy/quiet-hours.ts';
import { expired, nextAttemptDelay } from '../policy/retry.ts';
import { EgressPath, type PathJob } from './egress/path.ts';
import { LaneBudget } from './egress/lanes.ts';
import { LaneSession, type Target } from './egress/session.ts';
import { createLocalEgressState, SLOT_TTL_MS, type EgressSlot, type EgressState } from './egress/state.ts';
import { lookup } from 'node:dns/promises';
import type { Faults } from './faults.ts';
import type { MxHost } from './route/mx.ts';
import type { Warmup } from './warmup.ts';
import type { MtaSts } from './route/mta-sts.ts';
import { pickHosts, stsRecord, type AppliedSts } from './route/pick.ts';

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
  /** per step of a session (delivery.timeoutsMs); RFC 5321 4.5.3.2 values where absent */
  timeoutsMs?: Partial<StepTimeouts>;
  /** the provider profiles, configured overrides applied (default: the shipped ones) */
  providers?: ProviderProfile[];
  /** lanes (sessions sending) at once in this process (delivery.concurrency) */
  concurrency?: number;
  /** a session with nothing to send is closed after this long */
  idleMs?: number;
  /** connection slots and holds per egress path (default: this process's own) */
  state?: EgressState;
  /** domain faults (GM-11): a reply that names one opens it; while open, the domain's marketing to that provider waits */
  faults?: Pick<Faults, 'record' | 'activeFault'>;
  /** warm-up ramps (GM-13): marketing beyond the day's budget of a (pool, domain, provider) waits for the next day */
  warmup?: Pick<Warmup, 'take'>;
  /** relay everything through this host instead of the recipients' MX (MC-4: a sender without a clean, static IP) */
  smartHost?: SmartHost;
  /** MTA-STS policies of the recipient domains (RFC 8461); absent: not looked up (direct delivery only: a smart host does its own) */
  mtaSts?: Pick<MtaSts, 'policyFor'>;
}

export interface SmartHost {
  /** its name: the TLS certificate is checked against it, and it is looked up unless `address` is given */
  host: string;
  address?: string;
  /** 587 (STARTTLS) or 465 (implicit TLS) */
  port: number;
  auth?: { user: string; pass: string };
  verifyCertificates: boolean;
  maxConnections: number;
  messagesPerConnection: number;
  ratePerMinute: number;
}

export interface DeliveryJob {
  r: Recipient;
  workerId: string;
  /** marketing honours quiet hours; transactional never waits for them */
  marketing: boolean;
  ipPool: string;
  /** the sending domain (its faults and warm-up ramps) */
  domainId: string;
  /** when the message was accepted: its age decides expiry */
  acceptedAt: number;
  /** The message, read or composed right before it goes on the wire (the
   * dispatch checklist runs then); null when it is not to be sent, its row
   * already settled (dropped) or released. */
  body(): Promise<Buffer | null>;
}

interface Queued extends PathJob {
  j: DeliveryJob;
  /** the profile of the path it goes out on: the recipient's provider, or the smart host's */
  provider: ProviderProfile;
  /** the recipient's provider (its name in events and indicators, whatever the path) */
  dest: string;
  /** settles the job's deliver() with the write of its outcome */
  done(write: Promise<void>): void;
  /** the recipient domain's MTA-STS policy, when it is in enforce or testing mode */
  sts?: AppliedSts;
}

/** while a domain fault is open, its marketing rows look again this often (a cleared fault resumes them within this) */
const FAULT_RECHECK_MS = 10 * 60_000;

/** when the shared state (Redis) does not answer, a path's work waits this long in the database */
const STATE_RETRY_MS = 5_000;

/** after the smart host refused AUTH, its path waits this long */
const AUTH_REST_MS = 5 * 60_000;

type Attempt = { out: SendOutcome; target: Target | null; retried?: SendFailure };

export function createSmtpDelivery(o: SmtpDeliveryOptions) {
  const providers = o.providers ?? loadProviders();
  const state = o.state ?? createLocalEgressState();
  const idleMs = o.idleMs ?? 5_000;
  const paths = new Map<string, EgressPath<Queued>>();
  const budget = new LaneBudget<EgressPath<Queued>>(o.concurrency ?? 100);
  const providerOf = new WeakMap<Route, ProviderProfile>();
  /** a profile with TLS required and certificates verified, for MTA-STS enforce mode */
  const strictOf = new WeakMap<ProviderProfile, ProviderProfile>();
  const strict = (p: ProviderProfile): ProviderProfile => {
    if (p.tls === 'required' && p.verifyCertificates) return p;
    let s = strictOf.get(p);
    if (!s) strictOf.set(p, (s = { ...p, tls: 'required', verifyCertificates: true }));
    return s;
  };
  /** lanes started on a path that have not taken their first job yet */
  const starting = new WeakMap<EgressPath<Queued>, number>();
  let closing = false;
  // through a smart host, the recipients' MX still decide their provider (quiet hours,
  // warm-up, faults, indicators); the sessions, caps and reactions are the relay's own
  const relay = o.smartHost;
  const relayProfile: ProviderProfile | undefined = relay && {
    name: 'smarthost', mxSuffixes: [], exampleMx: [], maxConnections: relay.maxConnections, messagesPerConnection: relay.messagesPerConnection,
    ratePerMinute: relay.ratePerMinute, tls: 'required', verifyCertificates: relay.verifyCertificates, reactions: [],
  };
  let relayHosts: { at: number; hosts: MxHost[] } | undefined;
  /** the smart host's addresses, looked up through the system's resolver (it is the operator's own relay) at most once a minute */
  async function relayRoute(): Promise<MxHost[]> {
    const now = performance.now();
    if (relayHosts && now - relayHosts.at < 60_000) return relayHosts.hosts;
    const ips = relay!.address ? [relay!.address] : (await lookup(relay!.host, { all: true, family: 4 })).map((a) => a.address);
    relayHosts = { at: now, hosts: [{ host: relay!.host, priority: 0, ips }] };
    return relayHosts.hosts;
  }

  const postpone = (j: DeliveryJob, until: number) => o.outcomes.postpone(j.r, j.workerId, o.clock.now(), until);

  function outcomeData(target: Target | null, out: SendOutcome | null, extra: Record<string, unknown> = {}) {
    const base: Record<string, unknown> = { ...extra };
    if (target) Object.assign(base, { remoteHost: target.host, remoteIp: target.ip });
    if (out?.kind === 'sent') Object.assign(base, { tls: out.tls, code: out.response.code, text: out.response.text });
    if (out?.kind === 'failed') Object.assign(base, { stage: out.stage, code: out.code, enhanced: out.enhanced, text: out.text, tlsRefused: out.tlsRefused });
    return base;
  }

  function retryOrExpire(j: DeliveryJob, now: number, data: Record<string, unknown>, retryAfterMinutes?: number): Promise<void> {
    if (expired(j.acceptedAt, now, j.marketing ? 'marketing' : 'transactional')) {
      return o.outcomes.final(j.r, j.workerId, 'expired', now, { ...data, reason: 'expired' });
    }
    const delay = Math.max(nextAttemptDelay(j.r.attempts + 1), (retryAfterMinutes ?? 0) * 60_000);
    return o.outcomes.deferred(j.r, j.workerId, now, now + delay, data);
  }

  const open = (provider: ProviderProfile, ipPool: string) => (target: Target) => openSession({ ...target, port: provider === relayProfile ? relay!.port : o.port }, {
    ehloName: o.ehloName, localAddress: o.pools[ipPool], tls: provider.tls, verifyCertificates: provider.verifyCertificates, ca: o.ca,
    smartHost: provider === relayProfile ? relay!.auth : undefined,
    connectTimeoutMs: o.timeoutsMs?.connect, socketTimeoutMs: o.timeoutsMs?.command, greetingTimeoutMs: o.timeoutsMs?.greeting,
    commandTimeoutsMs: o.timeoutsMs && { mail: o.timeoutsMs.mail, rcpt: o.timeoutsMs.rcpt, dataInit: o.timeoutsMs.dataInit, dataBlock: o.timeoutsMs.dataBlock, dataEnd: o.timeoutsMs.dataEnd },
  });

  /**
   * The connection went away with no reply (closed, reset, cut mid-DATA), or a reused session went silent at
   * the RSET before this message (nothing of it was sent; such a message waited for the next attempt, found by
   * test/hardening/remote-faults-edges): nothing was refused, the session is to blame.
   */
  const brokeOff = (out: SendOutcome): out is SendFailure =>
    out.kind === 'failed' && out.code === undefined && !out.oversize && !out.tlsRefused && (out.stage !== 'timeout' || out.timedOutAt === 'rset');

  /** Sends on the lane's session; a session that breaks off is dropped and the message tried once more, at once, on a new one. */
  async function send(lane: LaneSession, q: Queued, raw: Buffer): Promise<Attempt> {
    let retried: SendFailure | undefined;
    for (;;) {
      const got = await lane.forHosts(q.hosts);
      if ('failure' in got) return { out: got.failure, target: got.target, retried };
      const out = await got.session.send({ from: q.j.r.envelope_from, to: [q.j.r.address] }, raw);
      if (!brokeOff(out)) return { out, target: got.target, retried };
      await lane.close();
      if (retried) return { out, target: got.target, retried };
      retried = out;
    }
  }

  /** A hold shared through the state; the message was sent by now, so its outcome is written even if the state does not answer. */
  async function holdSafely(key: string, h: { until: number; why: string }): Promise<void> {
    await state.hold(key, h).catch((err) => o.logger.warn({ err, path: key }, 'delivery: could not share a hold; this process keeps it'));
  }

  /** The outcome of an attempt, classified; `held` when the reply put a hold on the path. */
  async function record(path: EgressPath<Queued>, q: Queued, a: Attempt, raw: Buffer): Promise<{ write: Promise<void>; held?: number }> {
    const { j, provider } = q;
    const { out, target } = a;
    const done = o.clock.now();
    const extra: Record<string, unknown> = {
      provider: q.dest, ...(provider === relayProfile ? { relay: relay!.host } : {}), ...(a.retried ? { retriedAfter: { stage: a.retried.stage, text: a.retried.text } } : {}),
      ...(q.sts ? { mtaSts: stsData(q.sts, target, out) } : {}),
    };
    if (out.kind === 'sent' && out.recipients[0]?.accepted && out.response.code < 300) {
      return { write: o.outcomes.final(j.r, j.workerId, 'delivered', done, outcomeData(target, out, extra)) };
    }
    const code = out.kind === 'sent' ? (out.recipients[0]?.accepted ? out.response.code : out.recipients[0]?.code ?? 0) : out.code ?? 0;
    const text = out.kind === 'sent' ? (out.recipients[0]?.accepted ? out.response.text : out.recipients[0]?.text ?? '') : out.text;
    const stsRefused = q.sts?.policy.mode === 'enforce' && out.kind === 'failed' && (out.tlsRefused || out.stage === 'starttls');
    const failure = { ...outcomeData(target, out, { ...extra, code, text }), transcript: out.transcript, headers: headersOf(raw) };
    if (stsRefused) Object.assign(failure, { reason: 'mta-sts', text: `MTA-STS (enforce) policy of ${q.sts!.domain} requires TLS with a certificate valid for ${target?.host}: ${text}` });
    if (out.kind === 'failed' && out.oversize) {
      // the receiver said beforehand it takes nothing this large: no retry can help, but the address is not at fault (no suppression)
      const data = { ...failure, reason: 'message-too-large', size: out.oversize, classification: { kind: 'bounced', category: 'message-rejected', hard: false } };
      return { write: o.outcomes.final(j.r, j.workerId, 'bounced', done, data) };
    }
    if (out.kind === 'failed' && !out.code) return { write: retryOrExpire(j, done, failure) };
    if (out.kind === 'failed' && out.stage === 'auth') {
      // the smart host refused our credentials: our configuration is wrong, not the recipient; nothing bounces,
      // and the path rests a few minutes rather than knock on the relay with the same credentials
      const held = done + AUTH_REST_MS;
      await holdSafely(path.key, { until: held, why: `the smart host refused the credentials: ${code} ${text}` });
      return { write: retryOrExpire(j, done, failure), held };
    }
    const reaction = reactionFor(provider, code, text, providers);
    if (reaction?.action === 'domain-fault' && o.faults) {
      // the receiver named a fault of the sending domain's set-up: recorded once per cause, it holds that domain's marketing below
      await o.faults.record({ domainId: j.domainId, provider: q.dest, rule: reaction, code, text })
        .catch((err) => o.logger.error({ err, domain: j.domainId }, 'delivery: could not record a domain fault'));
    }
    let held: number | undefined;
    if (reaction && reaction.action !== 'domain-fault') {
      held = done + (reaction.durationMinutes ?? 15) * 60_000;
      await holdSafely(path.key, { until: held, why: reaction.example });
    }
    const c = classifyReply(code, text, { provider: provider.name });
    const data = { ...failure, classification: c, reaction: reaction?.action, fault: reaction?.fault };
    const write = (() => {
      switch (c.kind) {
        case 'delivered':
          return o.outcomes.final(j.r, j.workerId, 'delivered', done, outcomeData(target, out, extra));
        case 'deferred':
          return retryOrExpire(j, done, data, c.retryAfterMinutes);
        case 'bounced':
          if (!c.hard) return retryOrExpire(j, done, data);
          return o.outcomes.final(j.r, j.workerId, 'bounced', done, data, { hardBounce: true });
        case 'blocked':
          return c.permanent ? o.outcomes.final(j.r, j.workerId, 'blocked', done, data) : retryOrExpire(j, done, data);
      }
    })();
    return { write, held };
  }

  /** What the event says of MTA-STS; in testing mode a would-be failure is logged too. */
  function stsData(sts: AppliedSts, target: Target | null, out: SendOutcome): Record<string, unknown> {
    const tls = out.kind !== 'sent' ? undefined : out.tls ? { encrypted: true as const, authorized: out.tls.authorized, authorizationError: out.tls.authorizationError } : { encrypted: false as const };
    const r = stsRecord(sts, target?.host, tls);
    if (r.failure) o.logger.warn({ domain: sts.domain, host: target?.host, failure: r.failure }, 'MTA-STS (testing): this delivery would have failed under enforce');
    return r;
  }

  /** Everything queued on a held path waits in the database until the hold ends. */
  function holdPath(path: EgressPath<Queued>, until: number): void {
    for (const x of path.drain()) x.done(postpone(x.j, until));
  }

  /** Waits until the path's rate (the provider's messages a minute, over every lane and worker) lets one more message start; false when closing. */
  async function paced(path: EgressPath<Queued>, perMinute: number): Promise<boolean> {
    while (!(await state.takeRate(path.key, perMinute))) {
      if (closing) return false;
      await new Promise((r) => setTimeout(r, Math.min(1_000, Math.ceil(60_000 / perMinute))));
    }
    return true;
  }

  /** One job on a lane; true when the lane should stop (the path is held). */
  async function runJob(path: EgressPath<Queued>, lane: LaneSession, q: Queued): Promise<boolean> {
    let hold: Awaited<ReturnType<EgressState['holdOf']>>;
    let go = false;
    try {
      hold = await state.holdOf(path.key, o.clock.now());
      if (!hold) go = await paced(path, q.provider.ratePerMinute);
    } catch (err) {
      // the shared state (Redis) does not answer: nothing goes out unshaped; what waits here goes back to
      // the database for a few seconds, no attempt counted (a job left unsettled would hold its row for ever)
      o.logger.warn({ err, path: path.key }, 'delivery: the shared limits do not answer; the path waits');
      const until = o.clock.now() + STATE_RETRY_MS;
      q.done(postpone(q.j, until));
      holdPath(path, until);
      return true;
    }
    if (hold) {
      q.done(postpone(q.j, hold.until));
      holdPath(path, hold.until);
      return true;
    }
    if (!go) {
      q.done(postpone(q.j, o.clock.now()));
      return true;
    }
    let raw: Buffer | null;
    try {
      raw = await q.j.body();
    } catch (err) {
      o.logger.error({ err, recipient: q.j.r.id }, 'delivery: could not prepare the message; trying again in a minute');
      q.done(postpone(q.j, o.clock.now() + 60_000));
      return false;
    }
    if (raw === null) {
      q.done(Promise.resolve());
      return false;
    }
    const attempt = await send(lane, q, raw);
    const { write, held } = await record(path, q, attempt, raw);
    q.done(write);
    if (held === undefined) return false;
    holdPath(path, held);
    return true;
  }

  async function runLane(path: EgressPath<Queued>, provider: ProviderProfile, ipPool: string, slot: EgressSlot): Promise<void> {
    const lane = new LaneSession(open(provider, ipPool), provider.messagesPerConnection);
    let first = true;
    let renewed = performance.now();
    try {
      for (;;) {
        if (performance.now() - renewed > SLOT_TTL_MS / 3) {
          renewed = performance.now();
          if (!(await slot.renew())) break; // lost (a stall longer than the slot's life): another may hold it now
        }
        const q = closing ? undefined : path.take(lane.host);
        if (first) {
          first = false;
          starting.set(path, (starting.get(path) ?? 1) - 1);
        }
        if (!q) {
          if (closing || !lane.isOpen || idleMs === 0) break;
          if (!(await path.waitForWork(idleMs))) break;
          continue;
        }
        const t0 = performance.now();
        if (await runJob(path, lane, q)) break;
        path.took(performance.now() - t0);
        // another path waits for a lane: hand this one over at the end of its session, at once for transactional mail
        if (budget.othersWaiting(path) && (!lane.isOpen || lane.spent || budget.othersWaiting(path, (p) => p.hasTransactional))) break;
      }
    } finally {
      if (first) starting.set(path, (starting.get(path) ?? 1) - 1);
      await lane.close();
    }
  }

  function startLane(path: EgressPath<Queued>, provider: ProviderProfile, ipPool: string): void {
    path.lanes++;
    starting.set(path, (starting.get(path) ?? 0) + 1);
    void (async () => {
      let slot: EgressSlot | null = null;
      try {
        slot = await state.acquire(path.key, path.maxConnections);
        // the slots are taken elsewhere (another worker, with a shared state): look again in a second
        if (!slot) setTimeout(() => pump(path, provider, ipPool), 1_000).unref();
        else await runLane(path, provider, ipPool, slot);
      } catch (err) {
        o.logger.error({ err, path: path.key }, 'delivery lane failed');
        // the shared state did not answer (Redis away): what waits on the path is tried again in a second,
        // as after a refused slot, instead of waiting for new work to come to this path
        if (!slot) setTimeout(() => pump(path, provider, ipPool), 1_000).unref();
      } finally {
        if (!slot) starting.set(path, (starting.get(path) ?? 1) - 1);
        else await slot.release().catch((err) => o.logger.warn({ err, path: path.key }, 'could not release a connection slot'));
        path.lanes--;
        budget.give();
        // work left here waits behind the paths already in line (after a refused slot: the timer's turn)
        if (path.size) {
          if (slot) budget.wait(path);
        } else if (path.lanes === 0 && paths.get(path.key) === path) paths.delete(path.key);
        startWaiting();
      }
    })();
  }

  /** Free places go to the paths in line, transactional ones first, until one is used or none waits. */
  function startWaiting(): void {
    while (budget.hasRoom && !closing) {
      const next = budget.next((p) => p.hasTransactional);
      if (!next) return;
      pumpPath(next);
    }
  }

  const laneArgs = new WeakMap<EgressPath<Queued>, { provider: ProviderProfile; ipPool: string }>();
  const pumpPath = (path: EgressPath<Queued>) => {
    const a = laneArgs.get(path);
    if (a) pump(path, a.provider, a.ipPool);
  };

  /** New work on a path: an idle lane takes it, or a new lane starts if the caps allow. */
  function pump(path: EgressPath<Queued>, provider: ProviderProfile, ipPool: string): void {
    if (closing || !path.size) return;
    if (path.wakeOne()) return;
    if (path.lanes >= path.maxConnections || (starting.get(path) ?? 0) >= path.size) return;
    if (!budget.take(path)) {
      // every lane is taken: end an idle one elsewhere to make room
      for (const p of paths.values()) if (p !== path && p.dismissIdle()) break;
      return;
    }
    startLane(path, provider, ipPool);
  }

  function pathOf(key: string, provider: ProviderProfile, ipPool: string): EgressPath<Queued> {
    let path = paths.get(key);
    if (!path) {
      path = new EgressPath<Queued>(key, provider.maxConnections, Math.max(16, provider.maxConnections * 4));
      paths.set(key, path);
      laneArgs.set(path, { provider, ipPool });
    }
    return path;
  }

  /** Until when the job waits before its path (a hold, an open domain fault, a spent warm-up budget); undefined: it may go. */
  async function admission(j: DeliveryJob, key: string, provider: ProviderProfile, now: number): Promise<number | undefined> {
    const hold = await state.holdOf(key, now);
    if (hold) return hold.until;
    if (!j.marketing) return undefined;
    // transactional mail still goes: it is what the recipient asked for, and it keeps probing whether the fault is fixed
    if (o.faults && (await o.faults.activeFault(j.domainId, provider.name))) return now + FAULT_RECHECK_MS;
    if (o.warmup) {
      const w = await o.warmup.take(j.ipPool, j.domainId, provider.name, now);
      if (!w.ok) return w.until;
    }
    return undefined;
  }

  return {
    /** Delivers one claimed recipient; resolves once its outcome is written (or the row released). */
    async deliver(j: DeliveryJob): Promise<void> {
      const now = o.clock.now();
      if (closing) return postpone(j, now);
      const domain = j.r.address.slice(j.r.address.lastIndexOf('@') + 1);
      const route = await o.router.route(domain);
      if (route.kind === 'no-mail') {
        return o.outcomes.final(j.r, j.workerId, 'bounced', now, { category: 'unknown-domain', hard: true, reason: route.reason, text: `${domain}: ${route.reason}` }, { hardBounce: true });
      }
      if (route.kind === 'dns-error') return retryOrExpire(j, now, { stage: 'dns', text: `DNS lookup of ${domain} failed (${route.code})` });

      let provider = providerOf.get(route);
      if (!provider) providerOf.set(route, (provider = providerForMx(route.hosts.map((h) => h.host), providers)));
      // "default" gathers every other receiver: its caps and slowdowns are per MX host, not shared by all of them
      const key = relay ? `smarthost|${j.ipPool}` : `${provider.name === 'default' ? `default:${route.hosts[0].host}` : provider.name}|${j.ipPool}`;
      if (j.marketing && provider.quietHours && inQuietHours(now, provider.quietHours)) return postpone(j, nextAllowed(now, provider.quietHours));
      let wait: number | undefined;
      try {
        wait = await admission(j, key, provider, now);
      } catch (err) {
        // the shared state (Redis) or the database does not answer: the row waits a few seconds, no attempt counted
        o.logger.warn({ err, path: key }, 'delivery: could not check the path\'s holds and budgets; the message waits');
        wait = now + STATE_RETRY_MS;
      }
      if (wait !== undefined) return postpone(j, wait);

      let hosts = route.hosts;
      let sts: AppliedSts | undefined;
      if (relay) {
        try {
          hosts = await relayRoute();
        } catch (err) {
          return retryOrExpire(j, now, { stage: 'dns', relay: relay.host, text: `lookup of the smart host ${relay.host} failed (${(err as NodeJS.ErrnoException).code ?? err})` });
        }
      } else {
        const picked = await pickHosts(domain, hosts, j.ipPool, o.pools[j.ipPool], o.mtaSts);
        if ('defer' in picked) return retryOrExpire(j, now, picked.defer);
        ({ hosts, sts } = picked);
      }
      // close() may have run during the lookups above (admission, MX, MTA-STS): it drained the paths
      // already, so a job queued now would never settle and the stopping worker's drain would wait
      // for it for ever (a worker sent SIGTERM hung in two CI runs)
      if (closing) return postpone(j, o.clock.now());
      const enforced = sts?.policy.mode === 'enforce';
      const lane = relayProfile ?? (enforced ? strict(provider) : provider);
      const path = pathOf(lane === provider || !enforced ? key : `${key}|mta-sts`, lane, j.ipPool);
      return new Promise<void>((resolve, reject) => {
        const q: Queued = { transactional: j.r.campaign_id === null, hosts, j, provider: lane, dest: provider.name, sts, done: (w) => void w.then(resolve, reject) };
        if (!path.push(q)) return q.done(postpone(j, path.overflowUntil(now)));
        pump(path, lane, j.ipPool);
      });
    },

    /** Stops: queued recipients go back to the database, lanes finish the message in hand and close their sessions. */
    async close(): Promise<void> {
      closing = true;
      for (const p of paths.values()) {
        for (const q of p.drain()) q.done(postpone(q.j, o.clock.now()));
        while (p.dismissIdle());
      }
      await budget.idle();
      await o.outcomes.flush();
    },

    /** what runs now, for tests and logs */
    stats() {
      return { lanes: budget.inUse, paths: [...paths.values()].map((p) => ({ key: p.key, lanes: p.lanes, queued: p.size })) };
    },
  };
}

export type SmtpDelivery = ReturnType<typeof createSmtpDelivery>;

// The webhook loop: fans new events of the log out to endpoint deliveries,
// then POSTs the due deliveries, a few at a time, and records each outcome.
// An endpoint that fails is not hammered within one pass: its other due
// deliveries wait for its next attempt time (one probe, not a flood).
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { DialectName } from '../store/connect.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../store/schema.ts';
import { startLoop } from '../loop.ts';
import { afterFailure } from './backoff.ts';
import { postWebhook, type PostOutcome } from './post.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import type { WebhookStore } from './store.ts';

export interface SenderConfig {
  pollMs: number;
  concurrency: number;
  timeoutMs: number;
  retryHours: number;
  allowPrivateTargets: boolean;
}

export interface SenderOptions {
  store: WebhookStore;
  dialect: DialectName;
  clock: Clock;
  logger: Logger;
  secrets: Secrets;
  config: SenderConfig;
  /** extra trusted CAs (PEM), besides the system's */
  ca?: string;
  workerId: string;
  jitter?: () => number;
}

/** events read per endpoint per pass */
const FANOUT_PAGE = 500;
/** deliveries claimed per pass; a batched endpoint gets at most this many events in one POST */
const CLAIM = 100;
/**
 * On PostgreSQL an event id is taken when its transaction inserts it, but it
 * becomes visible at commit: a later id can be seen before an earlier one.
 * The fan-out therefore reads only up to the highest id seen at least this
 * long ago, so a short transaction still in flight is not stepped over. On
 * SQLite writes are serialised: ids appear in order.
 */
const PG_SETTLE_MS = 2_000;

export function startWebhookSender(o: SenderOptions) {
  const settleMs = o.dialect === 'postgres' ? PG_SETTLE_MS : 0;
  const marks: { id: number; seenAt: number }[] = [];
  const agents = {
    https: new https.Agent({ keepAlive: true, maxSockets: o.config.concurrency, ...(o.ca ? { ca: [...tls.rootCertificates, o.ca] } : {}) }),
    http: new http.Agent({ keepAlive: true, maxSockets: o.config.concurrency }),
  };
  const windowMs = o.config.retryHours * 3_600_000;
  const log = o.logger.child({ component: 'webhooks' });

  async function highWater(): Promise<number> {
    const top = await o.store.maxEventId();
    const t = performance.now();
    if (settleMs === 0) return top;
    if (!marks.length || marks[marks.length - 1].id !== top) marks.push({ id: top, seenAt: t });
    let hwm = 0;
    while (marks.length && marks[0].seenAt <= t - settleMs) hwm = marks.shift()!.id;
    // keep the newest settled mark as the floor of the next pass
    if (hwm) marks.unshift({ id: hwm, seenAt: -Infinity });
    return hwm;
  }

  async function fanOut(): Promise<boolean> {
    const hwm = await highWater();
    if (!hwm) return false;
    let more = false;
    for (const ep of await o.store.endpointsBehind(hwm)) {
      const r = await o.store.fanOut(ep.id, hwm, FANOUT_PAGE, o.clock.now());
      more ||= r.full;
    }
    return more;
  }

  async function send(): Promise<boolean> {
    const now = o.clock.now();
    // the lease covers a full pass of timeouts; a crashed process's rows come back after it
    const leaseMs = o.config.timeoutMs * (Math.ceil(CLAIM / o.config.concurrency) + 1) + 60_000;
    const claimed = await o.store.claimDue({ workerId: o.workerId, now, limit: CLAIM, leaseMs });
    if (claimed.length === 0) return false;
    const endpoints = new Map((await o.store.endpointsByIds([...new Set(claimed.map((d) => d.endpoint_id))])).map((e) => [e.id, e]));
    const tasks: { ep: WebhookEndpoint; rows: WebhookDelivery[] }[] = [];
    for (const ep of endpoints.values()) {
      const rows = claimed.filter((d) => d.endpoint_id === ep.id);
      if (ep.batch === 1) tasks.push({ ep, rows });
      else for (const r of rows) tasks.push({ ep, rows: [r] });
    }
    // endpoint → when it is tried next, once it failed in this pass
    const tripped = new Map<string, { at: number; error: string }>();
    await inPool(tasks, o.config.concurrency, async ({ ep, rows }) => {
      const trip = tripped.get(ep.id);
      if (trip) return o.store.markFailed(rows.map((r) => ({ id: r.id, decision: held(r, trip.at) })), o.workerId, o.clock.now(),
        { status: null, error: `not sent: the endpoint failed just before (${trip.error})`, attempted: false });
      const out = await post(ep, rows);
      const done = o.clock.now();
      if (out.ok) return o.store.markDelivered(rows.map((r) => r.id), o.workerId, done, out.status);
      const decisions = rows.map((r) => ({ id: r.id, decision: afterFailure({ attempts: r.attempts + 1, createdAt: r.created_at, now: done, windowMs, jitter: o.jitter }) }));
      await o.store.markFailed(decisions, o.workerId, done, { status: out.status, error: out.error, attempted: true });
      const next = decisions.map((d) => d.decision).find((d) => d.status === 'pending');
      if (next?.status === 'pending') tripped.set(ep.id, { at: next.nextAttemptAt, error: out.error });
      // the origin only: a path or query may carry the receiver's own token
      log.warn({ endpoint: ep.id, origin: new URL(ep.url).origin, status: out.status, error: out.error, events: rows.length }, 'webhook POST failed');
    });
    return claimed.length === CLAIM;
  }

  /** A delivery held back behind its endpoint's failure: at the probe's next time, or failed past the window. */
  function held(r: WebhookDelivery, at: number) {
    const deadline = r.created_at + windowMs;
    return o.clock.now() >= deadline ? { status: 'failed' as const } : { status: 'pending' as const, nextAttemptAt: Math.min(at, deadline) };
  }

  function post(ep: WebhookEndpoint, rows: WebhookDelivery[]): Promise<PostOutcome> {
    const body = ep.batch === 1 ? `[${rows.map((r) => r.payload).join(',')}]` : rows[0].payload;
    const unix = Math.floor(o.clock.now() / 1000);
    const headers: Record<string, string> = {
      [SIGNATURE_HEADER]: signatureHeader(o.secrets.open(ep.secret_enc), unix, body),
      'Envoi-Attempt': String(Math.max(...rows.map((r) => r.attempts)) + 1),
    };
    if (ep.batch !== 1) headers['Envoi-Delivery'] = rows[0].id;
    const auth = ep.auth_enc ? JSON.parse(o.secrets.open(ep.auth_enc)) as { username: string; password: string } : null;
    return postWebhook({ url: ep.url, body, headers, auth }, { timeoutMs: o.config.timeoutMs, allowPrivate: o.config.allowPrivateTargets, agents });
  }

  const loop = startLoop('webhook sender', o.config.pollMs, log, async () => {
    const more = await fanOut();
    return (await send()) || more;
  });
  return {
    poke: loop.poke,
    async stop(): Promise<void> {
      await loop.stop();
      agents.https.destroy();
      agents.http.destroy();
    },
  };
}

/** Runs `fn` over the items with at most `n` at a time. */
async function inPool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

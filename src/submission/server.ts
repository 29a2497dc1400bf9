// SMTP submission (RFC 6409): applications and mail clients hand envoi their
// messages with STARTTLS + AUTH. Nothing is accepted before authentication,
// so this listener can never relay for strangers (MC-7, AF-2), and the 250
// after DATA is only sent once the handler has stored the message.
import type { Logger } from 'pino';
import type { SMTPServerSession } from 'smtp-server';
import { ok, smtpReply, type Result } from '../errors.ts';
import {
  envelopeOf,
  guarded,
  messageHook,
  recipientHook,
  startListener,
  type Listener,
  type ListenerOptions,
} from '../net/smtp-listener.ts';

export interface Principal {
  tenantId: string;
  keyId: string;
}

export interface SubmissionHandler {
  authenticate(username: string, password: string): Promise<Result<Principal>>;
  /** checked at RCPT TO; optional */
  checkRecipient?(principal: Principal, address: string): Promise<Result<true>>;
  /** the whole message after DATA; envoi has it on disk when this resolves ok */
  submit(principal: Principal, envelope: { mailFrom: string; rcptTo: string[] }, raw: Buffer): Promise<Result<{ id: string }>>;
}

export interface SubmissionOptions extends ListenerOptions {
  handler: SubmissionHandler;
  /** failed AUTH attempts one client address (an IPv6 /64) may make within `authFailureWindowMs`; default 10 */
  maxAuthFailures?: number;
  /** default 15 minutes */
  authFailureWindowMs?: number;
}

// Brute-force throttle: past the limit, every AUTH from that address is
// answered 421 4.7.0 and the connection closed, without checking the
// credentials, until the oldest failure leaves the window. Per address, not
// per connection: a guesser reconnects. Only failures count, so a client
// with a good key is never slowed; a wrong key of a legitimate client is
// locked out for at most the window. In memory: a restart forgives, which
// costs an attacker a restart they cannot cause.
const AUTH_THROTTLED = '4.7.0 Too many failed authentication attempts from your address, try again later';
const MAX_TRACKED_CLIENTS = 10_000;

function authFailures(limit: number, windowMs: number) {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((t) => t > now - windowMs);
  return {
    blocked(key: string): boolean {
      return recent(key, Date.now()).length >= limit;
    },
    failed(key: string): void {
      const now = Date.now();
      const times = recent(key, now);
      times.push(now);
      failures.delete(key); // re-inserted last: the map's first key is the longest untouched
      failures.set(key, times.slice(-limit));
      if (failures.size > MAX_TRACKED_CLIENTS) failures.delete(failures.keys().next().value!);
    },
  };
}

/** IPv4 (also IPv4-mapped) as is; IPv6 by its /64, which one host usually holds whole. */
function clientOf(address: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1];
  const [head, tail = ''] = address.toLowerCase().split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return groups.slice(0, 4).join(':') + '::/64';
}

export async function startSubmissionServer(opts: SubmissionOptions): Promise<Listener> {
  const { handler } = opts;
  const logger: Logger | undefined = opts.logger?.child({ component: 'smtp-submission' });
  // smtp-server only calls the hooks below for a session that has authenticated
  // (it answers MAIL, RCPT and DATA with 530 otherwise), so session.user is set.
  const principal = (session: SMTPServerSession) => session.user as Principal;
  const throttle = authFailures(opts.maxAuthFailures ?? 10, opts.authFailureWindowMs ?? 15 * 60 * 1000);
  return startListener(opts, 'smtp-submission', {
    // PLAIN and LOGIN only, and smtp-server refuses both before STARTTLS (538),
    // so a password never crosses the network in clear text.
    authMethods: ['PLAIN', 'LOGIN'],
    authRequiredMessage: smtpReply({ code: 'auth.required', detail: 'Authentication required' }).message,
    onAuth(auth, session, callback) {
      const client = clientOf(session.remoteAddress);
      if (throttle.blocked(client)) {
        logger?.warn({ ip: session.remoteAddress }, 'AUTH refused: too many failed attempts from this address');
        return callback(null, { responseCode: 421, message: AUTH_THROTTLED });
      }
      void guarded(logger, 'authenticate', () => handler.authenticate(auth.username ?? '', auth.password ?? '')).then((r) => {
        if (r.ok) return callback(null, { user: r.value });
        // an outage (internal) is not the client's failure
        if (r.error.code !== 'internal') throttle.failed(client);
        const { code, message } = smtpReply(r.error);
        callback(null, { responseCode: code, message });
      });
    },
    onRcptTo: recipientHook(logger, async (address, session) =>
      handler.checkRecipient ? handler.checkRecipient(principal(session), address) : ok(true as const),
    ),
    onData: messageHook({ maxMessageBytes: opts.maxMessageBytes, logger }, (session, raw) =>
      handler.submit(principal(session), envelopeOf(session), raw),
    ),
  });
}

// The SMTP client of the delivery engine: one connection to one MX host (or a
// smart host), reused for several messages, each to one or more recipients of
// that host. Built on nodemailer's SMTPConnection (pipelining, dot-stuffing,
// SMTPUTF8) with envoi's rules on top: STARTTLS required unless configured
// otherwise (GM-7), the source address of the IP pool (AF-19), the EHLO name
// of that address (MC-5), per-step RFC 5321 timeouts, and a transcript of
// every command and reply for failures (AF-20). Whatever the remote server
// does comes back as a SendOutcome value; nothing here throws for it.
import { isAscii } from 'node:buffer';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { failure, recipientResult, type SmtpError, type Trouble } from './outcome.ts';
import { parseReply, RFC5321_TIMEOUTS, sizeLimit, Wire, type Step, type StepTimeouts } from './wire.ts';

export interface SmtpTarget {
  /** MX name: the TLS server name checked against the certificate, and for logs */
  host: string;
  ip: string;
  /** 465 means implicit TLS (a smart host); anything else speaks STARTTLS */
  port: number;
}

export interface SmtpOptions {
  /** the IP pool's source address (AF-19) */
  localAddress?: string;
  /** FQDN of the source IP (MC-5) */
  ehloName: string;
  /** 'required': never send anything past EHLO in clear (GM-7); 'opportunistic': TLS when it works, clear text otherwise */
  tls: 'required' | 'opportunistic';
  verifyCertificates: boolean;
  /** CA certificates to trust instead of Node's bundle (tests pass the test CA) */
  ca?: string | string[];
  /** TCP connect (default 30 s, as Postfix) */
  connectTimeoutMs?: number;
  /** the 220 greeting (default 5 min, RFC 5321 4.5.3.2.1) */
  greetingTimeoutMs?: number;
  /** EHLO, STARTTLS and its handshake, AUTH, RSET, QUIT (default 5 min) */
  socketTimeoutMs?: number;
  /** the transaction's steps, RFC 5321 4.5.3.2 defaults: MAIL 5 min, RCPT 5 min, DATA 2 min, each data block 3 min, end of data 10 min */
  commandTimeoutsMs?: Partial<Pick<StepTimeouts, 'mail' | 'rcpt' | 'dataInit' | 'dataBlock' | 'dataEnd'>>;
  /** relay through an authenticating smart host (MC-4); credentials only ever go over TLS */
  smartHost?: { user: string; pass: string };
}

export interface RecipientResult {
  address: string;
  accepted: boolean;
  code: number;
  enhanced?: string;
  /** the RCPT reply as received */
  text: string;
}

export type SendOutcome =
  | { kind: 'sent'; recipients: RecipientResult[]; response: { code: number; text: string }; tls: SessionTlsInfo | null; transcript: string[] }
  | {
      kind: 'failed';
      stage: 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'timeout';
      code?: number;
      enhanced?: string;
      /** the server's reply when there was one, else what went wrong */
      text: string;
      /** stage 'timeout': the step that saw no progress (the connect and the greeting mean the host never answered) */
      timedOutAt?: Step;
      /** TLS was required and could not be had: nothing was sent in clear */
      tlsRefused?: boolean;
      /** larger than the SIZE the server announced: not sent (no MAIL, no DATA); retrying cannot help */
      oversize?: { bytes: number; limit: number };
      /** the RCPT replies received before the failure: refused recipients carry their own reply, accepted ones share the failure's */
      recipients?: RecipientResult[];
      transcript: string[];
    };

/** TLS of a session: protocol, cipher, and whether the certificate was valid for the MX name (known even when not verified: MTA-STS testing mode reports it) */
export interface SessionTlsInfo {
  version: string;
  cipher: string;
  authorized: boolean;
  authorizationError?: string;
}

export type SendFailure = Extract<SendOutcome, { kind: 'failed' }>;
type Stage = SendFailure['stage'];

export interface SmtpSession {
  /** Sends one message; calls made while one is in flight wait their turn. */
  send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome>;
  readonly messagesSent: number;
  /** false once the connection is gone (closed by either side, timed out, 421) */
  readonly usable: boolean;
  /** QUIT, then close; never rejects */
  close(): Promise<void>;
}

export { RFC5321_TIMEOUTS };

/**
 * Connects, says EHLO, upgrades with STARTTLS (and logs in to a smart host).
 * Returns a session ready for `send`, or the failure that prevented it.
 */
export async function openSession(target: SmtpTarget, opts: SmtpOptions): Promise<SmtpSession | SendFailure> {
  const first = await establish(target, opts, false, []);
  if (first instanceof Session || opts.tls !== 'opportunistic' || first.stage !== 'starttls') return first;
  // RFC 7435: opportunistic TLS that fails to negotiate falls back to clear
  // text, on a new connection since a failed handshake leaves nothing usable.
  return establish(target, opts, true, [...first.transcript, '* TLS failed; opportunistic mode: reconnecting without STARTTLS']);
}

type Outcome<T> = { ok: true; value: T } | ({ ok: false } & Trouble);

/** nodemailer's connection, its callbacks and events folded into one settled value per operation */
class Link {
  private pending: ((t: Trouble) => void) | undefined;
  readonly wire: Wire;
  readonly conn: SMTPConnection;

  constructor(target: SmtpTarget, opts: SmtpOptions, clear: boolean) {
    const t: StepTimeouts = {
      ...RFC5321_TIMEOUTS,
      // a key given as undefined keeps its default
      ...Object.fromEntries(Object.entries(opts.commandTimeoutsMs ?? {}).filter(([, v]) => v !== undefined)),
      ...(opts.connectTimeoutMs ? { connect: opts.connectTimeoutMs } : {}),
      ...(opts.greetingTimeoutMs ? { greeting: opts.greetingTimeoutMs } : {}),
      ...(opts.socketTimeoutMs ? { command: opts.socketTimeoutMs } : {}),
    };
    this.wire = new Wire(t, {
      onTimeout: (step, ms) => this.abort({ timeout: { step, ms } }),
      // nodemailer is in the middle of handling that line: act once it is done
      onGarbage: (step, text) => setImmediate(() => this.abort({ garbage: { step, text } })),
      // bytes the kernel took: nodemailer writes the whole body into the socket at once
      progress: () => (this.conn._socket ? this.conn._socket.bytesWritten - this.conn._socket.writableLength : 0),
      tlsInfo: () => {
        const tls = tlsOf(this.conn);
        return tls ? `${tls.version} ${tls.cipher}` : undefined;
      },
    });
    // nodemailer's own timers only as a backstop: the wire's per-step ones fire first
    const slack = 5_000;
    this.conn = new SMTPConnection({
      host: target.ip,
      port: target.port,
      secure: target.port === 465,
      // the name the certificate must carry (SNI takes no IP literal, nor the root's trailing dot)
      ...(isIP(target.host) ? {} : { servername: target.host.replace(/\.$/, '') }),
      name: opts.ehloName,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      requireTLS: opts.tls === 'required',
      opportunisticTLS: opts.tls === 'opportunistic',
      ignoreTLS: clear,
      tls: { rejectUnauthorized: opts.verifyCertificates, ...(opts.ca ? { ca: opts.ca } : {}) },
      connectionTimeout: t.connect + t.greeting + 2 * t.command + slack,
      greetingTimeout: Math.max(t.greeting, t.command) + slack,
      socketTimeout: Math.max(...Object.values(t)) + slack,
      socketCloseTimeout: 2_000,
      logger: this.wire.logger,
      transactionLog: true,
    });
    this.conn.on('error', (err) => this.pending?.({ err }));
    // After a 421 nodemailer closes first and answers the operation in flight
    // right after: give that answer its turn before reporting a bare close.
    this.conn.on('end', () => {
      this.wire.stop();
      setImmediate(() => this.pending?.({ closed: true }));
    });
  }

  /** ends the operation in flight with this trouble, and the connection with it */
  private abort(t: Trouble): void {
    this.pending?.(t);
    this.conn.close();
  }

  call<T>(start: (cb: (err: SmtpError | null, value?: T) => void) => void): Promise<Outcome<T>> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: Outcome<T>) => {
        if (settled) return;
        settled = true;
        if (this.pending === onTrouble) this.pending = undefined;
        resolve(o);
      };
      const onTrouble = (t: Trouble) => settle({ ok: false, ...t });
      this.pending = onTrouble;
      try {
        start((err, value) => settle(err ? { ok: false, err } : { ok: true, value: value as T }));
      } catch (err) {
        settle({ ok: false, err: err as SmtpError });
      }
    });
  }
}

async function establish(target: SmtpTarget, opts: SmtpOptions, clear: boolean, before: string[]): Promise<Session | SendFailure> {
  const link = new Link(target, opts, clear);
  const { conn, wire } = link;
  const refuse = (stage: Stage, text: string, extra: Partial<SendFailure> = {}): SendFailure => {
    conn.close();
    wire.note(`failed at ${stage}: ${text}`);
    return { kind: 'failed', stage, text, ...extra, transcript: [...before, ...wire.transcript] };
  };
  wire.expect('connect');
  const connected = await link.call<void>((cb) => conn.connect((err) => cb(err ?? null)));
  if (!connected.ok) {
    conn.close();
    return failure(connected, wire, opts, before);
  }
  // belt and braces for GM-7: requireTLS should already have made sure of it
  if (opts.tls === 'required' && !conn.secure) return refuse('starttls', 'the session is not encrypted and TLS is required: nothing was sent in clear', { tlsRefused: true });
  if (opts.smartHost) {
    if (!conn.secure) return refuse('auth', 'refusing to send smart-host credentials over an unencrypted connection');
    const { user, pass } = opts.smartHost;
    const auth = await link.call<boolean>((cb) => conn.login({ user, pass }, cb));
    if (!auth.ok) {
      conn.close();
      return failure(auth, wire, opts, before);
    }
  }
  return new Session(link, opts, before);
}

class Session implements SmtpSession {
  messagesSent = 0;
  /**
   * A transaction was started and did not end with the message taken. The end
   * of the data clears the server's state (RFC 5321 §4.1.1.4), so RSET is
   * only needed after one that did not get there: one round trip less per
   * message on a busy session.
   */
  private unfinished = false;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly link: Link, private readonly opts: SmtpOptions, private readonly before: string[]) {}

  get usable(): boolean {
    return !this.link.conn.destroyed;
  }

  send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome> {
    const run = this.turn.then(() => this.sendNow(envelope, raw));
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async sendNow(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome> {
    const { conn, wire } = this.link;
    wire.startMessage();
    const transcript = () => [...this.before, ...wire.transcript];
    const refuse = (stage: Stage, text: string, extra: Partial<SendFailure> = {}): SendFailure => {
      wire.note(`failed at ${stage}: ${text}`);
      return { kind: 'failed', stage, text, ...extra, transcript: transcript() };
    };
    if (!this.usable) return refuse('connect', 'the connection is closed: open a new session');
    if (envelope.to.length === 0) return refuse('rcpt', 'no recipients');
    // checked before MAIL: the session stays clean and usable for the next message
    const limit = sizeLimit(wire.ehloReply);
    if (limit && raw.length > limit) {
      return refuse('mail', `not sent: the message is ${raw.length} bytes and the server accepts at most ${limit} (SIZE)`, { oversize: { bytes: raw.length, limit } });
    }
    // a clean slate whatever the previous transaction left behind
    if (this.unfinished) {
      const reset = await this.link.call<boolean>((cb) => conn.reset(cb));
      if (!reset.ok) return failure(reset, wire, this.opts, this.before);
    }
    this.unfinished = true;
    const sent = await this.link.call<SMTPConnection.SentMessageInfo>((cb) =>
      conn.send({ from: envelope.from, to: envelope.to, size: raw.length, use8BitMime: !isAscii(raw) }, raw, cb),
    );
    if (!sent.ok) return failure(sent, wire, this.opts, this.before);
    this.unfinished = false;
    this.messagesSent++;
    const response = parseReply(sent.value.response);
    return {
      kind: 'sent',
      recipients: envelope.to.map((address, i) => recipientResult(address, i, wire, sent.value.accepted)),
      response: { code: response.code, text: response.text },
      tls: tlsOf(conn),
      transcript: transcript(),
    };
  }

  async close(): Promise<void> {
    await this.turn;
    const { conn } = this.link;
    // the TCP socket itself: done only once both sides have closed it, so a
    // session opened next never overlaps this one (receivers count sessions)
    const socket = conn._socket as Socket | undefined;
    const gone = socket && !socket.destroyed ? new Promise<void>((resolve) => socket.once('close', () => resolve())) : Promise.resolve();
    if (!conn.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => conn.close(), 2_000);
        conn.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
        conn.quit();
      });
    }
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}

function tlsOf(conn: SMTPConnection): SessionTlsInfo | null {
  const socket = conn._socket as TLSSocket | false | null;
  if (!conn.secure || !socket || typeof socket.getProtocol !== 'function') return null;
  const error = socket.authorizationError as Error | string | null | undefined;
  return {
    version: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.name ?? 'unknown', authorized: socket.authorized,
    ...(error ? { authorizationError: typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? error.message) } : {}),
  };
}

// What envoi's SMTP listeners (submission, inbound MX) share on top of
// smtp-server: TLS settings, features switched off, logs to pino, replies that
// always carry an RFC 3463 enhanced status code, handler calls that can never
// take the listener down, and a promise-shaped start and stop.
import { storageFault } from '../store/faults.ts';
import { format } from 'node:util';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection';
import { ERRORS, fail, smtpReply, type ErrorCode, type Failure, type Result } from '../errors.ts';
import { serverTlsOptions, type TlsMaterial } from './tls.ts';

export interface ListenerOptions {
  host: string;
  /** 0 picks a free port, reported back by the returned listener */
  port: number;
  tls: TlsMaterial;
  /** the name in the greeting and the EHLO reply */
  hostname: string;
  /** advertised as SIZE; larger messages are refused with 552 5.3.4 */
  maxMessageBytes: number;
  logger?: Logger;
  maxClients?: number;
  /** idle time before the server drops a client; RFC 5321 asks servers to wait at least 5 minutes */
  socketTimeoutMs?: number;
}

export interface Listener {
  port: number;
  /** stops accepting, lets sessions in progress finish (a short grace period), then closes them */
  close(): Promise<void>;
}

/** Hooks of one kind of listener: smtp-server options such as onAuth, onRcptTo, onData. */
export type ListenerHooks = Omit<SMTPServerOptions, 'logger' | 'size' | 'name' | 'key' | 'cert'>;

const FIVE_MINUTES = 5 * 60 * 1000;
const CLOSE_GRACE_MS = 10_000;
// VRFY would only answer "252 try it": say nothing instead. WIZ, SHELL and KILL
// are sendmail jokes smtp-server answers to; XCLIENT/XFORWARD let a proxy
// rewrite the client address, and no proxy stands in front of envoi.
const NEVER = ['VRFY', 'EXPN', 'WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD'];

export async function startListener(opts: ListenerOptions, component: string, hooks: ListenerHooks): Promise<Listener> {
  const logger = opts.logger?.child({ component });
  const server = new SMTPServer({
    ...serverTlsOptions(opts.tls),
    ...hooks,
    name: opts.hostname,
    size: opts.maxMessageBytes,
    disabledCommands: [...NEVER, ...(hooks.disabledCommands ?? [])],
    // the client's PTR name is not used, and the lookup would go to the system resolver
    disableReverseLookup: true,
    // smtp-server logs every command at debug level (AUTH arguments redacted);
    // without a logger it must stay silent rather than write to stdout
    logger: opts.logger ? bunyanStyle(opts.logger) : false,
    component,
    maxClients: opts.maxClients,
    socketTimeout: opts.socketTimeoutMs ?? FIVE_MINUTES,
    closeTimeout: CLOSE_GRACE_MS,
  });
  server.connections = new Connections();
  // Errors of single connections (a reset, a failed TLS handshake) arrive here;
  // with no listener the EventEmitter would throw and end the process.
  server.on('error', (err) => logger?.warn({ err }, 'smtp connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An onRcptTo hook: each recipient is checked by `check`, a refusal answered
 * at RCPT with the failure's own reply.
 */
export function recipientHook(
  logger: Logger | undefined,
  check: (address: string, session: SMTPServerSession) => Promise<Result<true>>,
): NonNullable<SMTPServerOptions['onRcptTo']> {
  return (address, session, callback) => {
    void guarded(logger, 'recipient check', () => check(address.address, session)).then((r) =>
      r.ok ? callback() : callback(smtpError(r.error)),
    );
  };
}

/**
 * An onData hook: reads the whole message, refuses it with 552 5.3.4 when it
 * went over the limit, and answers 250 only once `take` has resolved ok —
 * that is, once envoi holds the message.
 */
export function messageHook(
  opts: { maxMessageBytes: number; logger?: Logger },
  take: (session: SMTPServerSession, raw: Buffer) => Promise<Result<{ id: string }>>,
): NonNullable<SMTPServerOptions['onData']> {
  return (stream, session, callback) => {
    void (async () => {
      let r: Result<{ id: string }>;
      try {
        const raw = await readMessage(stream);
        r =
          raw === 'too_large'
            ? fail('message.too_large', `Message exceeds the maximum size of ${opts.maxMessageBytes} bytes`)
            : await guarded(opts.logger, 'message handler', () => take(session, raw));
      } catch (err) {
        opts.logger?.warn({ err }, 'reading the message failed');
        r = internal();
      }
      if (r.ok) callback(null, `2.0.0 Ok: queued as ${r.value.id}`);
      else callback(smtpError(r.error));
    })();
  };
}

/** The envelope of the transaction in progress, as plain addresses ("" for the null sender). */
export function envelopeOf(session: SMTPServerSession): { mailFrom: string; rcptTo: string[] } {
  const from = session.envelope.mailFrom;
  return { mailFrom: from ? from.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address) };
}

/** The error smtp-server turns into the reply `<code> <enhanced code> <detail>`. */
export function smtpError(f: Failure): Error & { responseCode: number } {
  const { code, message } = smtpReply(f);
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Runs a handler call. An exception is a bug or an outage, not the client's
 * fault: it is logged and answered 451 4.3.0 so the client retries later, and
 * the listener keeps serving everyone else.
 */
export async function guarded<T>(logger: Logger | undefined, what: string, call: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await call();
  } catch (err) {
    // the database away or the disk full: a temporary reply that says so, the client keeps the message
    const stored = storageFault(err);
    if (stored) {
      logger?.warn({ err }, `${what}: storage unavailable or full`);
      return { ok: false, error: stored };
    }
    logger?.error({ err }, `${what} threw`);
    return internal();
  }
}

const internal = () => fail('internal', 'Internal error, please try again later');

// Keeps at most the limit in memory: past it smtp-server keeps counting (and
// sets sizeExceeded) but the bytes are dropped, so a huge DATA costs nothing.
function readMessage(stream: SMTPServerDataStream): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.once('end', () => resolve(stream.sizeExceeded ? 'too_large' : Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

// smtp-server writes some refusals itself (538 before STARTTLS, 552 for a
// declared SIZE, 503 out of sequence, 421 at shutdown) and, with
// ENHANCEDSTATUSCODES hidden, without an enhanced code. Turning that option on
// is no cure: smtp-server would then prefix its own guess to our replies too
// (553 → 5.1.3 where the registry says 5.7.1). So each connection's replies
// pass through here, and a refusal without an enhanced code gets the one of
// its basic code.
const enhanced = (c: ErrorCode) => ERRORS[c].smtp[1];
const SERVER_REFUSALS: Record<number, string> = {
  421: enhanced('unavailable'),
  451: enhanced('internal'),
  452: '4.5.3', // too many recipients
  500: '5.5.2',
  501: '5.5.4',
  502: '5.5.1',
  503: '5.5.1',
  504: '5.5.4',
  530: enhanced('auth.required'),
  535: enhanced('auth.invalid'),
  538: enhanced('auth.tls_required'),
  550: '5.7.1',
  552: enhanced('message.too_large'),
};
const HAS_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}(\s|$)/;

export function withEnhancedCode(code: number, text: string): string {
  if (code < 400 || HAS_ENHANCED.test(text)) return text;
  return `${SERVER_REFUSALS[code] ?? `${Math.floor(code / 100)}.0.0`} ${text}`;
}

// smtp-server logs bunyan style, `debug(data, 'S:', line)`: pino would drop
// the arguments that have no placeholder in the message, so format them first.
function bunyanStyle(logger: Logger) {
  const at =
    (level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal') =>
    (data: object, message: string, ...args: unknown[]) =>
      logger[level](data, format(message, ...args));
  return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
}

// smtp-server adds every new connection to server.connections: the one place
// to reach a connection before it says anything.
class Connections extends Set<SMTPConnection> {
  override add(connection: SMTPConnection): this {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => send(code, typeof data === 'string' ? withEnhancedCode(code, data) : data, context);
    return super.add(connection);
  }
}

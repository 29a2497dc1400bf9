// A scripted SMTP server on 127.0.0.x playing a receiving MX in delivery tests:
// it records what it received, counts concurrent sessions (for connection-cap
// tests) and answers as the test scripts it — defer, reject, drop the
// connection, stall, send garbage, advertise STARTTLS and then fail the
// handshake. Built on smtp-server, so the protocol side is a real server's.
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { TlsMaterial } from '../../src/net/tls.ts';

/**
 * What the peer answers at a step: a reply (2xx replies are sent as the
 * server's default success line), 'drop' to cut the connection without a
 * reply, or raw bytes written as they are (garbage) with no reply after them.
 */
export type PeerReply = { code: number; text: string } | 'drop' | { raw: string };
export type PeerStep = 'greeting' | 'mail' | 'rcpt' | 'data';

export interface PeerScript {
  /** instead of the 220 greeting (e.g. 421 4.3.2 too busy) */
  onConnect?: () => PeerReply | undefined;
  onMailFrom?: (address: string) => PeerReply | undefined;
  onRcptTo?: (address: string) => PeerReply | undefined;
  /** the final reply to the message, once it was received whole (e.g. 451 4.7.27) */
  onData?: (raw: Buffer, envelope: { from: string; to: string[] }) => PeerReply | undefined;
  /** advertise STARTTLS, answer 220, then fail the TLS handshake */
  failHandshake?: boolean;
  /** wait this long before each scripted step's reply (only at slowAt when set) */
  slowMs?: number;
  slowAt?: PeerStep;
  /** close the connection: after the greeting, instead of the MAIL or RCPT reply, or in the middle of the message */
  dropAfter?: PeerStep;
  /** cut the connection in the middle of the n-th message's data (1-based, counted over the peer's life) when this says so */
  dropDuringData?: (n: number, envelope: { from: string; to: string[] }) => boolean;
}

export interface PeerOptions {
  host?: string;
  /** 0 (default): a free port */
  port?: number;
  /** certificate for STARTTLS; false (or absent): STARTTLS is neither offered nor accepted */
  tls?: TlsMaterial | false;
  script?: PeerScript;
  /** advertised as SIZE and enforced by smtp-server */
  size?: number;
  /** require AUTH with these credentials (a smart host) */
  auth?: { user: string; pass: string };
  /** the name in the greeting */
  name?: string;
}

export interface Received {
  from: string;
  to: string[];
  raw: Buffer;
  tls: boolean;
  remoteAddress: string;
  /** the TCP session it came on (smtp-server's session id) */
  session: string;
  /** who authenticated on the session (a smart host's client), if anyone */
  user?: string;
}

export interface Peer {
  host: string;
  port: number;
  received: Received[];
  /** TCP sessions: open now, the most open at once, and all so far */
  sessions: { current: number; max: number; total: number };
  /** messages received on each session that carried one, by session id */
  messagesPerSession(): Map<string, number>;
  close(): Promise<void>;
}

const addr = (a: SMTPServerAddress) => a.address;

export async function startPeer(opts: PeerOptions = {}): Promise<Peer> {
  const host = opts.host ?? '127.0.0.2';
  const script = opts.script ?? {};
  const received: Received[] = [];
  const sessions = { current: 0, max: 0, total: 0 };
  let dataStarted = 0;
  const open = new Set<string>();
  const ended = (key: string) => {
    if (open.delete(key)) sessions.current--;
  };
  const withTls = opts.tls !== undefined && opts.tls !== false;
  const name = opts.name ?? 'mx.peer.test';

  const server: SMTPServer = new SMTPServer({
    name,
    ...(withTls ? { key: (opts.tls as TlsMaterial).key, cert: (opts.tls as TlsMaterial).cert } : {}),
    // A server that only speaks TLS 1.0/1.1: today's clients (TLS 1.2 minimum)
    // abort the handshake — the "STARTTLS offered, handshake fails" case.
    ...(script.failHandshake ? { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } : {}),
    disabledCommands: withTls ? [] : ['STARTTLS'],
    hideSTARTTLS: !withTls,
    authOptional: !opts.auth,
    authMethods: ['PLAIN', 'LOGIN'],
    size: opts.size,
    disableReverseLookup: true,
    logger: false,
    socketTimeout: 60_000,
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      const good = opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass;
      callback(good ? null : replyError({ code: 535, text: '5.7.8 Authentication credentials invalid' }), good ? { user: auth.username } : undefined);
    },
    onClose(session) {
      ended(`${session.remoteAddress}:${session.remotePort}`);
    },
    onConnect(session, callback) {
      // the greeting is written by hand so the close follows it before any EHLO can be answered
      if (script.dropAfter === 'greeting') return void socketOf(session)?.end(`220 ${name} ESMTP\r\n`);
      void step('greeting', session, script.onConnect?.(), callback);
    },
    onMailFrom(address, session, callback) {
      void step('mail', session, script.onMailFrom?.(address.address), callback);
    },
    onRcptTo(address, session, callback) {
      void step('rcpt', session, script.onRcptTo?.(address.address), callback);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const dataNo = ++dataStarted;
      const cut = script.dropDuringData?.(dataNo, { from: session.envelope.mailFrom ? addr(session.envelope.mailFrom) : '', to: session.envelope.rcptTo.map(addr) }) ?? false;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        if (script.dropAfter === 'data' || cut) socketOf(session)?.destroy();
      });
      stream.on('error', () => {}); // the client (or we) cut the connection mid-message
      stream.on('end', () => {
        if (script.dropAfter === 'data' || cut) return;
        if (stream.sizeExceeded) return callback(replyError({ code: 552, text: '5.3.4 Message too big' }));
        const raw = Buffer.concat(chunks);
        const envelope = { from: session.envelope.mailFrom ? addr(session.envelope.mailFrom) : '', to: session.envelope.rcptTo.map(addr) };
        void step('data', session, script.onData?.(raw, envelope), callback, () =>
          received.push({ ...envelope, raw, tls: session.secure, remoteAddress: session.remoteAddress, session: session.id, user: session.user as string | undefined }),
        );
      });
    },
  });

  // The socket of a session, to drop it or write garbage on it: smtp-server
  // keeps its connections (with their sockets) in a set, keyed by session id.
  function socketOf(session: SMTPServerSession): Socket | undefined {
    for (const c of server.connections as Set<{ id: string; _socket: Socket }>) if (c.id === session.id) return c._socket;
    return undefined;
  }

  async function step(
    at: PeerStep,
    session: SMTPServerSession,
    reply: PeerReply | undefined,
    callback: (err?: Error | null) => void,
    onAccept?: () => void,
  ): Promise<void> {
    if (script.slowMs && (script.slowAt === undefined || script.slowAt === at)) await new Promise((r) => setTimeout(r, script.slowMs));
    if (script.dropAfter === at && at !== 'data') reply = 'drop';
    if (reply === 'drop') return void socketOf(session)?.destroy();
    if (reply && 'raw' in reply) return void socketOf(session)?.write(reply.raw);
    if (reply && reply.code >= 300) return callback(replyError(reply));
    onAccept?.();
    callback();
  }

  // Sessions are counted on the TCP sockets, so refused or dropped ones count too.
  // smtp-server strips the plain socket's listeners when it upgrades it with
  // STARTTLS: a session ends at its socket's close or at smtp-server's onClose,
  // whichever comes first.
  server.server.on('connection', (socket: Socket) => {
    sessions.current++;
    sessions.total++;
    sessions.max = Math.max(sessions.max, sessions.current);
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    open.add(key);
    socket.once('close', () => ended(key));
  });
  // Failed handshakes and reset connections land here; unhandled they would throw.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host,
    port,
    received,
    sessions,
    messagesPerSession() {
      const per = new Map<string, number>();
      for (const r of received) per.set(r.session, (per.get(r.session) ?? 0) + 1);
      return per;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// smtp-server writes "<responseCode> <message>"; with enhanced codes hidden
// (its default) the text carries the enhanced code itself, as real MXs do.
function replyError(r: { code: number; text: string }): Error {
  return Object.assign(new Error(r.text), { responseCode: r.code });
}

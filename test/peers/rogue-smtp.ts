// A hand-written SMTP server on 127.0.0.x that misbehaves at will, where
// smtp-server (test/peers/smtp-peer.ts) would not: it drops the connection,
// says nothing, or writes garbage at one chosen stage of the session —
// before the greeting, at EHLO, at STARTTLS, in place of the TLS handshake,
// at MAIL, RCPT, DATA, in the middle of the message data, after the final
// dot — until the test fixes it. The rest of the time it is a plain, correct
// receiver (STARTTLS with a certificate the test gives it, one reply per
// command, no PIPELINING) that counts what it was sent: sessions, faults
// injected, messages it acknowledged and messages it had whole but never
// acknowledged (the RFC 1047 window: a drop or silence after the final dot).
import net from 'node:net';
import tls from 'node:tls';
import type { TlsMaterial } from '../../src/net/tls.ts';

/**
 * Where the fault happens. 'connect': instead of the greeting; 'greeting':
 * right after it; 'ehlo' / 'tlsEhlo': in place of the reply to EHLO before /
 * after TLS; 'starttls': in place of "220 Ready"; 'tls': after "220 Ready",
 * in place of the handshake; 'mail', 'rcpt', 'data': in place of the reply;
 * 'body': once `bodyBytes` of the message data came in; 'dataEnd': after the
 * final dot, in place of the reply; 'rset', 'quit': in place of the reply
 * (RSET comes before each message after the first on a session).
 */
export type RogueStage = 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'tls' | 'tlsEhlo' | 'mail' | 'rcpt' | 'data' | 'body' | 'dataEnd' | 'rset' | 'quit';

/**
 * 'drop': close the TCP connection at once; 'hang': say nothing more (and
 * read nothing more); raw: write these bytes, then say nothing more; flood:
 * write this text again and again, as fast as the client reads, until it
 * closes the connection (a reply that never ends)
 */
export type RogueAction = 'drop' | 'hang' | { raw: string | Buffer } | { flood: string };

export interface RogueFault {
  at: RogueStage;
  action: RogueAction;
  /** sessions it is injected in before the peer behaves again (default: until fix()) */
  times?: number;
  /** for 'body': bytes of message data taken before the fault (default 1,000) */
  bodyBytes?: number;
}

export interface RogueOptions {
  host: string;
  /** 0 (default): a free port */
  port?: number;
  /** certificate for STARTTLS; absent: STARTTLS not offered */
  tls?: TlsMaterial;
  fault?: RogueFault;
  /** the reply to RCPT TO (default 250 2.1.5 OK) */
  rcpt?: (address: string) => { code: number; text: string } | undefined;
  name?: string;
}

export interface RogueMessage {
  from: string;
  to: string[];
  raw: Buffer;
  tls: boolean;
  session: number;
}

export interface Rogue {
  host: string;
  port: number;
  /** messages acknowledged with 250 after the final dot */
  received: RogueMessage[];
  /** messages taken whole (up to the final dot) but never acknowledged: a drop, silence or garbage after the dot */
  unacknowledged: RogueMessage[];
  /** TCP sessions accepted */
  sessions: number;
  /** times the fault was injected */
  faults: number;
  /** bytes written by 'flood' faults */
  flooded: number;
  /** RCPT commands of each transaction that reached DATA or ended */
  rcptPerTransaction: number[];
  /** the fault from now on (undefined: none) */
  setFault(f: RogueFault | undefined): void;
  setTls(m: TlsMaterial): void;
  setRcpt(f: RogueOptions['rcpt']): void;
  close(): Promise<void>;
}

export async function startRogue(opts: RogueOptions): Promise<Rogue> {
  const name = opts.name ?? 'mx.rogue.test';
  let fault = opts.fault;
  let material = opts.tls;
  let rcptReply = opts.rcpt;
  const open = new Set<net.Socket>();
  const state = {
    received: [] as RogueMessage[], unacknowledged: [] as RogueMessage[], sessions: 0, faults: 0, rcptPerTransaction: [] as number[], flooded: 0,
  };

  const server = net.createServer((socket) => {
    const id = ++state.sessions;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    // the fault of this session, decided when it starts: fixing the peer does not change a session in flight
    // (with `times`, the session takes one of them now: sessions opened at once do not all misbehave)
    const f = fault && (fault.times === undefined || fault.times > 0) ? fault : undefined;
    if (f?.times !== undefined) f.times--;
    let injected = false;
    let io: net.Socket | tls.TLSSocket = socket;
    let secure = false;
    let dead = false;
    let buf: Buffer = Buffer.alloc(0);
    let inData = false;
    let data: Buffer[] = [];
    let dataBytes = 0;
    let env: { from: string; to: string[] } = { from: '', to: [] };

    const write = (s: string | Buffer) => {
      if (!dead && io.writable) io.write(s);
    };
    /** the fault at this stage, if it is this session's: true when it was acted on (the normal reply must not follow) */
    const misbehave = (at: RogueStage): boolean => {
      if (!f || f.at !== at || injected) return false;
      injected = true;
      state.faults++;
      dead = true; // after a fault the session answers nothing more
      const a = f.action;
      // after the greeting, end() so the 220 goes out before the FIN; elsewhere the connection is cut at once
      if (a === 'drop') void (at === 'greeting' ? socket.end() : socket.destroy());
      else if (a === 'hang') io.pause();
      else if ('flood' in a) {
        const chunk = Buffer.from(a.flood.repeat(Math.ceil(65_536 / a.flood.length)));
        const pump = () => {
          while (!io.destroyed && io.writable) {
            state.flooded += chunk.length;
            if (!io.write(chunk)) return void io.once('drain', pump);
          }
        };
        io.pause();
        pump();
      }
      // in place of the handshake: answer the ClientHello, so the bytes reach the client's TLS layer, not its SMTP reader
      else if (at === 'tls') socket.once('data', () => socket.write(a.raw));
      else {
        io.write(a.raw);
        io.pause();
      }
      return true;
    };
    const endTransaction = () => {
      if (env.to.length) state.rcptPerTransaction.push(env.to.length);
      env = { from: '', to: [] };
    };

    const onBytes = (chunk: Buffer) => {
      if (dead) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (!dead) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          const take = end === -1 ? Math.max(0, buf.length - 4) : end + 2;
          if (take) {
            data.push(buf.subarray(0, take));
            dataBytes += take;
            buf = buf.subarray(take);
          }
          if (f?.at === 'body' && dataBytes >= (f.bodyBytes ?? 1_000) && misbehave('body')) return;
          if (end === -1) return;
          buf = buf.subarray(3); // ".\r\n"
          inData = false;
          const raw = Buffer.from(Buffer.concat(data).toString('latin1').replace(/^\.\./gm, '.'), 'latin1');
          const msg: RogueMessage = { from: env.from, to: env.to, raw, tls: secure, session: id };
          endTransaction();
          data = [];
          dataBytes = 0;
          if (misbehave('dataEnd')) {
            state.unacknowledged.push(msg);
            return;
          }
          state.received.push(msg);
          write(`250 2.0.0 Ok: queued as R${id}x${state.received.length}\r\n`);
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        command(line);
      }
    };

    const command = (line: string) => {
      const verb = (/^[A-Za-z]+/.exec(line)?.[0] ?? '').toUpperCase();
      switch (verb) {
        case 'EHLO':
        case 'HELO': {
          if (misbehave(secure ? 'tlsEhlo' : 'ehlo')) return;
          const lines = [name, '8BITMIME', 'ENHANCEDSTATUSCODES', 'SMTPUTF8', ...(material && !secure ? ['STARTTLS'] : []), 'SIZE 52428800'];
          return write(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
        }
        case 'STARTTLS': {
          if (!material || secure) return write('503 5.5.1 TLS not available\r\n');
          if (misbehave('starttls')) return;
          write('220 2.0.0 Ready to start TLS\r\n');
          if (misbehave('tls')) return;
          socket.removeListener('data', onBytes);
          buf = Buffer.alloc(0);
          const t = new tls.TLSSocket(socket, { isServer: true, key: material.key, cert: material.cert });
          t.on('error', () => socket.destroy());
          t.on('data', onBytes);
          secure = true; // nothing more is read in clear; the next EHLO comes over TLS
          io = t;
          return;
        }
        case 'MAIL':
          if (misbehave('mail')) return;
          env = { from: /<([^>]*)>/.exec(line)?.[1] ?? '', to: [] };
          return write('250 2.1.0 Ok\r\n');
        case 'RCPT': {
          if (misbehave('rcpt')) return;
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          const r = rcptReply?.(address);
          if (r && r.code >= 300) return write(`${r.code} ${r.text}\r\n`);
          env.to.push(address);
          return write('250 2.1.5 Ok\r\n');
        }
        case 'DATA':
          if (misbehave('data')) return;
          if (!env.to.length) return write('554 5.5.1 No valid recipients\r\n');
          inData = true;
          return write('354 End data with <CR><LF>.<CR><LF>\r\n');
        case 'RSET':
          if (misbehave('rset')) return;
          endTransaction();
          return write('250 2.0.0 Ok\r\n');
        case 'NOOP':
          return write('250 2.0.0 Ok\r\n');
        case 'QUIT':
          if (misbehave('quit')) return;
          write('221 2.0.0 Bye\r\n');
          return void io.end();
        default:
          return write('502 5.5.2 Error: command not recognized\r\n');
      }
    };

    socket.on('data', onBytes);
    if (misbehave('connect')) return;
    write(`220 ${name} ESMTP rogue\r\n`);
    misbehave('greeting');
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  return {
    host: opts.host,
    port: (server.address() as net.AddressInfo).port,
    get received() { return state.received; },
    get unacknowledged() { return state.unacknowledged; },
    get sessions() { return state.sessions; },
    get faults() { return state.faults; },
    get rcptPerTransaction() { return state.rcptPerTransaction; },
    get flooded() { return state.flooded; },
    setFault: (f) => { fault = f; },
    setTls: (m) => { material = m; },
    setRcpt: (r) => { rcptReply = r; },
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// One SMTP conversation with a mail server, without sending a message: the
// greeting, EHLO, STARTTLS with the certificate the server shows, and RCPT
// for a few addresses (abuse@, postmaster@: AF-8), then RSET and QUIT. The
// result is a fact; tls-check.ts and abuse.ts judge it. IO only, no policy.
import net from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';

export interface Reply {
  code: number;
  text: string;
}

export interface ProbeResult {
  /** the address connected to */
  address: string;
  /** null when the conversation went through; else why it stopped */
  error: string | null;
  greeting?: Reply;
  starttls: boolean;
  tls?: {
    /** the chain verifies against the trusted CAs */
    authorized: boolean;
    authorizationError?: string;
    /** undefined when the certificate names the server; else why not */
    nameError?: string;
    validTo?: number;
    subject?: string;
  };
  rcpt: { address: string; reply: Reply }[];
}

export interface ProbeOptions {
  address: string;
  port: number;
  /** the host name the server is known by: SNI and the certificate's expected name */
  servername: string;
  helo: string;
  /** do STARTTLS when offered */
  tls: boolean;
  mailFrom?: string;
  rcpts?: string[];
  timeoutMs: number;
  /** extra trusted CAs (PEM), beside the system's */
  ca?: string;
}

export async function probeSmtp(o: ProbeOptions): Promise<ProbeResult> {
  const result: ProbeResult = { address: o.address, error: null, starttls: false, rcpt: [] };
  let socket: net.Socket | tls.TLSSocket | undefined;
  const timer = setTimeout(() => socket?.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
  try {
    socket = await connect(o.address, o.port);
    let reader = new ReplyReader(socket);
    result.greeting = await reader.next();
    if (result.greeting.code !== 220) throw new Error(`greeting ${result.greeting.code} ${result.greeting.text}`);
    let ehlo = await command(socket, reader, `EHLO ${o.helo}`);
    if (ehlo.code !== 250) throw new Error(`EHLO answered ${ehlo.code} ${ehlo.text}`);
    result.starttls = /(^|\n)STARTTLS\b/im.test(ehlo.text);
    if (o.tls && result.starttls) {
      const st = await command(socket, reader, 'STARTTLS');
      if (st.code !== 220) throw new Error(`STARTTLS answered ${st.code} ${st.text}`);
      reader.detach();
      const secure = await upgrade(socket as net.Socket, o);
      socket = secure;
      const cert = secure.getPeerCertificate();
      result.tls = {
        authorized: secure.authorized,
        ...(secure.authorizationError ? { authorizationError: String(secure.authorizationError) } : {}),
        ...certFacts(o.servername, cert),
      };
      reader = new ReplyReader(secure);
      ehlo = await command(secure, reader, `EHLO ${o.helo}`);
      if (ehlo.code !== 250) throw new Error(`EHLO after STARTTLS answered ${ehlo.code} ${ehlo.text}`);
    }
    if (o.rcpts?.length) {
      const mail = await command(socket, reader, `MAIL FROM:<${o.mailFrom ?? ''}>`);
      if (mail.code !== 250) throw new Error(`MAIL FROM answered ${mail.code} ${mail.text}`);
      for (const address of o.rcpts) result.rcpt.push({ address, reply: await command(socket, reader, `RCPT TO:<${address}>`) });
      await command(socket, reader, 'RSET').catch(() => undefined);
    }
    socket.write('QUIT\r\n');
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    clearTimeout(timer);
    socket?.end();
    socket?.destroy();
  }
  return result;
}

function certFacts(servername: string, cert: PeerCertificate): { nameError?: string; validTo?: number; subject?: string } {
  if (!cert || !cert.valid_to) return { nameError: 'the server showed no certificate' };
  const nameError = tls.checkServerIdentity(servername, cert)?.message;
  return { ...(nameError ? { nameError } : {}), validTo: Date.parse(cert.valid_to), subject: [cert.subject?.CN ?? ''].flat().join(', ') };
}

function connect(address: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function upgrade(socket: net.Socket, o: ProbeOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: net.isIP(o.servername) ? undefined : o.servername,
      // the certificate is judged, not enforced: an invalid one is a finding
      rejectUnauthorized: false,
      ca: o.ca ? [...tls.rootCertificates, o.ca] : undefined,
    });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

async function command(socket: net.Socket, reader: ReplyReader, line: string): Promise<Reply> {
  socket.write(line + '\r\n');
  return reader.next();
}

/** Reads SMTP replies ("250-…" continued, "250 …" last) off a socket. */
class ReplyReader {
  #buffer = '';
  #lines: string[] = [];
  #waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  #error: Error | null = null;
  readonly #socket: net.Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer += chunk.toString('latin1');
    if (this.#buffer.length > 64 * 1024) this.#fail(new Error('reply too long'));
    let i: number;
    while ((i = this.#buffer.indexOf('\n')) >= 0) {
      this.#lines.push(this.#buffer.slice(0, i).replace(/\r$/, ''));
      this.#buffer = this.#buffer.slice(i + 1);
    }
    this.#deliver();
  };
  readonly #onClose = () => this.#fail(new Error('the server closed the connection'));
  readonly #onError = (e: Error) => this.#fail(e);

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
  }

  detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
  }

  next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.#error) return reject(this.#error);
      this.#waiting = { resolve, reject };
      this.#deliver();
    });
  }

  #fail(e: Error): void {
    this.#error ??= e;
    const w = this.#waiting;
    this.#waiting = null;
    w?.reject(this.#error);
  }

  #deliver(): void {
    if (!this.#waiting) return;
    const end = this.#lines.findIndex((l) => !/^\d{3}-/.test(l));
    if (end < 0) return;
    const lines = this.#lines.splice(0, end + 1);
    const code = Number(lines[lines.length - 1].slice(0, 3));
    const w = this.#waiting;
    this.#waiting = null;
    if (!Number.isInteger(code) || code < 200) return w.reject(new Error(`not an SMTP reply: ${lines[lines.length - 1].slice(0, 80)}`));
    w.resolve({ code, text: lines.map((l) => l.slice(4)).join('\n') });
  }
}

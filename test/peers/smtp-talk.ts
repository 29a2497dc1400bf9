// A raw SMTP client for protocol tests: sends exactly the lines a test writes
// and returns the server's replies, for the cases a real client library will
// not produce (nodemailer refuses an oversized SIZE= itself, and never sends
// RCPT after a refused MAIL). STARTTLS verifies the server against the given CA.
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  /** the reply lines without the "250-" / "250 " prefix */
  lines: string[];
  /** the last line as sent, e.g. "530 5.7.0 Authentication required" */
  text: string;
}

export interface Talk {
  greeting: Reply;
  command(line: string): Promise<Reply>;
  /** EHLO, and the extension keywords it listed ("SIZE 1000", "STARTTLS", …) */
  ehlo(name?: string): Promise<string[]>;
  /** STARTTLS and the handshake; throws when the certificate is not trusted */
  starttls(servername?: string, options?: tls.ConnectionOptions): Promise<void>;
  close(): void;
}

export async function talk(opts: { host?: string; port: number; ca: string }): Promise<Talk> {
  const host = opts.host ?? '127.0.0.1';
  let socket: net.Socket = net.connect({ host, port: opts.port });
  let buffered = '';
  let lines: string[] = [];
  const waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  const replies: Reply[] = [];

  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 2);
      lines.push(line.slice(4));
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), lines, text: line };
        lines = [];
        const w = waiting.shift();
        if (w) w.resolve(reply);
        else replies.push(reply);
      }
    }
  };
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const r = replies.shift();
      if (r) resolve(r);
      else if (closed) reject(new Error('connection closed'));
      else waiting.push({ resolve, reject });
    });
  // a dropped connection shows as a rejected reply, not as an error event
  const watch = (s: net.Socket) =>
    s.on('error', () => {}).on('close', () => {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('connection closed'));
    });
  socket.on('data', onData);
  watch(socket);

  const command = (line: string) => {
    socket.write(`${line}\r\n`);
    return next();
  };
  const greeting = await next();
  return {
    greeting,
    command,
    async ehlo(name = 'client.test') {
      const r = await command(`EHLO ${name}`);
      return r.lines.slice(1);
    },
    async starttls(servername = 'localhost', options = {}) {
      const r = await command('STARTTLS');
      if (r.code !== 220) throw new Error(`STARTTLS refused: ${r.text}`);
      socket.off('data', onData);
      const secure = tls.connect({ socket, ca: opts.ca, servername, rejectUnauthorized: true, ...options });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      secure.on('data', onData);
      watch(secure);
      socket = secure;
    },
    close: () => socket.destroy(),
  };
}

/** The AUTH PLAIN initial response for a user and password. */
export const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

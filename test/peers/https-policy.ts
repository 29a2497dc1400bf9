// An HTTPS server on 127.0.0.x serving MTA-STS policy files
// (/.well-known/mta-sts.txt) by Host header, with a certificate from the test
// CA: what `https://mta-sts.<domain>/` is for the delivery engine in tests.
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TlsMaterial } from '../../src/net/tls.ts';

export interface PolicyServer {
  host: string;
  port: number;
  /** what mta-sts.<domain> answers: a policy's text, or a status with headers (a redirect) */
  set(domain: string, answer: string | { status: number; headers?: Record<string, string>; body?: string }): void;
  /** requests received, by Host */
  requests: string[];
  close(): Promise<void>;
}

export async function startPolicyServer(o: { host: string; tls: TlsMaterial; port?: number }): Promise<PolicyServer> {
  const answers = new Map<string, string | { status: number; headers?: Record<string, string>; body?: string }>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = https.createServer({ key: o.tls.key, cert: o.tls.cert }, (req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    requests.push(host);
    const a = req.url === '/.well-known/mta-sts.txt' && host.startsWith('mta-sts.') ? answers.get(host.slice('mta-sts.'.length)) : undefined;
    if (a === undefined) return void res.writeHead(404).end('not found');
    if (typeof a === 'string') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(a);
    res.writeHead(a.status, a.headers ?? {}).end(a.body ?? '');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host, () => resolve());
  });
  const address = server.address();
  return {
    host: o.host,
    port: typeof address === 'object' && address ? address.port : 0,
    set: (domain, answer) => void answers.set(domain, answer),
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

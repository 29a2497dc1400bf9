// A webhook receiver for tests: a real HTTPS server on 127.0.0.1 with a
// certificate from the test CA, recording each request and answering with
// whatever the test says (a status, a redirect, a slow or huge answer).
import https from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { TestCa } from '../peers/ca.ts';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** how to answer the next requests; default 200 */
  answer: (req: Received, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startReceiver(ca: TestCa, port = 0): Promise<Receiver> {
  const tls = await ca.issue(['127.0.0.1']);
  const r: Receiver = {
    url: '', port: 0, received: [],
    answer: (_req, res) => res.writeHead(200).end('ok'),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const got = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      r.received.push(got);
      r.answer(got, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  r.port = (server.address() as { port: number }).port;
  r.url = `https://127.0.0.1:${r.port}/hooks`;
  return r;
}

// The API under load while a campaign sends (issue 10, "Load"): a separate
// process on loopback keeps `--clients` requests in flight against envoi's
// HTTPS API with a tenant key, each client sending its next request as soon
// as the last one answered, until told to stop. The mix is what a sender's
// applications and dashboard do during a send: read the campaign's
// progress, look up contacts and their messages, list lists, subscribe new
// contacts. Latency of every request is kept (a few hundred thousand numbers)
// and reported as percentiles per kind and overall.
//
// Hand-written rather than autocannon (not in STACK.md): the mix needs
// per-request paths and bodies, which is a loop over `https.request` with a
// keep-alive agent of `--clients` sockets.
import https from 'node:https';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: {
  url: { type: 'string' }, token: { type: 'string' }, campaign: { type: 'string' }, list: { type: 'string' },
  contacts: { type: 'string', default: '1000' }, clients: { type: 'string', default: '200' },
} });

const base = new URL(args.url!);
// loopback only, to envoi's own self-signed certificate
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(args.clients), rejectUnauthorized: false });
const contacts = Number(args.contacts);
const pick = () => 1 + Math.floor(Math.random() * contacts);
const address = (i = pick()) => `member${i}@d${i % 20}.example`;
// the bench seeds ids in this shape (and hashes unlike envoi's, so a lookup by address finds nothing)
const contactId = (i = pick()) => `con_${String(i).padStart(10, '0')}`;
let fresh = 0;

interface Call { kind: string; method: 'GET' | 'POST'; path: string; body?: unknown }

/** the mix, by weight out of 10 */
function nextCall(): Call {
  const r = Math.random() * 10;
  if (r < 3) return { kind: 'campaign progress', method: 'GET', path: `/v1/campaigns/${args.campaign}` };
  if (r < 6) return { kind: 'contact with timeline', method: 'GET', path: `/v1/contacts/${contactId()}` };
  if (r < 8) return { kind: 'messages to an address', method: 'GET', path: `/v1/messages?recipient=${encodeURIComponent(address())}&limit=10` };
  if (r < 9) return { kind: 'lists', method: 'GET', path: '/v1/lists' };
  const n = ++fresh;
  return {
    kind: 'subscribe', method: 'POST', path: `/v1/lists/${args.list}/subscriptions`,
    body: { email: `new${process.pid}-${n}@d${n % 20}.example`, fields: { first_name: 'Zoé' }, consent: { source: 'api', optIn: 'single', collectedAt: new Date().toISOString(), ip: '203.0.113.9' } },
  };
}

function request(c: Call): Promise<number> {
  return new Promise((resolve) => {
    const body = c.body === undefined ? undefined : JSON.stringify(c.body);
    const req = https.request({
      agent, host: '127.0.0.1', port: base.port, method: c.method, path: c.path, servername: base.hostname,
      headers: { authorization: `Bearer ${args.token}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.on('socket', (sock) => {
      if (!sock.connecting) return;
      const t = performance.now();
      sock.once('connect', () => { connectMs.push(performance.now() - t); });
      sock.once('secureConnect', () => { handshakeMs.push(performance.now() - t); });
    });
    req.end(body);
  });
}

const latencies = new Map<string, number[]>();
/** new connections: TCP connect and TLS handshake times (a slow first request is often one of these) */
const connectMs: number[] = [];
const handshakeMs: number[] = [];
const statuses = new Map<string, number>();
let running = true;
const started = performance.now();
/** [start offset, duration, kind] of the requests that took over a second */
const slow: [number, number, string][] = [];

async function client(): Promise<void> {
  while (running) {
    const c = nextCall();
    const t0 = performance.now();
    const status = await request(c);
    const ms = performance.now() - t0;
    let l = latencies.get(c.kind);
    if (!l) latencies.set(c.kind, (l = []));
    l.push(ms);
    if (ms > 1000) slow.push([Math.round(t0 - started), Math.round(ms), c.kind]);
    const key = `${c.kind} ${status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
}

function summary(xs: number[]) {
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
  return { requests: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

const t0 = performance.now();
const clients = Array.from({ length: Number(args.clients) }, () => client());
process.send!({ ready: true });
process.on('message', async (m: { stop?: boolean }) => {
  if (!m.stop) return;
  running = false;
  await Promise.all(clients);
  const seconds = (performance.now() - t0) / 1000;
  const all = [...latencies.values()].flat();
  const ok = [...statuses].filter(([k]) => / 2\d\d$/.test(k)).reduce((a, [, v]) => a + v, 0);
  process.send!({
    clients: Number(args.clients), seconds: Math.round(seconds * 10) / 10, requestsPerSecond: Math.round(all.length / seconds),
    overallMs: summary(all), byKindMs: Object.fromEntries([...latencies].map(([k, v]) => [k, summary(v)])),
    connections: { tcpConnectMs: summary(connectMs), tlsReadyMs: summary(handshakeMs) },
    non2xx: all.length - ok, overOneSecond: slow.length, slowest: slow.sort((a, b) => b[1] - a[1]).slice(0, 10), statuses: Object.fromEntries(statuses),
  }, () => process.exit(0));
});

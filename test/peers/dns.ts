// A real authoritative DNS server on 127.0.0.1 for tests: UDP and TCP on the
// same random port (resolvers retry truncated UDP answers over TCP, which a
// 2048-bit DKIM key or a long TXT set can trigger).
import { createTCPServer, createUDPServer, Packet } from 'dns2';
import type { DnsHandler } from 'dns2';
import type { Socket } from 'node:net';

export interface Zone {
  [name: string]: {
    TXT?: string[];
    MX?: { exchange: string; priority: number }[];
    A?: string[];
    AAAA?: string[];
    PTR?: string[];
    CNAME?: string;
  };
}

export interface DnsServer {
  port: number;
  /** "127.0.0.1:PORT", as createResolver({ servers }) takes it */
  address: string;
  set(name: string, records: Zone[string]): void;
  remove(name: string): void;
  close(): Promise<void>;
}

type Answer = Record<string, unknown> & { name: string; type: number; class: number; ttl: number };

const TTL = 60;
// RFC 1035 §4.1.1 (dns2 has Packet.RCODE at runtime but not in its types)
const NOERROR = 0;
const NXDOMAIN = 3;

export async function startDnsServer(zone: Zone = {}): Promise<DnsServer> {
  const records = new Map<string, Zone[string]>();
  for (const [name, rrs] of Object.entries(zone)) records.set(normalise(name), rrs);

  const handle: DnsHandler = (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const question = request.questions[0];
    if (question) {
      const { rcode, answers } = lookup(records, question.name, question.type);
      response.header.rcode = rcode;
      response.answers = answers as unknown as typeof response.answers;
    }
    // dns2's TCP send returns nothing (its types say a Promise); a UDP send can
    // reject if the client has gone, which is no concern of the test server
    Promise.resolve(send(response)).catch(() => {});
  };

  const { udp, tcp, port, connections } = await listenOnSamePort(handle);
  return {
    port,
    address: `127.0.0.1:${port}`,
    set: (name, rrs) => void records.set(normalise(name), rrs),
    remove: (name) => void records.delete(normalise(name)),
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // close() waits for open connections; resolvers keep theirs idle-open
        for (const socket of connections) socket.destroy();
      });
    },
  };
}

// Binds UDP to a random port, then TCP to the same number; retries if that
// TCP port happens to be taken.
async function listenOnSamePort(handle: DnsHandler) {
  for (let attempt = 0; ; attempt++) {
    const udp = createUDPServer({ type: 'udp4' });
    udp.on('request', handle);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const port = udp.address().port;
    const tcp = createTCPServer(handle);
    const connections = new Set<Socket>();
    tcp.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => resolve());
      });
      return { udp, tcp, port, connections };
    } catch (err) {
      udp.close();
      if (attempt >= 10) throw err;
    }
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Pure answer logic: NXDOMAIN for names that do not exist, NOERROR (maybe empty) otherwise. */
function lookup(records: Map<string, Zone[string]>, qname: string, qtype: number): { rcode: number; answers: Answer[] } {
  const answers: Answer[] = [];
  let name = normalise(qname);
  // follow CNAMEs inside the zone, as an authoritative server would
  for (let hops = 0; hops < 8; hops++) {
    const rrs = records.get(name);
    if (!rrs) {
      if (hops === 0 && !hasDescendant(records, name)) return { rcode: NXDOMAIN, answers };
      break;
    }
    const owner = hops === 0 ? qname : name;
    if (rrs.CNAME && qtype !== Packet.TYPE.CNAME) {
      answers.push(rr(owner, Packet.TYPE.CNAME, { domain: rrs.CNAME }));
      name = normalise(rrs.CNAME);
      continue;
    }
    answers.push(...recordsOfType(owner, rrs, qtype));
    break;
  }
  return { rcode: NOERROR, answers };
}

// "_domainkey.example.com" exists (empty non-terminal) when a name below it does.
function hasDescendant(records: Map<string, Zone[string]>, name: string): boolean {
  for (const key of records.keys()) if (key.endsWith('.' + name)) return true;
  return false;
}

function recordsOfType(owner: string, rrs: Zone[string], qtype: number): Answer[] {
  const T = Packet.TYPE;
  switch (qtype) {
    case T.TXT: return (rrs.TXT ?? []).map((value) => rr(owner, T.TXT, { data: characterStrings(value) }));
    case T.MX: return (rrs.MX ?? []).map((mx) => rr(owner, T.MX, { exchange: mx.exchange, priority: mx.priority }));
    case T.A: return (rrs.A ?? []).map((address) => rr(owner, T.A, { address }));
    case T.AAAA: return (rrs.AAAA ?? []).map((address) => rr(owner, T.AAAA, { address }));
    case T.PTR: return (rrs.PTR ?? []).map((domain) => rr(owner, T.PTR, { domain }));
    case T.CNAME: return rrs.CNAME ? [rr(owner, T.CNAME, { domain: rrs.CNAME })] : [];
    default: return [];
  }
}

function rr(name: string, type: number, data: Record<string, unknown>): Answer {
  return { name, type, class: Packet.CLASS.IN, ttl: TTL, ...data };
}

// A TXT character-string holds at most 255 bytes (RFC 1035 §3.3.14); longer
// values are published as several strings that readers concatenate.
function characterStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) parts.push(bytes.subarray(i, i + 255));
  return parts.length > 0 ? parts : [Buffer.alloc(0)];
}

// Shared by the SMTP transport tests: a test CA and a certificate for the peer
// MX name, scripted peers closed after the file, default client options, a
// message that must arrive byte for byte, and one-shot send helpers.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { openSession, type SendFailure, type SendOutcome, type SmtpOptions, type SmtpSession } from '../../src/delivery/smtp/transport.ts';
import type { TlsMaterial } from '../../src/net/tls.ts';
import { createTestCa, type TestCa } from '../peers/ca.ts';
import { startPeer, type Peer, type PeerOptions } from '../peers/smtp-peer.ts';

export const MX = 'mx.peer.test';
export const fx = {} as { ca: TestCa; tls: TlsMaterial };

/** Call once at the top of a test file: makes the CA before, closes the peers after. */
export function useSmtpFixture(): void {
  before(async () => {
    fx.ca = await createTestCa();
    fx.tls = await fx.ca.issue([MX]);
  });
  after(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
}

const peers: Peer[] = [];

/** a peer on 127.0.0.2 with STARTTLS from the test CA unless told otherwise */
export async function peer(o: PeerOptions = {}): Promise<Peer> {
  const p = await startPeer({ tls: fx.tls, ...o });
  peers.push(p);
  return p;
}

export const options = (o: Partial<SmtpOptions> = {}): SmtpOptions => ({
  ehloName: 'mta1.envoi.test',
  tls: 'required',
  verifyCertificates: true,
  ca: fx.ca.caPem,
  ...o,
});

// a leading dot (stuffed on the wire), 8-bit text, CRLF line ends: must arrive byte for byte
export const RAW = Buffer.from(
  'From: News <news@sender.test>\r\nTo: <b@rcpt.test>\r\nSubject: Bonjour\r\n\r\nCafé crème\r\n.a line with a dot\r\n..two\r\nbye\r\n',
);
export const ENVELOPE = { from: 'bounce@sender.test', to: ['b@rcpt.test'] };

export const isSession = (s: SmtpSession | SendOutcome): s is SmtpSession => !('kind' in s);

/** open a session to the peer (or get the failure of opening it) */
export const open = (p: { host: string; port: number }, o: Partial<SmtpOptions> = {}) =>
  openSession({ host: MX, ip: p.host, port: p.port }, options(o));

/** open, send one message, close; or the failure of opening */
export async function sendOne(p: { host: string; port: number }, o: Partial<SmtpOptions> = {}, envelope = ENVELOPE, raw = RAW): Promise<SendOutcome> {
  const s = await open(p, o);
  if (!isSession(s)) return s;
  try {
    return await s.send(envelope, raw);
  } finally {
    await s.close();
  }
}

export function failed(o: SendOutcome): SendFailure {
  assert.equal(o.kind, 'failed', `expected a failure, got ${JSON.stringify(o)}`);
  return o as SendFailure;
}

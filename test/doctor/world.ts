// The doctor's world on loopback: a DNS server serving crafted zones, the
// From domain's MX (a scripted SMTP peer on 127.0.0.2) and "envoi's inbound
// MX" as the internet sees it (a peer on 127.0.0.3, same port) with
// certificates from a test CA, and an RDAP server answering registration
// dates. Nothing reaches the internet: the blocklist zones are asked of the
// loopback DNS server, which answers NXDOMAIN unless a case lists an IP.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startDnsServer, type DnsServer, type Zone } from '../peers/dns.ts';
import { createTestCa, type TestCa } from '../peers/ca.ts';
import { startPeer, type Peer, type PeerReply } from '../peers/smtp-peer.ts';
import type { DnsRecord } from '../../src/accounts/domains.ts';

export const ENVOI_HOST = 'mta.envoi.test';
export const ENVOI_IP = '127.0.0.3';
export const FROM_MX_IP = '127.0.0.2';
export const OLD = '2015-03-01T00:00:00Z';

export interface World {
  ca: TestCa;
  caFile: string;
  dns: DnsServer;
  fromMx: Peer;
  envoiMx: Peer | null;
  /** the port both SMTP peers listen on (doctor.smtpPort) */
  port: number;
  rdapUrl: string;
  /** domain → registration date (ISO); absent: 404 */
  registrations: Map<string, string>;
  /** RCPT answers of the From domain's MX, by address */
  rcptReplies: Map<string, PeerReply>;
  close(): Promise<void>;
}

/** envoiMx: false when a test runs envoi's own inbound listener on ENVOI_IP instead */
export async function startWorld(o: { envoiMx?: boolean } = {}): Promise<World> {
  const ca = await createTestCa();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-doctor-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.caPem);
  const rcptReplies = new Map<string, PeerReply>();
  const fromMx = await startPeer({ host: FROM_MX_IP, tls: await ca.issue(['mx.shop.example']), script: { onRcptTo: (a) => rcptReplies.get(a) } });
  const envoiMx = o.envoiMx === false ? null : await startPeer({ host: ENVOI_IP, port: fromMx.port, tls: await ca.issue([ENVOI_HOST]) });
  const dns = await startDnsServer({});
  const registrations = new Map<string, string>();
  const rdap = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/domain\//, ''));
    const date = registrations.get(name);
    if (!date) {
      res.writeHead(404, { 'content-type': 'application/rdap+json' }).end('{"errorCode":404}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rdap+json' }).end(JSON.stringify({
      objectClassName: 'domain', ldhName: name, events: [{ eventAction: 'last changed', eventDate: '2025-01-01T00:00:00Z' }, { eventAction: 'registration', eventDate: date }],
    }));
  });
  await new Promise<void>((resolve) => rdap.listen(0, '127.0.0.1', resolve));
  return {
    ca, caFile, dns, fromMx, envoiMx, port: fromMx.port, registrations, rcptReplies,
    rdapUrl: `http://127.0.0.1:${(rdap.address() as AddressInfo).port}`,
    async close() {
      await fromMx.close();
      await envoiMx?.close();
      await dns.close();
      await new Promise<void>((resolve) => rdap.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The configuration the doctor runs with in this world, and the same as ENVOI_* variables for the CLI. */
export function doctorConfig(w: World) {
  return {
    hostname: ENVOI_HOST,
    dns: { servers: [w.dns.address] },
    doctor: { smtpPort: w.port, caFile: w.caFile, rdapBaseUrl: w.rdapUrl, timeoutMs: 3000 },
  };
}

export function doctorEnv(w: World): Record<string, string> {
  return {
    ENVOI_HOSTNAME: ENVOI_HOST, ENVOI_DNS_SERVERS: w.dns.address, ENVOI_DOCTOR_SMTP_PORT: String(w.port),
    ENVOI_DOCTOR_CA_FILE: w.caFile, ENVOI_DOCTOR_RDAP_BASE_URL: w.rdapUrl, ENVOI_DOCTOR_TIMEOUT_MS: '3000',
  };
}

/**
 * A correctly published domain: exactly the records envoi prints, plus what
 * the doctor advises beyond them (DMARC reports, MTA-STS, TLS-RPT), an MX
 * that answers, envoi's host with forward-confirmed reverse DNS.
 */
export function goodZone(domain: string, records: DnsRecord[]): Zone {
  const zone: Zone = {
    [ENVOI_HOST]: { A: [ENVOI_IP] },
    '3.0.0.127.in-addr.arpa': { PTR: [ENVOI_HOST] },
    [domain]: { MX: [{ priority: 10, exchange: `mx.${domain}` }] },
    [`mx.${domain}`]: { A: [FROM_MX_IP] },
    [`_mta-sts.${domain}`]: { TXT: ['v=STSv1; id=20260101'] },
    [`_smtp._tls.${domain}`]: { TXT: [`v=TLSRPTv1; rua=mailto:tls@${domain}`] },
  };
  for (const r of records) {
    const z = (zone[r.name] ??= {});
    if (r.type === 'TXT') (z.TXT ??= []).push(r.name.startsWith('_dmarc.') ? `${r.value}; rua=mailto:dmarc@${domain}` : r.value);
    if (r.type === 'MX') {
      const [priority, exchange] = r.value.split(' ');
      (z.MX ??= []).push({ priority: Number(priority), exchange });
    }
  }
  return zone;
}

export function publish(dns: DnsServer, zone: Zone): void {
  for (const [name, rr] of Object.entries(zone)) dns.set(name, rr);
}

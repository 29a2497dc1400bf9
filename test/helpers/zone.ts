// The DNS zone a sender would publish: exactly the records envoi prints for
// a domain, for a loopback DNS server (test/peers/dns.ts) to serve.
import type { TestApp } from './app.ts';
import type { Zone } from '../peers/dns.ts';

export async function zoneFromRecords(t: TestApp, token: string, domain: string, mtaHost = 'mta.envoi.test'): Promise<Zone> {
  const r = await t.api('GET', `/v1/domains/${domain}/records`, { token });
  const zone: Zone = { [mtaHost]: { A: ['127.0.0.1'] }, [domain]: { MX: [{ priority: 10, exchange: mtaHost }] } };
  for (const rec of r.body.data as { type: string; name: string; value: string }[]) {
    const z = (zone[rec.name] ??= {});
    if (rec.type === 'TXT') (z.TXT ??= []).push(rec.value);
    if (rec.type === 'MX') {
      const [priority, exchange] = rec.value.split(' ');
      (z.MX ??= []).push({ priority: Number(priority), exchange });
    }
  }
  return zone;
}

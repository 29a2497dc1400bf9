// MTA-STS in direct delivery (GM-7, RFC 8461), end to end: scripted SMTP
// peers on 127.0.0.7x behind MX records of a loopback DNS server, and the
// policies served by a real HTTPS server (127.0.0.70, certificate from the
// test CA) as https://mta-sts.<domain>/.well-known/mta-sts.txt. The
// "default" provider is configured opportunistic and without certificate
// checks, so it is the policy alone that requires TLS: enforce keeps to the
// MX hosts the policy lists and never sends in clear or to a certificate not
// valid for the MX name (deferred, with the reason); testing delivers and
// records what would have failed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startPeer, type Peer } from '../peers/smtp-peer.ts';
import { startPolicyServer, type PolicyServer } from '../peers/https-policy.ts';
import { zoneFromRecords } from '../helpers/zone.ts';

const policy = (mode: string, mx: string[]) => `version: STSv1\r\nmode: ${mode}\r\n${mx.map((m) => `mx: ${m}\r\n`).join('')}max_age: 86400\r\n`;
const POLICIES: Record<string, string> = {
  'enf.test': policy('enforce', ['*.enf.test']),
  'nomatch.test': policy('enforce', ['mx.elsewhere.test']),
  'clear.test': policy('enforce', ['mx.clear.test']),
  'two.enf.test': policy('enforce', ['mx.clear.test', '*.enf.test']),
  'badcert.test': policy('enforce', ['mx.badcert.test']),
  'tst.test': policy('testing', ['mx.tst.test']),
};

for (const dialect of DIALECTS) {
  describe(`MTA-STS in direct delivery (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let web: PolicyServer;
    const peers: Record<string, Peer> = {};
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      web = await startPolicyServer({ host: '127.0.0.70', tls: await ca.issue(Object.keys(POLICIES).map((d) => `mta-sts.${d}`)) });
      for (const [d, p] of Object.entries(POLICIES)) web.set(d, p);
      peers.listed = await startPeer({ host: '127.0.0.71', tls: await ca.issue(['mx1.enf.test']) });
      const port = peers.listed.port;
      peers.unlisted = await startPeer({ host: '127.0.0.72', port, tls: await ca.issue(['backup.other.test']) });
      peers.clear = await startPeer({ host: '127.0.0.73', port, tls: false });
      peers.badcert = await startPeer({ host: '127.0.0.74', port, tls: await ca.issue(['somebody-else.test']) });
      peers.testing = await startPeer({ host: '127.0.0.75', port, tls: await ca.issue(['somebody-else.test']) });
      dns = await startDnsServer({
        // the preferred MX is not in the policy: skipped for the listed one
        'enf.test': { MX: [{ exchange: 'backup.other.test', priority: 5 }, { exchange: 'mx1.enf.test', priority: 10 }] },
        'nomatch.test': { MX: [{ exchange: 'backup.other.test', priority: 5 }] },
        'mx1.enf.test': { A: ['127.0.0.71'] },
        'backup.other.test': { A: ['127.0.0.72'] },
        'clear.test': { MX: [{ exchange: 'mx.clear.test', priority: 10 }] },
        // listed, but the preferred one has no STARTTLS: the next listed one gets it
        'two.enf.test': { MX: [{ exchange: 'mx.clear.test', priority: 5 }, { exchange: 'mx1.enf.test', priority: 10 }] },
        'lax.test': { MX: [{ exchange: 'mx.clear.test', priority: 10 }] },
        'mx.clear.test': { A: ['127.0.0.73'] },
        'badcert.test': { MX: [{ exchange: 'mx.badcert.test', priority: 10 }] },
        'mx.badcert.test': { A: ['127.0.0.74'] },
        'tst.test': { MX: [{ exchange: 'mx.tst.test', priority: 10 }] },
        'mx.tst.test': { A: ['127.0.0.75'] },
      });
      for (const d of Object.keys(POLICIES)) {
        dns.set(`_mta-sts.${d}`, { TXT: ['v=STSv1; id=20261126;'] });
        dns.set(`mta-sts.${d}`, { A: ['127.0.0.70'] });
      }
      t = await startTestApp(dialect, {
        hostname: 'mta.envoi.test', dns: { servers: [dns.address] },
        delivery: {
          mode: 'smtp', port, caFile, pollMs: 50, mtaSts: { port: web.port },
          // without a policy, this receiver kind gets mail even in clear or with any certificate
          providers: { default: { tls: 'opportunistic', verifyCertificates: false } },
        },
      });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
    });
    after(async () => {
      await t.close();
      await dns.close();
      await web.close();
      for (const p of Object.values(peers)) await p.close();
    });

    const send = async (to: string) => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: [to], subject: `to ${to}`, text: 'hello' } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const event = async (id: string, type: string) => eventually(async () => {
      const s = (await t.api('GET', `/v1/messages/${id}`, { token: acme.token })).body;
      return s.events.find((e: { type: string }) => e.type === type);
    }, 20_000);
    const got = (p: Peer, to: string) => p.received.filter((r) => r.to.includes(to)).length;

    test('enforce: the MX the policy does not list is skipped, the listed one gets the message over verified TLS', async () => {
      const ev = await event(await send('alice@enf.test'), 'delivered');
      assert.equal(ev.data.remoteHost, 'mx1.enf.test');
      assert.deepEqual(ev.data.mtaSts, { mode: 'enforce', id: '20261126' });
      assert.equal(ev.data.tls.authorized, true);
      assert.equal(got(peers.listed, 'alice@enf.test'), 1);
      assert.ok(peers.listed.received.find((r) => r.to.includes('alice@enf.test'))!.tls);
      assert.equal(got(peers.unlisted, 'alice@enf.test'), 0, 'nothing to the preferred but unlisted MX');
    });

    test('enforce, no MX host listed in the policy: deferred with the reason, not bounced, nothing sent', async () => {
      const id = await send('bob@nomatch.test');
      const ev = await event(id, 'deferred');
      assert.equal(ev.data.reason, 'mta-sts');
      assert.match(ev.data.text, /MTA-STS \(enforce\): no MX host of nomatch\.test \(backup\.other\.test\) is allowed by its policy \(mx: mx\.elsewhere\.test\)/);
      assert.equal(got(peers.unlisted, 'bob@nomatch.test'), 0);
      const row = await t.app.store.db.selectFrom('recipients').select(['status']).where('message_id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'queued', 'retried later');
    });

    test('enforce, a receiver without STARTTLS: skipped for the next listed MX, or deferred; nothing in clear, though the provider is opportunistic', async () => {
      // the same receiver, for a domain without a policy: opportunistic, so in clear
      await event(await send('carol@lax.test'), 'delivered');
      assert.equal(peers.clear.received.find((r) => r.to.includes('carol@lax.test'))!.tls, false);
      const ev = await event(await send('dave@clear.test'), 'deferred');
      assert.equal(ev.data.reason, 'mta-sts');
      assert.equal(ev.data.tlsRefused, true);
      assert.match(ev.data.text, /^MTA-STS \(enforce\) policy of clear\.test requires TLS with a certificate valid for mx\.clear\.test: the server does not offer STARTTLS/);
      assert.equal(got(peers.clear, 'dave@clear.test'), 0, 'nothing sent in clear');
      // with another listed MX, that one is tried next
      const next = await event(await send('dora@two.enf.test'), 'delivered');
      assert.equal(next.data.remoteHost, 'mx1.enf.test');
      assert.equal(got(peers.clear, 'dora@two.enf.test'), 0);
      assert.ok(peers.listed.received.find((r) => r.to.includes('dora@two.enf.test'))!.tls);
    });

    test('enforce, a certificate not valid for the MX name: deferred, nothing sent, though the provider does not verify', async () => {
      const ev = await event(await send('erin@badcert.test'), 'deferred');
      assert.equal(ev.data.reason, 'mta-sts');
      assert.match(ev.data.text, /MTA-STS \(enforce\).*mx\.badcert\.test.*TLS handshake failed/);
      assert.equal(got(peers.badcert, 'erin@badcert.test'), 0);
    });

    test('testing: delivered as usual, and the would-be failure recorded on the event', async () => {
      const ev = await event(await send('frank@tst.test'), 'delivered');
      assert.equal(got(peers.testing, 'frank@tst.test'), 1);
      assert.equal(ev.data.mtaSts.mode, 'testing');
      assert.match(ev.data.mtaSts.failure, /the certificate of mx\.tst\.test is not valid for it: ERR_TLS_CERT_ALTNAME_INVALID/);
    });

    test('the policy host goes away: the cached policy still applies', async () => {
      await web.close();
      const ev = await event(await send('gina@nomatch.test'), 'deferred');
      assert.equal(ev.data.reason, 'mta-sts');
      assert.equal(got(peers.unlisted, 'gina@nomatch.test'), 0);
    });
  });
}

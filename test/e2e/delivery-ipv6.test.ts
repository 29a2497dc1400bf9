// IPv6 delivery (RFC 5321 §5.1: A and AAAA) from IP pools of either family:
// the transactional pool sends from ::1, the marketing pool from 127.0.0.1.
// Scripted SMTP peers listen on ::1 and on 127.0.0.81 (same port) behind a
// loopback DNS server. A pool reaches only the addresses of its own family:
// an MX with both is reached over the pool's family; an MX with only the
// other family is skipped, and with no usable host the recipient is deferred
// with the reason. Implicit MX with AAAA only delivers; null MX with AAAA
// still bounces.
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
import { zoneFromRecords } from '../helpers/zone.ts';

for (const dialect of DIALECTS) {
  describe(`IPv6 delivery (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let v6: Peer;
    let v4: Peer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      v6 = await startPeer({ host: '::1', tls: await ca.issue(['mx6.v6.test', 'implicit6.test', 'mx.dual.test']) });
      v4 = await startPeer({ host: '127.0.0.81', port: v6.port, tls: await ca.issue(['mx4.v4only.test', 'mx.dual.test']) });
      dns = await startDnsServer({
        'v6.test': { MX: [{ exchange: 'mx6.v6.test', priority: 10 }] },
        'mx6.v6.test': { AAAA: ['::1'] },
        'implicit6.test': { AAAA: ['::1'] },
        'dual.test': { MX: [{ exchange: 'mx.dual.test', priority: 10 }] },
        'mx.dual.test': { A: ['127.0.0.81'], AAAA: ['::1'] },
        'v4only.test': { MX: [{ exchange: 'mx4.v4only.test', priority: 10 }] },
        'mx4.v4only.test': { A: ['127.0.0.81'] },
        'nullmx6.test': { MX: [{ exchange: '.', priority: 0 }], AAAA: ['::1'] },
      });
      t = await startTestApp(dialect, {
        hostname: 'mta.envoi.test', dns: { servers: [dns.address] },
        delivery: { mode: 'smtp', port: v6.port, caFile, pollMs: 50, pools: { transactional: '::1', marketing: '127.0.0.1' } },
      });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
    });
    after(async () => {
      await t.close();
      await dns.close();
      await v6.close();
      await v4.close();
    });

    const send = async (to: string, stream?: string) => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: [to], subject: `to ${to}`, text: 'hello', stream } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const event = async (id: string, type: string) => eventually(async () => {
      const s = (await t.api('GET', `/v1/messages/${id}`, { token: acme.token })).body;
      return s.events.find((e: { type: string }) => e.type === type);
    }, 20_000);
    const at = (p: Peer, to: string) => p.received.find((r) => r.to.includes(to));

    test('an MX with only AAAA, from the IPv6 pool: delivered over IPv6, from ::1, over TLS', async () => {
      const ev = await event(await send('alice@v6.test'), 'delivered');
      assert.equal(ev.data.remoteHost, 'mx6.v6.test');
      assert.equal(ev.data.remoteIp, '::1');
      const got = at(v6, 'alice@v6.test')!;
      assert.equal(got.remoteAddress, '::1');
      assert.ok(got.tls);
    });

    test('implicit MX with only AAAA: delivered to the domain itself over IPv6', async () => {
      const ev = await event(await send('bob@implicit6.test'), 'delivered');
      assert.deepEqual([ev.data.remoteHost, ev.data.remoteIp], ['implicit6.test', '::1']);
      assert.ok(at(v6, 'bob@implicit6.test'));
    });

    test("an MX with A and AAAA is reached over the pool's family", async () => {
      const tx = await event(await send('carol@dual.test'), 'delivered');
      assert.equal(tx.data.remoteIp, '::1');
      assert.ok(at(v6, 'carol@dual.test') && !at(v4, 'carol@dual.test'));
      const mk = await event(await send('dave@dual.test', 'marketing'), 'delivered');
      assert.equal(mk.data.remoteIp, '127.0.0.81');
      assert.ok(at(v4, 'dave@dual.test') && !at(v6, 'dave@dual.test'));
    });

    test('no MX host of the pool\'s family: deferred with the reason, nothing sent, either way round', async () => {
      const a = await event(await send('erin@v4only.test'), 'deferred');
      assert.equal(a.data.reason, 'address-family');
      assert.match(a.data.text, /no MX host of v4only\.test has an IPv6 address, and IP pool "transactional" sends from ::1/);
      assert.equal(at(v4, 'erin@v4only.test'), undefined);
      const b = await event(await send('frank@v6.test', 'marketing'), 'deferred');
      assert.equal(b.data.reason, 'address-family');
      assert.match(b.data.text, /no MX host of v6\.test has an IPv4 address, and IP pool "marketing" sends from 127\.0\.0\.1/);
      assert.equal(at(v6, 'frank@v6.test'), undefined);
    });

    test('null MX with an AAAA record: bounced without a connection', async () => {
      const ev = await event(await send('gina@nullmx6.test'), 'bounced');
      assert.equal(ev.data.reason, 'null-mx');
    });
  });
}

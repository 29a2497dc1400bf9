// Smart-host mode (MC-4): a sender whose IP should not talk to MX hosts
// relays everything through an authenticating relay over TLS. The relay is a
// scripted SMTP peer on 127.0.0.41 that requires STARTTLS and AUTH; the
// recipients' MX (127.0.0.42) must receive nothing. The recipients' MX still
// decide what does not depend on the relay: a null-MX domain bounces without
// a connection, and events name the recipient's provider.
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

const CREDENTIALS = { user: 'envoi@relay.test', pass: 'relay secret 42' };

for (const dialect of DIALECTS) {
  describe(`delivery through a smart host (${dialect})`, () => {
    let t: TestApp;
    let wrong: TestApp;
    let dns: DnsServer;
    let relay: Peer;
    let mx: Peer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      relay = await startPeer({ host: '127.0.0.41', tls: await ca.issue(['relay.test']), auth: CREDENTIALS });
      mx = await startPeer({ host: '127.0.0.42', port: relay.port, tls: await ca.issue(['alt1.gmail-smtp-in.l.google.com']) });
      dns = await startDnsServer({
        'gm.test': { MX: [{ exchange: 'alt1.gmail-smtp-in.l.google.com', priority: 5 }] },
        'alt1.gmail-smtp-in.l.google.com': { A: ['127.0.0.42'] },
        'nomail.test': { MX: [{ exchange: '.', priority: 0 }] },
      });
      const smartHost = { host: 'relay.test', address: '127.0.0.41', port: relay.port, user: CREDENTIALS.user, password: CREDENTIALS.pass };
      t = await startTestApp(dialect, { hostname: 'mta.envoi.test', dns: { servers: [dns.address] }, delivery: { mode: 'smtp', port: mx.port, caFile, pollMs: 50, smartHost } });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
    });
    after(async () => {
      await t.close();
      await wrong?.close();
      await dns.close();
      await relay.close();
      await mx.close();
    });

    const send = async (app: TestApp, token: string, to: string) => {
      const r = await app.api('POST', '/v1/messages', { token, body: { from: 'orders@shop.example', to: [to], subject: `to ${to}`, text: 'hello' } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const story = (app: TestApp, token: string, id: string, type: string) => eventually(async () => {
      const s = (await app.api('GET', `/v1/messages/${id}`, { token })).body;
      return s.events.some((e: { type: string }) => e.type === type) ? s : undefined;
    }, 20_000);

    test('every message goes to the relay, authenticated over TLS; the MX gets nothing', async () => {
      const ids = [await send(t, acme.token, 'alice@gm.test'), await send(t, acme.token, 'bob@gm.test')];
      for (const id of ids) {
        const s = await story(t, acme.token, id, 'delivered');
        const ev = s.events.find((e: { type: string }) => e.type === 'delivered');
        assert.equal(ev.data.relay, 'relay.test');
        assert.equal(ev.data.provider, 'google', 'the recipient\'s provider, not the relay');
        assert.equal(ev.data.remoteIp, '127.0.0.41');
      }
      assert.deepEqual(relay.received.map((r) => r.to[0]).sort(), ['alice@gm.test', 'bob@gm.test']);
      assert.ok(relay.received.every((r) => r.tls && r.user === CREDENTIALS.user), 'over TLS, as the configured user');
      assert.match(relay.received[0].raw.toString(), /^DKIM-Signature:/m);
      assert.equal(mx.received.length, 0, 'nothing to the MX');
    });

    test('a null-MX domain still bounces at once, without a connection to the relay', async () => {
      const before = relay.received.length;
      const s = await story(t, acme.token, await send(t, acme.token, 'dan@nomail.test'), 'bounced');
      assert.equal(s.events.find((e: { type: string }) => e.type === 'bounced').data.reason, 'null-mx');
      assert.equal(relay.received.length, before);
    });

    test('wrong credentials: deferred at AUTH with the relay\'s reply, nothing sent, and the password never in the events', async () => {
      const smartHost = { host: 'relay.test', address: '127.0.0.41', port: relay.port, user: CREDENTIALS.user, password: 'not the password' };
      // the same relay, trusted through verifyCertificates: false this time (another CA file would not know its certificate)
      wrong = await startTestApp(dialect, { hostname: 'mta.envoi.test', dns: { servers: [dns.address] }, delivery: { mode: 'smtp', port: mx.port, pollMs: 50, smartHost: { ...smartHost, verifyCertificates: false } } });
      const other = await tenantWithDomain(wrong, 'other', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(wrong, other.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await wrong.api('POST', '/v1/domains/shop.example/verify', { token: other.token })).body.verified, true);
      const before = relay.received.length;
      const s = await story(wrong, other.token, await send(wrong, other.token, 'carol@gm.test'), 'deferred');
      const ev = s.events.find((e: { type: string }) => e.type === 'deferred');
      assert.equal(ev.data.stage, 'auth');
      assert.equal(ev.data.code, 535);
      assert.match(ev.data.text, /5\.7\.8/);
      assert.ok(!JSON.stringify(s).includes('not the password'), 'the password is not in the story');
      assert.equal(relay.received.length, before);
    });
  });
}

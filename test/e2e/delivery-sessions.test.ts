// The delivery engine under load (issue 5), against scripted peers on
// 127.0.0.2x behind MX records of a loopback DNS server, STARTTLS from a
// test CA: sessions reused up to messagesPerConnection; connection caps held
// under concurrency while a slow provider does not hold up another; a
// message over the peer's SIZE refused before MAIL; a session cut mid-DATA
// → the message sent again on a new session, delivered once.
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

type Ev = { type: string; recipientId?: string; data: Record<string, any> };

for (const dialect of DIALECTS) {
  describe(`delivery sessions and caps (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    const peers: Record<string, Peer> = {};
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      peers.reuse = await startPeer({ host: '127.0.0.21', tls: await ca.issue(['mx.reuse.test']) });
      const port = peers.reuse.port;
      // Google's profile, slowed down: 250 ms before each end-of-data reply
      peers.slow = await startPeer({ host: '127.0.0.22', port, tls: await ca.issue(['alt1.gmail-smtp-in.l.google.com']), script: { slowMs: 250, slowAt: 'data' } });
      peers.fast = await startPeer({ host: '127.0.0.23', port, tls: await ca.issue(['mx.fast.test']) });
      peers.small = await startPeer({ host: '127.0.0.24', port, tls: await ca.issue(['mx.small.test']), size: 3_000 });
      peers.paced = await startPeer({ host: '127.0.0.26', port, tls: await ca.issue(['mta5.am0.yahoodns.net']) });
      peers.drop = await startPeer({ host: '127.0.0.25', port, tls: await ca.issue(['mx.drop.test']), script: { dropDuringData: (n) => n === 2 } });
      dns = await startDnsServer({
        'reuse.test': { MX: [{ exchange: 'mx.reuse.test', priority: 10 }] }, 'mx.reuse.test': { A: ['127.0.0.21'] },
        'slow.test': { MX: [{ exchange: 'alt1.gmail-smtp-in.l.google.com', priority: 5 }] }, 'alt1.gmail-smtp-in.l.google.com': { A: ['127.0.0.22'] },
        'fast.test': { MX: [{ exchange: 'mx.fast.test', priority: 10 }] }, 'mx.fast.test': { A: ['127.0.0.23'] },
        'small.test': { MX: [{ exchange: 'mx.small.test', priority: 10 }] }, 'mx.small.test': { A: ['127.0.0.24'] },
        'paced.test': { MX: [{ exchange: 'mta5.am0.yahoodns.net', priority: 1 }] }, 'mta5.am0.yahoodns.net': { A: ['127.0.0.26'] },
        'drop.test': { MX: [{ exchange: 'mx.drop.test', priority: 10 }] }, 'mx.drop.test': { A: ['127.0.0.25'] },
      });
      t = await startTestApp(dialect, {
        hostname: 'mta.envoi.test', dns: { servers: [dns.address] },
        delivery: {
          mode: 'smtp', port, caFile, pollMs: 50, concurrency: 6, connectionIdleMs: 1_000,
          // small caps, so that holding them is visible; TLS stays required; rates out of the way except Yahoo's (its own test)
          providers: { default: { maxConnections: 2, messagesPerConnection: 4, ratePerMinute: 60_000 }, google: { maxConnections: 3, ratePerMinute: 60_000 }, yahoo: { ratePerMinute: 60 } },
        },
      });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
    });
    after(async () => {
      await t.close();
      await dns.close();
      for (const p of Object.values(peers)) await p.close();
    });

    const send = async (to: string[], text = 'hello') => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to, subject: `to ${to.length}`, text } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const settled = async (id: string, n: number, timeoutMs = 20_000) => eventually(async () => {
      const s = (await t.api('GET', `/v1/messages/${id}`, { token: acme.token })).body;
      const done = s.events.filter((e: Ev) => ['delivered', 'bounced', 'deferred', 'blocked'].includes(e.type));
      return done.length >= n ? (s.events as Ev[]) : undefined;
    }, timeoutMs);
    const addresses = (domain: string, n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}@${domain}`);

    test("a provider's rate is held across its lanes: 60 a minute is one a second, however many connections it allows", async () => {
      const started = Date.now();
      const id = await send(addresses('paced.test', 5, 'p'));
      const events = await settled(id, 5);
      const elapsed = Date.now() - started;
      assert.equal(events.filter((e) => e.type === 'delivered').length, 5);
      assert.equal(peers.paced.received.length, 5);
      // one token at once (a second's worth), then one a second: the fifth starts 4 s after the first
      assert.ok(elapsed >= 3_800, `5 messages at 60 a minute took ${elapsed} ms`);
      assert.ok(new Set(peers.paced.received.map((r) => r.session)).size <= 5);
    });

    test('ten messages to one MX: a few sessions, none carrying more than messagesPerConnection, never more than the cap at once', async () => {
      const to = addresses('reuse.test', 10, 'r');
      const events = await settled(await send(to), 10);
      assert.equal(events.filter((e) => e.type === 'delivered').length, 10);
      const per = [...peers.reuse.messagesPerSession().values()];
      assert.equal(per.reduce((a, b) => a + b, 0), 10);
      assert.ok(per.every((n) => n <= 4), `messages per session: ${per}`);
      assert.ok(per.some((n) => n > 1), `sessions were reused: ${per}`);
      assert.ok(peers.reuse.sessions.total < 10 && peers.reuse.sessions.total >= 3, `sessions: ${peers.reuse.sessions.total}`);
      assert.ok(peers.reuse.sessions.max <= 2, `at most 2 at once, saw ${peers.reuse.sessions.max}`);
      assert.ok(peers.reuse.received.every((m) => m.tls), 'never in clear');
    });

    test('a slow provider holds its own cap and does not hold up another destination', async () => {
      const slowId = await send(addresses('slow.test', 24, 's'));
      const fastId = await send(addresses('fast.test', 12, 'f'));
      await settled(fastId, 12);
      assert.ok(peers.slow.received.length < 24, `the fast peer finished first (slow had ${peers.slow.received.length})`);
      const events = await settled(slowId, 24, 30_000);
      assert.equal(events.filter((e) => e.type === 'delivered').length, 24);
      assert.ok(peers.slow.sessions.max <= 3, `google cap 3, saw ${peers.slow.sessions.max}`);
      assert.ok(peers.slow.sessions.max >= 2, `the slow provider got parallel sessions (${peers.slow.sessions.max})`);
      assert.ok(peers.fast.sessions.max <= 2, `default cap 2, saw ${peers.fast.sessions.max}`);
      assert.equal(new Set(peers.slow.received.map((m) => m.to[0])).size, 24, 'each once');
    });

    test("a message over the peer's SIZE is refused before MAIL: bounced as too large, nothing sent, the address not suppressed", async () => {
      const events = await settled(await send(['big@small.test'], 'x'.repeat(6_000)), 1);
      const ev = events.find((e) => e.type === 'bounced')!;
      assert.ok(ev, JSON.stringify(events.map((e) => e.type)));
      assert.equal(ev.data.reason, 'message-too-large');
      assert.match(ev.data.text, /at most 3000 \(SIZE\)/);
      assert.ok(!ev.data.transcript.some((l: string) => /^C: (MAIL|DATA)/.test(l)), 'no MAIL, no DATA');
      assert.equal(peers.small.received.length, 0);
      const sup = await t.api('GET', '/v1/suppressions?q=big', { token: acme.token });
      assert.equal(sup.body.data.length, 0);
    });

    test('a session cut in the middle of DATA: the message goes again on a new session and arrives once', async () => {
      const to = addresses('drop.test', 3, 'd');
      const events = await settled(await send(to), 3);
      assert.equal(events.filter((e) => e.type === 'delivered').length, 3, JSON.stringify(events.map((e) => [e.type, e.data.text])));
      assert.deepEqual(peers.drop.received.map((m) => m.to[0]).sort(), [...to].sort(), 'each address exactly once');
      const retried = events.filter((e) => e.type === 'delivered' && e.data.retriedAfter);
      assert.equal(retried.length, 1);
      assert.equal(retried[0].data.retriedAfter.stage, 'data');
      assert.ok(peers.drop.sessions.total >= 2);
    });
  });
}

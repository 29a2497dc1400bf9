// Direct delivery (issue 5) to loopback "providers": scripted SMTP peers on
// 127.0.0.x behind MX records of a loopback DNS server, with STARTTLS from a
// test CA. Delivered, TLS refused (never in clear), hard bounce → suppressed,
// Gmail's 4.7.27 → deferred with the domain fault, which then holds the
// domain's marketing to Google while its transactional mail goes on; a
// warm-up ramp (2 a day here) holds the marketing beyond its day's budget
// until the next UTC day; null MX → bounced.
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
  describe(`direct delivery to loopback providers (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    const peers: Record<string, Peer> = {};
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      peers.google = await startPeer({ host: '127.0.0.2', tls: await ca.issue(['alt1.gmail-smtp-in.l.google.com']) });
      const port = peers.google.port;
      peers.plain = await startPeer({ host: '127.0.0.3', port, tls: false });
      peers.bouncer = await startPeer({ host: '127.0.0.4', port, tls: await ca.issue(['mx.bounce.test']),
        script: { onRcptTo: (a) => (a.startsWith('nobody@') ? { code: 550, text: '5.1.1 The email account that you tried to reach does not exist.' } : undefined) } });
      peers.strict = await startPeer({ host: '127.0.0.5', port, tls: await ca.issue(['aspmx.l.google.com']),
        script: { onData: () => ({ code: 451, text: '4.7.27 This mail has been rate limited because SPF of the sending domain does not pass.' }) } });
      dns = await startDnsServer({
        'gm.test': { MX: [{ exchange: 'alt1.gmail-smtp-in.l.google.com', priority: 5 }] },
        'alt1.gmail-smtp-in.l.google.com': { A: ['127.0.0.2'] },
        'plain.test': { MX: [{ exchange: 'mx.plain.test', priority: 10 }] },
        'mx.plain.test': { A: ['127.0.0.3'] },
        'bounce.test': { MX: [{ exchange: 'mx.bounce.test', priority: 10 }] },
        'mx.bounce.test': { A: ['127.0.0.4'] },
        'strict.test': { MX: [{ exchange: 'aspmx.l.google.com', priority: 1 }] },
        'aspmx.l.google.com': { A: ['127.0.0.5'] },
        'nomail.test': { MX: [{ exchange: '.', priority: 0 }] },
      });
      t = await startTestApp(dialect, {
        hostname: 'mta.envoi.test', dns: { servers: [dns.address] },
        delivery: { mode: 'smtp', port, caFile, pollMs: 50, warmup: { start: 2 } },
      });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      // outside the sandbox a domain sends once its DKIM keys are published
      const before = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: ['x@gm.test'], subject: 's', text: 't' } });
      assert.equal(before.body.code, 'message.from_not_verified');
      assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).status, 409);
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      const v = await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token });
      assert.equal(v.body.verified, true, v.text);
    });
    after(async () => {
      await t.close();
      await dns.close();
      for (const p of Object.values(peers)) await p.close();
    });

    const send = async (to: string, stream?: string) => {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: [to], subject: `to ${to}`, text: 'hello', stream } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const story = async (id: string, until: (types: string[]) => boolean) => eventually(async () => {
      const s = (await t.api('GET', `/v1/messages/${id}`, { token: acme.token })).body;
      return until(s.events.map((e: { type: string }) => e.type)) ? s : undefined;
    }, 20_000);

    test('delivered over STARTTLS to the MX, byte for byte, from the VERP envelope', async () => {
      const id = await send('alice@gm.test');
      const s = await story(id, (ty) => ty.includes('delivered'));
      const got = peers.google.received.find((x) => x.to.includes('alice@gm.test'))!;
      assert.ok(got.tls, 'TLS was used');
      assert.match(got.from, /^b-[0-9a-z]+-[0-9a-f]{14}@bounce-tx\.shop\.example$/);
      assert.match(got.raw.toString(), /^DKIM-Signature:/m);
      const ev = s.events.find((e: { type: string }) => e.type === 'delivered');
      assert.equal(ev.data.remoteHost, 'alt1.gmail-smtp-in.l.google.com');
      assert.equal(ev.data.provider, 'google');
      assert.match(ev.data.tls.version, /^TLSv1\.[23]$/);
      assert.equal(s.recipients[0].status, 'delivered');
    });

    test('warm-up: marketing to a provider beyond the ramp\'s day budget waits for the next UTC day; transactional never waits', async () => {
      const ids: string[] = [];
      for (const n of [1, 2, 3]) ids.push(await send(`promo${n}@gm.test`, 'marketing'));
      await eventually(async () => peers.google.received.filter((x) => x.to.some((a) => a.startsWith('promo'))).length === 2, 20_000);
      const held = await eventually(async () => {
        const rows = await t.app.store.db.selectFrom('recipients').select(['address', 'status', 'next_attempt_at', 'attempts'])
          .where('message_id', 'in', ids).where('status', '=', 'queued').where('locked_by', 'is', null).execute();
        return rows.length === 1 ? rows[0] : undefined;
      }, 20_000);
      const tomorrow = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);
      assert.equal(held.next_attempt_at, tomorrow, 'the third waits for the next day\'s budget');
      assert.equal(held.attempts, 0, 'no attempt counted');
      const ramp = (await t.api('GET', '/v1/warmup', { token: acme.token })).body.data.find((r: { provider: string }) => r.provider === 'google');
      assert.equal(ramp.budget, 2);
      assert.equal(ramp.domain, 'shop.example');
      // transactional mail to the same provider is not held by the ramp
      const tx = await send('receipt@gm.test');
      await story(tx, (ty) => ty.includes('delivered'));
    });

    test('a receiver without STARTTLS never gets the message in clear: deferred, with the reason', async () => {
      const id = await send('bob@plain.test');
      const s = await story(id, (ty) => ty.includes('deferred'));
      assert.equal(peers.plain.received.length, 0);
      const ev = s.events.find((e: { type: string }) => e.type === 'deferred');
      assert.equal(ev.data.tlsRefused, true);
      assert.ok(ev.data.transcript.length > 0, 'the transcript is kept (AF-20)');
      assert.equal(s.recipients[0].status, 'queued', 'retried later');
    });

    test('550 5.1.1 at RCPT: bounced, and the address suppressed at once', async () => {
      const id = await send('nobody@bounce.test');
      const s = await story(id, (ty) => ty.includes('bounced'));
      const ev = s.events.find((e: { type: string }) => e.type === 'bounced');
      assert.equal(ev.data.classification.category, 'unknown-user');
      assert.match(ev.data.headers, /^Subject: to nobody@bounce\.test/m, 'headers kept (AF-20)');
      const sup = await t.api('GET', '/v1/suppressions?q=nobody', { token: acme.token });
      assert.equal(sup.body.data[0].reason, 'hard_bounce');
    });

    test("Gmail's 451 4.7.27: deferred, with the SPF fault and its remedy attached", async () => {
      const id = await send('carol@strict.test');
      const s = await story(id, (ty) => ty.includes('deferred'));
      const ev = s.events.find((e: { type: string }) => e.type === 'deferred');
      assert.equal(ev.data.enhanced ?? ev.data.classification.enhanced, '4.7.27');
      assert.equal(ev.data.fault?.cause, 'spf');
      assert.ok(ev.data.fault.remedy.length > 10);

      // the fault is open on the domain, for Google
      const faults = await eventually(async () => {
        const f = (await t.api('GET', `/v1/domains/shop.example/faults`, { token: acme.token })).body.data;
        return f?.length ? f : undefined;
      }, 10_000);
      assert.deepEqual(faults.map((f: { provider: string; cause: string; active: boolean }) => [f.provider, f.cause, f.active]), [['google', 'spf', true]]);
      // while it is open, the domain's marketing to Google waits (no attempt), and its transactional mail still goes
      const before = peers.google.received.length;
      const promo = await send('later@gm.test', 'marketing');
      const row = await eventually(async () => {
        const r = await t.app.store.db.selectFrom('recipients').select(['status', 'next_attempt_at', 'attempts', 'locked_by']).where('message_id', '=', promo).executeTakeFirstOrThrow();
        return r.locked_by === null && r.next_attempt_at > Date.now() + 5 * 60_000 ? r : undefined;
      }, 20_000);
      assert.equal(row.status, 'queued');
      assert.equal(row.attempts, 0);
      const tx = await send('order@gm.test');
      await story(tx, (ty) => ty.includes('delivered'));
      assert.equal(peers.google.received.length, before + 1, 'only the transactional message went to Google');
      // the tenant fixes SPF and clears the fault
      const cleared = await t.api('POST', `/v1/domains/shop.example/faults/${faults[0].id}/clear`, { token: acme.token });
      assert.equal(cleared.status, 200, cleared.text);
      assert.equal(cleared.body.active, false);
    });

    test('a null MX domain bounces without a connection', async () => {
      const id = await send('dan@nomail.test');
      const s = await story(id, (ty) => ty.includes('bounced'));
      assert.equal(s.events.find((e: { type: string }) => e.type === 'bounced').data.reason, 'null-mx');
    });
  });
}

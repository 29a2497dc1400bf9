// Preflight judges a message as Gmail would, from the IP it would leave from:
// one message that passes everything, and messages that each break one of
// Gmail's rules exactly once — each expected code appears, and only it.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { openTestCore } from '../helpers/app.ts';
import { createDoctor } from '../../src/doctor/index.ts';
import { DkimSigner } from '../../src/compose/dkim.ts';
import type { Domain } from '../../src/store/schema.ts';
import type { PreflightReport } from '../../src/doctor/preflight/index.ts';
import { ENVOI_HOST, doctorConfig, goodZone, publish, startWorld, type World } from './world.ts';

type Core = Awaited<ReturnType<typeof openTestCore>>;

function message(o: { from?: string; extra?: string[]; unsubscribe?: boolean; body?: string } = {}): Buffer {
  return Buffer.from([
    `From: Shop <${o.from ?? 'news@shop.example'}>`,
    'To: alex@gmail.test',
    'Subject: Our autumn collection',
    'Date: Wed, 25 Nov 2026 09:00:00 +0000',
    `Message-ID: <m${Math.random().toString(36).slice(2)}@shop.example>`,
    'MIME-Version: 1.0',
    ...(o.unsubscribe === false ? [] : ['List-Unsubscribe: <https://mta.envoi.test/u/tok>, <mailto:u-tok@bounce-mk.shop.example>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click']),
    ...(o.extra ?? []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    o.body ?? 'Hello Alex, the autumn collection is here. Shop SARL, 1 rue X, 75001 Paris.',
    '',
  ].join('\r\n'));
}

const codes = (r: PreflightReport) => r.gmail.map((g) => g.code);
const status = (r: PreflightReport, id: string) => r.checks.find((c) => c.id === id)?.status;

for (const dialect of DIALECTS) {
  describe(`preflight (${dialect})`, () => {
    let w: World;
    let core: Core;
    let shop: Domain;
    let touched: string[] = [];
    const set = (name: string, rr: Parameters<World['dns']['set']>[1]) => {
      touched.push(name);
      w.dns.set(name, rr);
    };
    const run = async (raw: Buffer, opts: { ip?: string } = {}, doctor = core.services.doctor) => {
      const r = await doctor.preflight(null, { raw }, opts);
      assert.ok(r.ok, JSON.stringify(r));
      return r.value;
    };

    before(async () => {
      w = await startWorld();
      core = await openTestCore(dialect, doctorConfig(w) as never);
      const t = await core.services.tenants.create('acme');
      assert.ok(t.ok);
      const d = await core.services.domains.add(t.value.tenant.id, 'shop.example');
      assert.ok(d.ok);
      shop = d.value;
    });
    after(async () => {
      await core.dispose();
      await w.close();
    });
    beforeEach(async () => {
      for (const n of touched) w.dns.remove(n);
      touched = [];
      publish(w.dns, goodZone('shop.example', await core.services.domains.records(shop)));
    });

    test('a compliant marketing message would be accepted: every check passes', async () => {
      const r = await run(message());
      assert.deepEqual(codes(r), []);
      assert.equal(r.verdict, 'accepted');
      assert.deepEqual(r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.found}`), []);
      assert.equal(r.context.ip, '127.0.0.3', 'from the EHLO name\'s address');
      assert.match(r.context.envelopeFrom, /^b-preflight@bounce-mk\.shop\.example$/);
      assert.equal(r.context.signedByPreflight, true, 'signed with the domain\'s keys, as envoi does at acceptance');
      assert.ok(Array.isArray(r.lint));
    });

    test('4.7.23: an IP without PTR (SPF still authorises it)', async () => {
      set('bounce-mk.shop.example', { TXT: [`v=spf1 a:${ENVOI_HOST} ip4:127.0.0.5 -all`], MX: [{ priority: 10, exchange: ENVOI_HOST }] });
      const r = await run(message(), { ip: '127.0.0.5' });
      assert.deepEqual(codes(r), ['4.7.23']);
      assert.equal(r.verdict, 'deferred');
      assert.match(r.gmail[0].reply, /^421 4\.7\.23 /);
      assert.match(r.gmail[0].remedy, /PTR/);
      assert.equal(status(r, 'preflight.ptr'), 'fail');
    });

    test('4.7.27: an IP the envelope domain\'s SPF does not authorise', async () => {
      set('6.0.0.127.in-addr.arpa', { PTR: ['mail6.shop.example'] });
      set('mail6.shop.example', { A: ['127.0.0.6'] });
      const r = await run(message(), { ip: '127.0.0.6' });
      assert.deepEqual(codes(r), ['4.7.27']);
      assert.equal(status(r, 'preflight.spf'), 'fail');
      assert.equal(status(r, 'preflight.dmarc'), 'pass', 'DMARC still passes on the aligned DKIM signature');
    });

    test('4.7.29: a route to Gmail that does not require TLS', async () => {
      const loose = createDoctor({
        db: core.store.db, clock: core.clock, resolver: core.services.resolver, domains: core.services.domains, streams: core.services.streams,
        config: { ...core.config, delivery: { ...core.config.delivery, providers: { google: { tls: 'opportunistic' } } } },
      });
      const r = await run(message(), {}, loose);
      assert.deepEqual(codes(r), ['4.7.29']);
      assert.equal(status(r, 'preflight.tls'), 'fail');
    });

    test('4.7.30: a DKIM signature that no longer verifies (body changed after signing)', async () => {
      const signed = new DkimSigner(await core.services.domains.signingKeys(shop)).sign(message()).toString('latin1');
      const tampered = Buffer.from(signed.replace('autumn collection is here', 'autumn collection is HERE'), 'latin1');
      const r = await run(tampered);
      assert.deepEqual(codes(r), ['4.7.30']);
      assert.equal(r.context.signedByPreflight, false, 'a signed message is judged as it is');
      assert.equal(status(r, 'preflight.dkim'), 'fail');
    });

    test('4.7.31: a From domain without DMARC', async () => {
      w.dns.remove('_dmarc.shop.example');
      const r = await run(message());
      assert.deepEqual(codes(r), ['4.7.31']);
      assert.equal(status(r, 'preflight.dmarc'), 'fail');
    });

    test('4.7.32: SPF and DKIM pass, but for another domain than the From', async () => {
      set('_dmarc.brand.test', { TXT: ['v=DMARC1; p=none; rua=mailto:d@brand.test'] });
      const raw = new DkimSigner(await core.services.domains.signingKeys(shop)).sign(message({ from: 'news@brand.test', extra: ['Return-Path: <b-1@bounce-mk.shop.example>'] }));
      const r = await run(raw);
      assert.deepEqual(codes(r), ['4.7.32']);
      assert.equal(status(r, 'preflight.spf'), 'pass');
      assert.equal(status(r, 'preflight.dkim'), 'pass');
      assert.equal(status(r, 'preflight.dmarc'), 'fail');
    });

    test('marketing without one-click unsubscribe, or with it unsigned, fails preflight.unsubscribe', async () => {
      let r = await run(message({ unsubscribe: false }));
      assert.equal(status(r, 'preflight.unsubscribe'), 'fail');
      const keys = await core.services.domains.signingKeys(shop);
      const signer = new DkimSigner(keys, { headers: ['from', 'to', 'subject', 'date', 'message-id'], oversign: [] });
      r = await run(signer.sign(message()));
      assert.equal(status(r, 'preflight.unsubscribe'), 'fail');
      assert.match(r.checks.find((c) => c.id === 'preflight.unsubscribe')!.found, /list-unsubscribe and list-unsubscribe-post are not covered by a DKIM signature/);
      const tx = await core.services.doctor.preflight(null, { raw: message({ unsubscribe: false }) }, { kind: 'transactional' });
      assert.ok(tx.ok);
      r = tx.value;
      assert.equal(status(r, 'preflight.unsubscribe'), undefined, 'not asked of transactional mail');
    });

    test('RFC 5322 faults and a freemail From are findings; a file that is no message is refused', async () => {
      const r = await run(message({ extra: ['From: other@shop.example'] }));
      assert.equal(status(r, 'preflight.rfc5322'), 'fail');
      assert.match(r.checks.find((c) => c.id === 'preflight.rfc5322')!.found, /2 from fields/);
      const g = await run(message({ from: 'shop.news@gmail.com' }));
      assert.equal(status(g, 'preflight.freemail'), 'fail');
      for (const junk of ['', 'just some text\nwith lines', '%PDF-1.7\n\x00\x01binary']) {
        const n = await core.services.doctor.preflight(null, { raw: Buffer.from(junk, 'latin1') });
        assert.ok(!n.ok && n.error.code === 'message.invalid', JSON.stringify(n));
      }
    });
  });
}

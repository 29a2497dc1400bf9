// GM-2, GM-4: what envoi sends passes DKIM (both signatures) and DMARC at a
// receiver that looks up exactly the records `envoi domain records` told the
// sender to publish, served by a real DNS server on a loopback port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate } from 'mailauth';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { zoneFromRecords } from '../helpers/zone.ts';
import { createResolver, mailauthResolver } from '../../src/net/resolver.ts';

for (const dialect of DIALECTS.slice(0, 1)) {
  describe(`DKIM and DMARC of sent mail (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let token: string;
    before(async () => {
      // a real host name: SPF's a: mechanism and the MX records name it
      t = await startTestApp(dialect, { hostname: 'mta.envoi.test' });
      ({ token } = await tenantWithDomain(t, 'acme', 'shop.example'));
      dns = await startDnsServer(await zoneFromRecords(t, token, 'shop.example'));
    });
    after(async () => {
      await dns.close();
      await t.close();
    });

    async function sentAndVerified(body: Record<string, unknown>) {
      const sent = await t.api('POST', '/v1/messages', { token, body });
      assert.equal(sent.status, 202, sent.text);
      const entry = await eventually(async () => (await t.api('GET', '/v1/sandbox/messages', { token })).body.data.find((e: { message_id: string }) => e.message_id === sent.body.id));
      const raw = Buffer.from((await t.api('GET', `/v1/sandbox/messages/${entry.id}/raw`, { token })).text, 'utf8');
      const res = await authenticate(raw, {
        resolver: mailauthResolver(createResolver({ servers: [dns.address], timeoutMs: 1000 })),
        ip: '127.0.0.1', helo: 'localhost', sender: entry.mail_from, mta: 'mx.receiver.test', trustReceived: false,
      });
      return { res, raw, entry };
    }

    test('both signatures pass, d= is the From domain, and DMARC passes aligned', async () => {
      const { res } = await sentAndVerified({
        from: { email: 'orders@shop.example', name: 'Shop' }, to: ['alice@customer.example'],
        subject: 'Votre commande n°1234 — merci !', html: '<p>Merci <b>Alice</b> 🎉</p>',
        attachments: [{ filename: 'facture.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 test').toString('base64') }],
      });
      const results = (res.dkim.results as any[]).map((r) => ({ algo: r.algo, domain: r.signingDomain, result: r.status.result }));
      assert.deepEqual(results.map((r) => r.result), ['pass', 'pass'], JSON.stringify(results));
      assert.deepEqual(results.map((r) => r.algo).sort(), ['ed25519-sha256', 'rsa-sha256']);
      assert.ok(results.every((r) => r.domain === 'shop.example'));
      assert.equal((res.dmarc as any).status.result, 'pass');
      assert.equal((res.spf as any).status.result, 'pass', 'the VERP envelope on the bounce subdomain passes SPF');
    });

    test('a changed byte after signing makes verification fail (the check can fail)', async () => {
      const { raw, entry } = await sentAndVerified({ from: 'orders@shop.example', to: ['bob@customer.example'], subject: 'Reset your password', text: 'Your code is 123456' });
      const tampered = Buffer.from(raw.toString('utf8').replace('123456', '654321'));
      const res = await authenticate(tampered, {
        resolver: mailauthResolver(createResolver({ servers: [dns.address], timeoutMs: 1000 })),
        ip: '127.0.0.1', helo: 'localhost', sender: entry.mail_from, mta: 'mx.receiver.test', trustReceived: false,
      });
      assert.ok((res.dkim.results as any[]).every((r) => r.status.result !== 'pass'));
      // DMARC still passes through the aligned SPF of the bounce subdomain: that is the point of aligning both
      assert.equal((res.dmarc as any).status.result, 'pass');
    });
  });
}

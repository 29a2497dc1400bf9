// AF-9 in delivery: marketing to the French ISPs is not started between
// 15:00 and 22:00 Europe/Paris; transactional mail to the same provider goes
// at once. A campaign in smtp mode with an injected clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startPeer, type Peer } from '../peers/smtp-peer.ts';
import { zoneFromRecords } from '../helpers/zone.ts';

for (const dialect of DIALECTS.slice(0, 1)) {
  describe(`quiet hours of the French ISPs (${dialect})`, () => {
    // 16:30 in Paris (UTC+1 in November)
    const clock = manualClock(Date.parse('2026-11-25T15:30:00Z'));
    let t: TestApp;
    let dns: DnsServer;
    let orange: Peer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });

    before(async () => {
      const ca = await createTestCa();
      const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
      fs.writeFileSync(caFile, ca.caPem);
      orange = await startPeer({ host: '127.0.0.6', tls: await ca.issue(['smtp-in.orange.fr']) });
      dns = await startDnsServer({ 'orange.fr': { MX: [{ exchange: 'smtp-in.orange.fr', priority: 10 }] }, 'smtp-in.orange.fr': { A: ['127.0.0.6'] } });
      t = await startTestApp(dialect, { hostname: 'mta.envoi.test', dns: { servers: [dns.address] }, delivery: { mode: 'smtp', port: orange.port, caFile, pollMs: 50 } }, { clock });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
      assert.equal((await api('POST', '/v1/domains/shop.example/verify')).status, 200);
      await api('PUT', '/v1/profile', { organisation: 'Shop SARL', postalAddress: '1 rue X, 75001 Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example', timezone: 'Europe/Paris' });
      await api('POST', '/v1/lists', { name: 'fr', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'oui', optIn: 'single' });
      await api('POST', '/v1/lists/fr/subscriptions', { email: 'jean@orange.fr', consent: { source: 'form', optIn: 'single' } });
      await api('POST', '/v1/templates', { name: 'promo', format: 'html', subject: 'Nouveautés', body: '<p>Bonjour, voici nos nouveautés. Shop SARL</p>' });
    });
    after(async () => {
      await t.close();
      await dns.close();
      await orange.close();
    });

    test('marketing waits until 22:00 Paris; transactional does not', async () => {
      const c = await api('POST', '/v1/campaigns', { name: 'Promo', template: 'promo', lists: ['fr'] });
      await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {});
      const row = await eventually(async () => {
        const r = await t.app.store.db.selectFrom('recipients').selectAll().where('campaign_id', '=', c.body.id).executeTakeFirst();
        // put back by its worker (a claimed row's next attempt is its lease's end until then)
        return r && r.locked_by === null && r.next_attempt_at > clock.now() ? r : undefined;
      });
      assert.equal(new Date(row.next_attempt_at).toISOString(), '2026-11-25T21:00:00.000Z', '22:00 in Paris');
      assert.equal(row.attempts, 0, 'postponed, not a failed attempt');
      const tx = await api('POST', '/v1/messages', { from: 'orders@shop.example', to: ['jean@orange.fr'], subject: 'Votre commande', text: 'Merci' });
      await eventually(async () => orange.received.find((m) => m.raw.toString().includes('Votre commande')));
      assert.ok(!orange.received.some((m) => m.raw.toString().includes('Nouveaut')), 'no marketing during quiet hours');
      assert.ok(tx.body.id);
      clock.set(Date.parse('2026-11-25T21:00:01Z'));
      await eventually(async () => orange.received.find((m) => /^Subject: =\?UTF-8\?Q\?Nouveaut/im.test(m.raw.toString()) || m.raw.toString().includes('Nouveaut')));
    });
  });
}

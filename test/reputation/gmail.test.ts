// Gmail on each dialect, with an injected clock: the bulk-sender status
// (GM-1) appears at the 5,000th Gmail-bound message in 24 h counted across
// two subdomains of one organizational domain, and never goes away; a bulk
// domain missing a requirement has its marketing to Google paused with what
// is missing, until it meets them; the 7-day recovery window (GM-10) counts
// across a bad day and lifts the Gmail pause; Postmaster Tools figures are
// imported and shown beside envoi's own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { actionsOf, emit, gmail, openReputationCore, recipientTo, sender, type Core } from './fixture.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const google = { provider: 'google' };

for (const dialect of DIALECTS) {
  describe(`Gmail: bulk status, requirements, recovery (${dialect})`, () => {
    let core: Core;
    let clock: Awaited<ReturnType<typeof openReputationCore>>['clock'];
    before(async () => {
      ({ core, clock } = await openReputationCore(dialect, Date.parse('2026-11-25T09:00:00Z')));
    });
    after(() => core.dispose());
    const catchUp = () => core.services.reputation.catchUp();
    const bulkOf = async (tenantId: string, org: string) => (await core.services.reputation.report(tenantId))!.bulk.find((b) => b.orgDomain === org)!;

    test('GM-1: bulk at the 5,000th Gmail message in 24 h across two subdomains, for good', async () => {
      const t0 = clock.now();
      const s = await sender(core, 'promo', ['promo.example.co.uk', 'news.example.co.uk']);
      // 30 hours earlier: outside any 24 h that ends now
      await emit(core, s, 'delivered', 3000, { at: t0 - 30 * HOUR, to: gmail, data: google });
      await catchUp();
      await emit(core, s, 'delivered', 2500, { at: t0 - HOUR, to: gmail, data: google });
      await emit(core, s, 'delivered', 2499, { at: t0, to: gmail, data: google, domain: 1 });
      await emit(core, s, 'delivered', 800, { at: t0, to: (i) => `p${i}@yahoo.com`, data: { provider: 'yahoo' }, domain: 1 });
      await emit(core, s, 'bounced', 5, { at: t0, to: gmail, data: { provider: 'google', classification: { kind: 'bounced', category: 'unknown-user', hard: true } } });
      await catchUp();
      let b = await bulkOf(s.tenantId, 'example.co.uk');
      assert.deepEqual([b.bulk, b.gmailMessages24h], [false, 4999], 'counted per organizational domain (example.co.uk), Gmail deliveries only');
      clock.advance(60_000);
      await emit(core, s, 'delivered', 1, { to: () => 'last@googlemail.com', data: google, domain: 1 });
      await catchUp();
      b = await bulkOf(s.tenantId, 'example.co.uk');
      assert.deepEqual([b.bulk, b.gmailMessages24h], [true, 5000]);
      assert.deepEqual(b.requirements.map((r) => [r.domain, r.missing]), [['news.example.co.uk', []], ['promo.example.co.uk', []]], 'verified, DKIM-signed, one-click, TLS to Google: nothing missing');
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.bulk', 'bulk']]);
      const [a] = await core.services.reputation.actions(s.tenantId);
      assert.match(a.reason, /example\.co\.uk sent 5000 messages to personal Gmail accounts in 24 h/);

      clock.advance(3 * DAY);
      await emit(core, s, 'delivered', 10, { to: gmail, data: google });
      await catchUp();
      b = await bulkOf(s.tenantId, 'example.co.uk');
      assert.deepEqual([b.bulk, b.gmailMessages24h], [true, 10], 'bulk for good, whatever the volume now');
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.bulk', 'bulk']], 'marked once');
    });

    test('a bulk domain missing a requirement: marketing to Google paused with what is missing, until it is met', async () => {
      const s = await sender(core, 'unready', ['mail.unready.example']);
      await core.store.db.updateTable('domains').set({ verified: 0 }).where('id', '=', s.domains[0].id).execute();
      await emit(core, s, 'delivered', 5000, { to: gmail, data: google });
      await catchUp();
      const b = await bulkOf(s.tenantId, 'unready.example');
      assert.equal(b.bulk, true);
      assert.match(b.requirements[0].missing.join(), /SPF, DKIM and DMARC records: mail\.unready\.example is not verified/);
      const c = core.services.reputation.controls;
      const hold = await c.marketing(recipientTo(s.tenantId, 'x@gmail.com'), 'mail.unready.example');
      assert.match(hold!.reason, /marketing of mail\.unready\.example to Google paused: bulk sender \(GM-1\) missing: SPF, DKIM and DMARC records/);
      assert.equal(await c.marketing(recipientTo(s.tenantId, 'x@orange.fr'), 'mail.unready.example'), null);

      await core.store.db.updateTable('domains').set({ verified: 1 }).where('id', '=', s.domains[0].id).execute();
      await core.services.reputation.sweep();
      assert.equal(await c.marketing(recipientTo(s.tenantId, 'x@gmail.com'), 'mail.unready.example'), null, 'requirements met: lifted');
      assert.deepEqual((await actionsOf(core, s.tenantId)).sort(), [['gm.bulk', 'bulk'], ['gm.bulk-requirements', 'lift'], ['gm.bulk-requirements', 'pause']], 'recorded at the same instant of the injected clock');
    });

    test('GM-10: the 7-day recovery window counts across a bad day, then the Gmail pause lifts', async () => {
      const s = await sender(core, 'recover');
      const start = Date.parse('2026-12-01T10:00:00Z');
      const day = async (d: number, complaints: number) => {
        clock.set(start + (d - 1) * DAY);
        await emit(core, s, 'delivered', complaints > 2 ? 1000 : 2000, { to: gmail, data: google });
        await emit(core, s, 'complained', complaints, { to: gmail, data: { feedbackType: 'abuse', source: 'bounce' } });
        await catchUp();
      };
      const recovery = async () => (await core.services.reputation.report(s.tenantId))!.recovery[0];
      for (const d of [1, 2, 3]) await day(d, 1); // 0.05 %
      await day(4, 3); // 0.3 %: paused
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.spam-critical', 'pause']]);
      for (const d of [5, 6, 7, 8]) await day(d, 1);
      // on the 8th: the 5th, 6th and 7th are complete days under the line
      let r = await recovery();
      assert.deepEqual([r.window.streak, r.window.lastBadDay, r.window.eligible, r.window.eligibleOn], [3, '2026-12-04', false, '2026-12-12']);
      assert.ok(r.pausedSince);
      for (const d of [9, 10, 11]) await day(d, 1);
      await core.services.reputation.sweep();
      r = await recovery();
      assert.deepEqual([r.window.streak, r.window.eligible], [6, false], 'on the 11th: six days');
      assert.ok(r.pausedSince, 'still paused');
      clock.set(Date.parse('2026-12-12T00:30:00Z'));
      await core.services.reputation.sweep();
      r = await recovery();
      assert.deepEqual([r.window.streak, r.window.eligible, r.window.eligibleOn, r.pausedSince], [7, true, '2026-12-12', null]);
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.spam-critical', 'pause'], ['gm.spam-critical', 'lift']]);
      assert.equal(await core.services.reputation.controls.marketing(recipientTo(s.tenantId, 'x@gmail.com'), 'recover.example'), null);
    });

    test('GM-14: a Postmaster Tools export is imported per day and shown beside envoi\'s figures', async () => {
      const s = await sender(core, 'pmt');
      clock.set(Date.parse('2026-12-03T12:00:00Z'));
      await emit(core, s, 'delivered', 1000, { at: Date.parse('2026-12-02T10:00:00Z'), to: gmail, data: google });
      await emit(core, s, 'complained', 2, { at: Date.parse('2026-12-02T11:00:00Z'), to: gmail, data: { feedbackType: 'abuse' } });
      await catchUp();
      const csv = 'Date,User reported spam rate,Domain reputation,IP reputation\n2026-12-01,0.1%,HIGH,HIGH\n2026-12-02,0.2%,MEDIUM,HIGH\n';
      const r = await core.services.reputation.importPostmaster('pmt.example', csv);
      assert.ok(r.ok);
      assert.deepEqual([r.value.imported, r.value.from, r.value.to], [2, '2026-12-01', '2026-12-02']);
      assert.equal((await core.services.reputation.importPostmaster('nope.example', csv)).ok, false);
      const rep = (await core.services.reputation.report(s.tenantId))!;
      assert.deepEqual(rep.postmaster.map((p) => [p.day, p.spamRate, p.domainReputation]), [['2026-12-01', 0.001, 'HIGH'], ['2026-12-02', 0.002, 'MEDIUM']]);
      const ours = rep.scopes.find((x) => x.scope === 'gmail')!.series.find((d) => d.day === '2026-12-02')!;
      assert.equal(ours.indicators.complaintRate, 0.002, 'envoi\'s own Gmail complaint rate of that day');
    });
  });
}

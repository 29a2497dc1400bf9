// Tenant review (MJ-10) and suspension end to end, in the sandbox on each
// dialect, with an injected clock: a new tenant starts in review with a daily
// cap, the operator changes the cap and approves it (audited); a suspension
// pauses the tenant's campaigns and the dispatch checklist holds every
// marketing recipient at once, while transactional mail keeps flowing;
// resuming lets it all go.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { runEnvoi } from '../helpers/cli.ts';

const profile = { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' };

for (const dialect of DIALECTS) {
  describe(`tenant review and suspension end to end (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const clock = manualClock(Date.parse('2026-11-25T09:00:00Z'));
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
    const op = (m: string, p: string, body?: unknown) => t.api(m, p, { token: t.operatorToken, body });
    const send = (to: string[], stream?: string) => api('POST', '/v1/messages', { from: { email: 'hello@shop.example' }, to: to.map((email) => ({ email })), subject: 'Your order', text: 'Shipped.', ...(stream ? { stream } : {}) });

    before(async () => {
      t = await startTestApp(dialect, { reputation: { pollMs: 100 } }, { clock });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('a new tenant starts in review with a daily cap; the operator changes it and approves the tenant, audited', async () => {
      let r = await op('GET', `/v1/tenants/${acme.tenantId}/reputation`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.body.tenant.status, r.body.tenant.dailyCap, r.body.tenant.usedToday], ['review', 5000, 0]);
      assert.equal((await api('GET', '/v1/reputation')).body.tenant.id, acme.tenantId, 'the tenant reads its own');
      assert.equal((await api('GET', `/v1/tenants/${acme.tenantId}/reputation`)).status, 403, 'not another\'s, not through the operator route');
      assert.equal((await api('POST', `/v1/tenants/${acme.tenantId}/review`, { approve: true })).status, 403);

      r = await op('POST', `/v1/tenants/${acme.tenantId}/review`, { dailyCap: 2, note: 'new account, waiting for KYC' });
      assert.deepEqual([r.status, r.body.status, r.body.dailyCap], [200, 'review', 2]);
      r = await send(['a@customer.example', 'b@customer.example', 'c@customer.example']);
      assert.deepEqual([r.status, r.body.code], [429, 'tenant.daily_cap']);
      assert.equal((await send(['a@customer.example', 'b@customer.example'])).status, 202);
      assert.equal((await send(['c@customer.example'])).status, 429, 'two of two used');
      clock.advance(1000); // actions are listed newest first, by the injected clock

      r = await op('POST', `/v1/tenants/${acme.tenantId}/review`, { approve: true, dailyCap: null, note: 'KYC done' });
      assert.deepEqual([r.body.status, r.body.dailyCap], ['active', null]);
      assert.equal((await send(['c@customer.example', 'd@customer.example', 'e@customer.example'])).status, 202);
      assert.equal((await op('POST', `/v1/tenants/${acme.tenantId}/review`, { approve: true })).body.code, 'conflict', 'approved once');
      assert.equal((await op('POST', `/v1/tenants/${acme.tenantId}/review`, { profiles: ['nope'] })).status, 400);

      const actions = (await op('GET', `/v1/tenants/${acme.tenantId}/reputation`)).body.actions;
      const operator = `operator:${t.operatorToken.split('.')[0]}`;
      const reviews = actions.filter((a: { step: string }) => a.step === 'review').map((a: { reason: string; actor: string }) => [a.actor, a.reason]).reverse();
      assert.deepEqual(reviews, [
        [operator, 'daily cap default → 2 — new account, waiting for KYC'],
        [operator, 'approved (review → active); daily cap 2 → default — KYC done'],
      ]);
    });

    test('suspension: campaigns pause, the dispatch checklist holds marketing at once, transactional keeps flowing; resume', async () => {
      assert.equal((await api('PUT', '/v1/profile', profile)).status, 200);
      assert.equal((await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Shop news', optIn: 'single' })).status, 201);
      const list = (await t.app.services.audience.lists.find(acme.tenantId, 'news'))!;
      for (let i = 0; i < 5; i++) {
        const s = await t.app.services.audience.subscriptions.subscribe(acme.tenantId, list, `reader${i}@customer.example`, {}, { source: 'customer', optIn: 'single' });
        assert.ok(s.ok);
      }
      assert.equal((await api('POST', '/v1/templates', { name: 'news', format: 'html', subject: 'News from Shop', body: '<p>Hello, here is our news of the week.</p>' })).status, 201);
      const campaign = async (name: string, at?: string) => {
        const c = await api('POST', '/v1/campaigns', { name, template: 'news', lists: ['news'] });
        assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/submit`)).body.status, 'approved');
        assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/schedule`, at ? { at } : {})).body.status, 'scheduled');
        return c.body.id as string;
      };
      const later = await campaign('Later', '2027-01-04T09:00');

      const s = await op('POST', `/v1/tenants/${acme.tenantId}/suspend`, { reason: 'abuse investigation #42' });
      assert.equal(s.status, 200, s.text);
      assert.deepEqual(s.body.pausedCampaigns, [later]);
      const c1 = (await api('GET', `/v1/campaigns/${later}`)).body;
      assert.deepEqual([c1.status, c1.statusReason], ['paused', 'suspended: abuse investigation #42']);

      // a campaign started after the suspension: every recipient is held by the dispatch checklist, none sent
      const now = await campaign('Now');
      const held = await eventually(async () => {
        const rows = await t.app.store.db.selectFrom('recipients').selectAll().where('campaign_id', '=', now).execute();
        return rows.length === 5 && rows.every((r) => r.status === 'queued' && r.next_attempt_at >= clock.now() + 5 * 60_000 && r.attempts === 0) ? rows : undefined;
      });
      const decision = await t.app.services.campaigns.dispatch.decide(held[0]);
      assert.deepEqual(decision, { hold: clock.now() + 5 * 60_000, reason: 'tenant suspended: abuse investigation #42' });
      const captured = async () => (await api('GET', '/v1/sandbox/messages?limit=500')).body.data.filter((e: { from_address: string }) => e.from_address === 'news@shop.example').length;
      assert.equal(await captured(), 0);

      // transactional keeps flowing; the marketing stream does not
      const tx = await send(['order@customer.example']);
      assert.equal(tx.status, 202, tx.text);
      await eventually(async () => (await api('GET', `/v1/messages/${tx.body.id}`)).body.recipients?.[0]?.status === 'delivered');
      const mk = await send(['promo@customer.example'], 'marketing');
      assert.deepEqual([mk.status, mk.body.code], [403, 'tenant.suspended']);
      assert.deepEqual((await api('GET', '/v1/reputation')).body.tenant.suspended, { reason: 'abuse investigation #42', transactionalStopped: false });
      const cli = await runEnvoi(t.cliEnv, ['reputation', '--tenant', 'acme']);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /^acme \(ten_[0-9a-z]+\) · suspended/);
      assert.match(cli.stdout, /SUSPENDED: abuse investigation #42 — transactional continues/);
      assert.match(cli.stdout, /bounces +≤ 8 %/);

      // resumed: the paused campaign goes back to its schedule, the held recipients go out when their hold ends
      clock.advance(1000);
      const r = await op('POST', `/v1/tenants/${acme.tenantId}/resume`, { note: 'cleared' });
      assert.deepEqual(r.body.resumedCampaigns, [later]);
      assert.equal((await api('GET', `/v1/campaigns/${later}`)).body.status, 'scheduled');
      assert.equal((await send(['promo@customer.example'], 'marketing')).status, 202);
      clock.advance(6 * 60_000);
      await eventually(async () => (await api('GET', `/v1/campaigns/${now}`)).body.status === 'completed', 20_000);
      assert.equal(await captured(), 5);
      const steps = (await op('GET', `/v1/tenants/${acme.tenantId}/reputation`)).body.actions.map((a: { step: string }) => a.step);
      assert.deepEqual(steps.filter((x: string) => x === 'resume' || x === 'suspend'), ['resume', 'suspend'], 'both recorded, newest first');
    });

    test('an operator may stop transactional mail too', async () => {
      assert.equal((await op('POST', `/v1/tenants/${acme.tenantId}/suspend`, { reason: 'phishing', stopTransactional: true })).status, 200);
      const r = await send(['x@customer.example']);
      assert.deepEqual([r.status, r.body.code], [403, 'tenant.suspended']);
      assert.match(r.body.detail, /suspended: phishing/);
      assert.equal((await op('POST', `/v1/tenants/${acme.tenantId}/resume`, {})).status, 200);
      assert.equal((await send(['x@customer.example'])).status, 202);
    });
  });
}

// The in-campaign circuit breaker end to end, in the sandbox on each
// dialect: a campaign to mailbox-simulator addresses, one in five of which
// bounces as an unknown user (a bought list's symptom, MJ-4, MC-9), pauses
// itself once 500 attempts show more than 8 %, and says why; the tenant's
// day crosses Mailjet's bounce line too. The tenant is in review with a cap
// of 600 messages a day, which holds the rest of the campaign: the breaker's
// decision is seen on a campaign that could not have finished meanwhile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const profile = { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' };
const CONTACTS = 1000;

for (const dialect of DIALECTS) {
  describe(`campaign circuit breaker, mailbox simulator (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });

    before(async () => {
      t = await startTestApp(dialect, { reputation: { pollMs: 100, review: { dailyCap: 600 } } });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      assert.equal((await api('PUT', '/v1/profile', profile)).status, 200);
      assert.equal((await api('POST', '/v1/lists', { name: 'bought', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Shop news', optIn: 'single' })).status, 201);
      const list = (await t.app.services.audience.lists.find(acme.tenantId, 'bought'))!;
      for (let i = 0; i < CONTACTS; i++) {
        const email = i % 5 === 0 ? `bounce+${i}@simulator.envoi.test` : `delivered+${i}@simulator.envoi.test`;
        const s = await t.app.services.audience.subscriptions.subscribe(acme.tenantId, list, email, {}, { source: 'customer', optIn: 'single' });
        assert.ok(s.ok, email);
      }
      assert.equal((await api('POST', '/v1/templates', { name: 'news', format: 'html', subject: 'News from Shop', body: '<p>Hello, here is our news of the week.</p>' })).status, 201);
    });
    after(() => t.close());

    test('20 % unknown users after 500 attempts: the campaign pauses itself and says why', async () => {
      const c = await api('POST', '/v1/campaigns', { name: 'Bought list', template: 'news', lists: ['bought'] });
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/submit`)).body.status, 'approved');
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {})).body.status, 'scheduled');
      const paused = await eventually(async () => {
        const x = (await api('GET', `/v1/campaigns/${c.body.id}`)).body;
        return x.status === 'paused' ? x : undefined;
      }, 45_000);
      assert.match(paused.statusReason, /^reputation: cb\.(bounces|unknown-users): (bounceRate|unknownUserRate) [12]\d(\.\d+)? % > 8 % on campaign \(\d+ sent\)$/);
      assert.ok(paused.progress.queued > 0, `recipients left unsent: ${JSON.stringify(paused.progress)}`);
      assert.ok((paused.progress.delivered ?? 0) + (paused.progress.bounced ?? 0) <= 600);

      const actions = (await api('GET', '/v1/reputation')).body.actions as { rule: string; step: string; scope: string; scope_key: string; window: string; value: number; threshold: number; volume: number }[];
      const breaker = actions.filter((a) => a.scope === 'campaign');
      assert.deepEqual(breaker.map((a) => [a.rule, a.step, a.scope_key, a.window]).sort(), [
        ['cb.bounces', 'pause', c.body.id, 'campaign'], ['cb.unknown-users', 'pause', c.body.id, 'campaign'],
      ]);
      for (const a of breaker) assert.ok(a.volume >= 500 && a.value > 0.1 && a.threshold === 0.08, JSON.stringify(a));
      assert.ok(actions.some((a) => a.rule === 'mj.bounces' && a.step === 'throttle'), 'the tenant\'s day crossed Mailjet\'s 8 % too');

      const r = (await api('GET', `/v1/reputation?campaign=${c.body.id}`)).body;
      const scope = r.scopes.find((s: { scope: string }) => s.scope === 'campaign');
      assert.equal(scope.status, 'paused');
      assert.deepEqual(scope.checks.filter((x: { state: string }) => x.state === 'over').map((x: { rule: string }) => x.rule).sort(), ['cb.bounces', 'cb.unknown-users']);
      assert.deepEqual(r.scopes.map((s: { scope: string }) => s.scope), ['tenant', 'campaign'], '?campaign= shows that campaign beside the tenant');
      // per provider: the simulator's bounces, the sandbox's captures (the rollups follow the outcomes a poll later)
      await eventually(async () => {
        const all = (await api('GET', '/v1/reputation')).body;
        const provider = (key: string) => all.scopes.find((s: { scope: string; key: string }) => s.scope === 'provider' && s.key === key)?.window;
        return provider('simulator')?.bounced >= 100 && provider('sandbox')?.delivered >= 300;
      }, 10_000);
    });
  });
}

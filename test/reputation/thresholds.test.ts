// Each threshold of the mailjet and gmail profiles, on each dialect, from
// events written to the log with an injected clock and rolled up: nothing
// before the rule's minimum volume, then exactly its step, with the value,
// the line and the window recorded; the unsubscribe line switches to 1 %
// when unsubscribes exceed clicks; 51 complaints in a day suspend at a low
// rate; a rule crossed again the next day takes the next step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { actionsOf, emit, gmail, openReputationCore, recipientTo, sender, type Core } from './fixture.ts';

const DAY = 24 * 3600_000;
const hard = { provider: 'orange', classification: { kind: 'bounced', category: 'unknown-user', hard: true } };
const fbl = { feedbackType: 'abuse', source: 'bounce' };

for (const dialect of DIALECTS) {
  describe(`reputation thresholds (${dialect})`, () => {
    let core: Core;
    let clock: Awaited<ReturnType<typeof openReputationCore>>['clock'];
    before(async () => {
      ({ core, clock } = await openReputationCore(dialect));
    });
    after(() => core.dispose());
    const catchUp = () => core.services.reputation.catchUp();
    const check = async (tenantId: string, rule: string, scope = 'tenant') =>
      (await core.services.reputation.report(tenantId))!.scopes.find((s) => s.scope === scope)!.checks.find((c) => c.rule === rule)!;

    test('mj.bounces: 8 % of 500 sent → throttle, not before', async () => {
      const s = await sender(core, 'bounces');
      await emit(core, s, 'delivered', 399, { data: { provider: 'orange' } });
      await emit(core, s, 'bounced', 100, { data: hard });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      assert.equal((await check(s.tenantId, 'mj.bounces')).state, 'insufficient');
      await emit(core, s, 'delivered', 1, { data: { provider: 'orange' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.bounces', 'throttle']]);
      const [a] = await core.services.reputation.actions(s.tenantId);
      assert.deepEqual([a.indicator, a.value, a.threshold, a.volume, a.min_volume, a.window, a.profile], ['bounceRate', 0.2, 0.08, 500, 500, 'day:2026-11-25', 'mailjet']);
      assert.match(a.reason, /mj\.bounces: bounceRate 20 % > 8 % on 2026-11-25 \(500 sent\)/);
      const gate = await core.services.reputation.controls.gate(s.tenantId);
      assert.equal(gate.throttle?.perMinute, 60, 'the tenant\'s marketing is throttled');
      await catchUp();
      assert.equal((await actionsOf(core, s.tenantId)).length, 1, 'once per day');
    });

    test('mj.unsubscribes: 1.4 % of 500 delivered → warn, not before', async () => {
      const s = await sender(core, 'unsubs');
      await emit(core, s, 'delivered', 499);
      await emit(core, s, 'clicked', 30);
      await emit(core, s, 'unsubscribed', 20, { data: { list: 'lst_x', source: 'one-click' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'delivered', 1);
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.unsubscribes', 'warn']]);
      assert.equal((await core.services.reputation.actions(s.tenantId))[0].threshold, 0.014);
    });

    test('unsubscribes > clicks switches the unsubscribe line to 1 %', async () => {
      const s = await sender(core, 'switch');
      await emit(core, s, 'delivered', 1000);
      await emit(core, s, 'clicked', 13);
      await emit(core, s, 'clicked', 5, { data: { machine: true } }); // a scanner's clicks are no reader's
      await emit(core, s, 'unsubscribed', 13, { data: { list: 'lst_x', source: 'one-click' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [], '1.3 %, as many unsubscribes as clicks: the 1.4 % line');
      assert.equal((await check(s.tenantId, 'mj.unsubscribes')).threshold, 0.014);
      await emit(core, s, 'unsubscribed', 1, { data: { list: 'lst_x', source: 'mailto' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.unsubscribes', 'warn']], '1.4 % is over 1 % once unsubscribes (14) exceed clicks (13)');
      const c = await check(s.tenantId, 'mj.unsubscribes');
      assert.deepEqual([c.state, c.threshold, c.value], ['over', 0.01, 0.014]);
      assert.match(c.note!, /unsubscribes \(14\) exceed clicks \(13\)/);
    });

    test('mj.blocked: 30 % of 500 sent → throttle, not before', async () => {
      const s = await sender(core, 'blocks');
      await emit(core, s, 'delivered', 299);
      await emit(core, s, 'blocked', 200, { data: { provider: 'microsoft' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'delivered', 1);
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.blocked', 'throttle']]);
    });

    test('mj.complaints: 0.08 % only on days above 1,000 sent → pause', async () => {
      const s = await sender(core, 'complaints');
      await emit(core, s, 'delivered', 1000);
      await emit(core, s, 'complained', 2, { data: fbl });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [], '0.2 % on 1,000 sent: not above 1,000');
      await emit(core, s, 'delivered', 1);
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.complaints', 'pause']]);
    });

    test('51 complaints in a day suspend, even at a low rate; 50 do not', async () => {
      const s = await sender(core, 'fifty');
      await emit(core, s, 'delivered', 64_000);
      await emit(core, s, 'complained', 50, { data: fbl });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'complained', 1, { data: fbl });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.complaints-per-day', 'suspend']]);
      const rate = (await check(s.tenantId, 'mj.complaints')).value!;
      assert.ok(rate < 0.0008, `the rate is under the line: ${rate}`);
      assert.equal((await core.services.tenants.find(s.tenantId))!.status, 'suspended');
      const hold = await core.services.reputation.controls.marketing(recipientTo(s.tenantId, 'ann@customer.example'), s.domains[0].name);
      assert.match(hold!.reason, /^tenant suspended: mj\.complaints-per-day: complaints 51 > 50/);
    });

    test('mj.traps-and-abuse: a spam-trap hit and an abuse@ report → suspend; one alone does not', async () => {
      const s = await sender(core, 'traps');
      await emit(core, s, 'suppressed', 1, { data: { reason: 'spamtrap', source: 'operator' } });
      await emit(core, s, 'suppressed', 3, { data: { reason: 'hard_bounce' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'complained', 1, { data: { feedbackType: 'abuse-report', source: 'abuse' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.traps-and-abuse', 'suspend']]);
    });

    test('gm.spam-target: 0.1 % of 1,000 Gmail deliveries of a domain → warn, not before', async () => {
      const s = await sender(core, 'gtarget');
      await emit(core, s, 'delivered', 999, { to: gmail, data: { provider: 'google' } });
      await emit(core, s, 'delivered', 500); // not Gmail-bound
      await emit(core, s, 'complained', 1, { to: gmail, data: fbl });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'delivered', 1, { to: gmail, data: { provider: 'google' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.spam-target', 'warn']]);
      const [a] = await core.services.reputation.actions(s.tenantId);
      assert.deepEqual([a.scope, a.scope_key, a.value, a.threshold], ['gmail', s.domains[0].id, 0.001, 0.001]);
    });

    test('gm.spam-critical: 0.3 % → the domain\'s marketing to Google pauses (and only that)', async () => {
      const s = await sender(core, 'gcritical');
      await emit(core, s, 'delivered', 999, { to: gmail, data: { provider: 'google' } });
      await emit(core, s, 'complained', 3, { to: gmail, data: fbl });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), []);
      await emit(core, s, 'delivered', 1, { to: gmail, data: { provider: 'google' } });
      await catchUp();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['gm.spam-critical', 'pause']]);
      const c = core.services.reputation.controls;
      assert.match((await c.marketing(recipientTo(s.tenantId, 'someone@gmail.com'), s.domains[0].name))!.reason, /to Google paused: gm\.spam-critical/);
      assert.equal(await c.marketing(recipientTo(s.tenantId, 'someone@yahoo.fr'), s.domains[0].name), null, 'other providers still get it');
      const r = (await core.services.reputation.report(s.tenantId))!;
      assert.deepEqual(r.pauses.map((p) => [p.domain, p.provider, p.rule]), [['gcritical.example', 'google', 'gm.spam-critical']]);
      assert.equal(r.scopes.find((x) => x.scope === 'provider' && x.key === 'google')!.today.delivered, 1000, 'per provider too');
    });

    test('the ladder: the same rule crossed again the next day takes the next step', async () => {
      const s = await sender(core, 'again');
      const day = async () => {
        await emit(core, s, 'delivered', 600);
        await emit(core, s, 'unsubscribed', 30, { data: { list: 'lst_x', source: 'one-click' } });
        await catchUp();
      };
      await day();
      clock.advance(DAY);
      await day();
      assert.deepEqual(await actionsOf(core, s.tenantId), [['mj.unsubscribes', 'warn'], ['mj.unsubscribes', 'throttle']]);
      assert.match((await core.services.reputation.actions(s.tenantId))[0].reason, /crossed on 1 earlier day\(s\): warn → throttle/);
    });
  });
}

// The rollup on each dialect: several rollups at once (as several processes
// run them) count every event exactly once; events counted once land in
// every dimension they belong to, late ones under the provider that
// delivered, unsubscribes under the campaign that mailed the contact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { createReputation } from '../../src/reputation/index.ts';
import { appendEvents } from '../../src/events/log.ts';
import { newId } from '../../src/ids.ts';
import { emit, openReputationCore, sender, type Core } from './fixture.ts';

for (const dialect of DIALECTS) {
  describe(`reputation rollup (${dialect})`, () => {
    let core: Core;
    before(async () => {
      ({ core } = await openReputationCore(dialect));
    });
    after(() => core.dispose());
    const another = () => createReputation({
      db: core.store.db, dialect: core.store.dialect, clock: core.clock, logger: core.logger, limiter: core.limiter, config: { ...core.config.reputation, batchSize: 500 },
      lifecycle: () => core.services.campaigns.lifecycle, googleTls: () => 'required',
    });

    test('three rollups at once count every event exactly once', async () => {
      const s = await sender(core, 'race');
      await emit(core, s, 'delivered', 12_000, { data: { provider: 'google' } });
      await emit(core, s, 'bounced', 1_000, { data: { provider: 'google', classification: { kind: 'bounced', hard: true, category: 'unknown-user' } } });
      const rollups = [another(), another(), another()];
      await Promise.all(rollups.map((r) => r.catchUp()));
      await rollups[0].catchUp(); // a rollup that found the cursor taken stops early; whoever comes next finishes
      const rows = await core.store.db.selectFrom('reputation_counters').selectAll().where('tenant_id', '=', s.tenantId).execute();
      const of = (dim: string, key: string) => rows.find((r) => r.dim === dim && r.key === key)!;
      assert.deepEqual([of('tenant', '').sent, of('tenant', '').delivered, of('tenant', '').bounced, of('tenant', '').unknown_user], [13_000, 12_000, 1_000, 1_000]);
      assert.deepEqual([of('domain', s.domains[0].id).sent, of('provider', 'google').sent, of('pool', 'marketing').sent], [13_000, 13_000, 13_000]);
    });

    test('late events under the delivering provider; an unsubscribe under the campaign that mailed the contact', async () => {
      const s = await sender(core, 'late');
      const db = core.store.db;
      const at = core.clock.now();
      // a started campaign of the tenant to one list, with one recipient row
      const campaign = newId('cmp', at);
      const contact = newId('con', at);
      const list = newId('lst', at);
      const tpl = newId('tpl', at);
      const tv = newId('tpv', at);
      await db.insertInto('templates').values({ id: tpl, tenant_id: s.tenantId, name: 't', created_at: at, number: null }).execute();
      await db.insertInto('template_versions').values({ id: tv, template_id: tpl, version: 1, format: 'html', subject: 's', body: '<p>x</p>', text_body: null, created_at: at }).execute();
      await db.insertInto('campaigns').values({
        id: campaign, tenant_id: s.tenantId, name: 'c', status: 'completed', template_version_id: tv, list_ids: JSON.stringify([list]), segment: null, stream: 'marketing',
        from_address: 'news@late.example', from_name: 'n', reply_to: null, message_row_id: s.domains[0].messageId, findings: '[]', status_reason: null, approved_by: null,
        scheduled_at: at, checkpoint: null, enqueued: 1, audience_done: 1, created_at: at, updated_at: at, started_at: at, completed_at: at, track_clicks: 1,
      }).execute();
      const rid = newId('rcp', at);
      await db.insertInto('recipients').values({
        id: rid, message_id: s.domains[0].messageId, tenant_id: s.tenantId, address: 'ann@gmail.com', kind: 'to', envelope_from: 'b@x', status: 'delivered', attempts: 1,
        next_attempt_at: at, locked_until: null, locked_by: null, updated_at: at, campaign_id: campaign, contact_id: contact, list_id: list,
      }).execute();
      const m = s.domains[0].messageId;
      await appendEvents(db, [
        { tenantId: s.tenantId, messageId: m, recipientId: rid, type: 'delivered', at, data: { to: 'ann@gmail.com', campaign, provider: 'google' } },
        { tenantId: s.tenantId, messageId: m, recipientId: rid, type: 'opened', at: at + 1, data: { campaign } },
        { tenantId: s.tenantId, messageId: m, recipientId: rid, type: 'clicked', at: at + 2, data: { campaign, url: 'https://x' } },
        { tenantId: s.tenantId, messageId: m, recipientId: rid, type: 'complained', at: at + 3, data: { to: 'ann@gmail.com', campaign, feedbackType: 'abuse', source: 'bounce' } },
        { tenantId: s.tenantId, messageId: contact, type: 'unsubscribed', at: at + 4, data: { list, source: 'one-click' } },
      ]);
      await core.services.reputation.catchUp();
      const rows = await db.selectFrom('reputation_counters').selectAll().where('tenant_id', '=', s.tenantId).execute();
      const of = (dim: string, key: string) => rows.find((r) => r.dim === dim && r.key === key)!;
      const pick = (r: { delivered: number; opened: number; clicked: number; complained: number; unsubscribed: number }) => [r.delivered, r.opened, r.clicked, r.complained, r.unsubscribed];
      assert.deepEqual(pick(of('provider', 'google')), [1, 1, 1, 1, 1], 'found through the delivery');
      assert.deepEqual(pick(of('campaign', campaign)), [1, 1, 1, 1, 1]);
      assert.deepEqual(pick(of('gmail', s.domains[0].id)), [1, 0, 0, 1, 1], 'Gmail-bound: by the recipient\'s address');
      assert.deepEqual(pick(of('tenant', '')), [1, 1, 1, 1, 1]);
    });
  });
}

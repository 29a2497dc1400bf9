// Two webhook senders on one store (two processes of a cluster): every
// event is fanned out once and POSTed once — the endpoint cursor is taken
// under a row lock and deliveries are claimed with a lease (FOR UPDATE SKIP
// LOCKED on PostgreSQL).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, openTestCore } from '../helpers/app.ts';
import { createTestCa } from '../peers/ca.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { startWebhookSender } from '../../src/webhooks/index.ts';
import { appendEvents } from '../../src/events/log.ts';

for (const dialect of DIALECTS) {
  describe(`webhook senders side by side (${dialect})`, () => {
    let core: Awaited<ReturnType<typeof openTestCore>>;
    let rx: Receiver;
    let ca: string;
    before(async () => {
      const testCa = await createTestCa();
      ca = testCa.caPem;
      rx = await startReceiver(testCa);
      core = await openTestCore(dialect, { webhooks: { allowPrivateTargets: true, pollMs: 20, concurrency: 4 } });
    });
    after(async () => {
      await rx.close();
      await core.dispose();
    });

    test('each event reaches the endpoint exactly once', async () => {
      const tenant = await core.services.tenants.create('acme');
      assert.ok(tenant.ok);
      const tenantId = tenant.value.tenant.id;
      const hook = await core.services.webhooks.create(tenantId, { url: `${rx.url}/both`, events: ['delivered'] });
      assert.ok(hook.ok, JSON.stringify(hook));
      // the receiver is a little slow, so both senders have work in flight at once
      rx.answer = (_q, res) => setTimeout(() => res.writeHead(200).end(), 5);
      const senders = ['a', 'b'].map((w) => startWebhookSender({
        store: core.services.webhooks.store, dialect, clock: core.clock, logger: pino({ level: 'silent' }), secrets: core.secrets,
        config: core.config.webhooks, ca, workerId: `test:${w}`,
      }));
      try {
        const N = 120;
        for (let i = 0; i < N; i += 20) {
          await appendEvents(core.store.db, Array.from({ length: 20 }, (_, j) => ({
            tenantId, messageId: `msg_${i + j}`, recipientId: `rcp_${i + j}`, type: 'delivered' as const, at: core.clock.now(), data: { to: `r${i + j}@customer.example` },
          })));
        }
        await eventually(async () => rx.received.length >= N, 20_000);
        const counts = await core.services.webhooks.store.statusCounts(hook.value.id);
        await eventually(async () => (await core.services.webhooks.store.statusCounts(hook.value.id)).delivered === N, 5_000);
        await new Promise((r) => setTimeout(r, dialect === 'postgres' ? 2500 : 300));
        const ids = rx.received.map((r) => JSON.parse(r.body).id as string);
        assert.equal(ids.length, N, `received ${ids.length} POSTs for ${N} events (${JSON.stringify(counts)})`);
        assert.equal(new Set(ids).size, N);
      } finally {
        await Promise.all(senders.map((s) => s.stop()));
      }
    });

    test('claims made at the same moment never share a delivery', async () => {
      const tenant = await core.services.tenants.create('claims');
      assert.ok(tenant.ok);
      const tenantId = tenant.value.tenant.id;
      const hook = await core.services.webhooks.create(tenantId, { url: `${rx.url}/claims`, events: ['delivered'] });
      assert.ok(hook.ok);
      const store = core.services.webhooks.store;
      const now = core.clock.now();
      await appendEvents(core.store.db, Array.from({ length: 200 }, (_, i) => ({ tenantId, messageId: `m${i}`, recipientId: `r${i}`, type: 'delivered' as const, at: now, data: {} })));
      const r = await store.fanOut(hook.value.id, await store.maxEventId(), 500, now);
      assert.equal(r.created, 200);
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claimDue({ workerId: `w${i}`, now, limit: 40, leaseMs: 60_000 })));
      const ids = claims.flat().map((d) => d.id);
      assert.equal(new Set(ids).size, ids.length, 'no delivery claimed twice');
      assert.equal(ids.length, 200);
      // a second fan-out of the same range adds nothing
      await core.store.db.updateTable('webhook_endpoints').set({ cursor: 0 }).where('id', '=', hook.value.id).execute();
      assert.equal((await store.fanOut(hook.value.id, await store.maxEventId(), 500, now)).created, 0, 'the unique key refuses the copies');
      assert.equal((await store.statusCounts(hook.value.id)).pending, 200);
    });
  });
}

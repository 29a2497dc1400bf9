// Issue 5's durability proof: a campaign to loopback providers, its
// `envoi worker` killed with SIGKILL mid-campaign, then started again. Every
// recipient reaches the peers exactly once, except those the dead worker
// held at the kill (claimed, maybe sent, outcome not written): those may
// arrive twice, never more, and nobody is lost. The restarted worker takes
// the dead one's rows back at once instead of waiting for their leases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { loopbacks, startScene, terminate, type Scene } from './campaign-scene.ts';

const RECIPIENTS = 2000;

for (const [n, dialect] of DIALECTS.entries()) {
  describe(`kill -9 mid-campaign, then restart (${dialect})`, () => {
    let scene: Scene;
    before(async () => {
      scene = await startScene(dialect, { recipients: RECIPIENTS, hosts: loopbacks(30 + 10 * n, 8) });
    });
    after(() => scene.close());

    test('every recipient exactly once, except at most those in flight at the kill', async (t) => {
      const id = await scene.campaign('Crash test');
      const first = scene.worker();
      await first.id;
      await eventually(async () => scene.tally(id).messages >= RECIPIENTS * 0.3, 45_000);
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null, 'killed, not exited');
      const atKill = scene.tally(id).messages;
      assert.ok(atKill < RECIPIENTS, `mid-campaign: ${atKill} of ${RECIPIENTS} received at the kill`);

      // what the dead worker held: claimed, not finished
      const { db } = scene.t.app.store;
      const held = new Set((await db.selectFrom('recipients').select('address').where('campaign_id', '=', id)
        .where('status', '=', 'queued').where('locked_by', 'is not', null).execute()).map((r) => r.address));

      const second = scene.worker();
      await second.id;
      await scene.completed(id);
      const { byAddress, byMessageId } = scene.tally(id);
      const missing = scene.addresses.filter((a) => !byAddress.has(a));
      assert.deepEqual(missing, [], 'nobody lost');
      const twice = [...byAddress].filter(([, c]) => c > 1);
      assert.ok(twice.every(([a, c]) => c === 2 && held.has(a)), `duplicates only among the ${held.size} rows held at the kill: ${JSON.stringify(twice.slice(0, 5))}`);
      assert.equal(byMessageId.size, RECIPIENTS, 'one Message-ID per recipient');
      t.diagnostic(`${atKill} received at the kill, ${held.size} rows held by the dead worker, ${twice.length} received twice`);

      const rows = await db.selectFrom('recipients').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('campaign_id', '=', id).groupBy('status').execute();
      assert.deepEqual(rows.map((r) => [r.status, Number(r.n)]), [['delivered', RECIPIENTS]]);
      assert.equal(await terminate(second), 0, 'SIGTERM: a clean exit');
    });
  });
}

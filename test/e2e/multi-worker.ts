// Issue 5's scale-out proof, on PostgreSQL + Redis: two, then three
// `envoi worker` processes share one campaign's queue (FOR UPDATE SKIP
// LOCKED) and their limits (Redis): every recipient reaches the peers
// exactly once, each worker takes part, no peer ever sees more sessions at
// once than its provider's cap. A worker stopped with SIGTERM mid-campaign
// finishes what it has in flight and hands its other rows back: still no
// duplicate, and the others carry on at once. One file per case
// (multi-worker-two/-three.test.ts): together they ran near the runner's
// 120 s a file on a loaded machine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { loopbacks, SESSION_CAP, startScene, terminate, type Scene, type WorkerProcess } from './campaign-scene.ts';

const RECIPIENTS = 1500;

export function severalWorkers(which: 'two' | 'three'): void {
  for (const dialect of DIALECTS.filter((d) => d === 'postgres')) {
    describe(`several envoi workers on ${dialect} + Redis (${which})`, () => {
      let scene: Scene;
      before(async () => {
        scene = await startScene(dialect, { recipients: RECIPIENTS, hosts: loopbacks(60, 8), redis: true });
      });
      after(() => scene.close());

      /** the workers seen holding rows of the campaign while it runs */
      function watchOwners(id: string): { owners: Set<string>; stop(): void } {
        const owners = new Set<string>();
        let on = true;
        void (async () => {
          while (on) {
            const rows = await scene.t.app.store.db.selectFrom('recipients').select('locked_by').distinct()
              .where('campaign_id', '=', id).where('locked_by', 'is not', null).execute().catch(() => []);
            for (const r of rows) owners.add(r.locked_by!);
            await new Promise((r) => setTimeout(r, 25));
          }
        })();
        return { owners, stop: () => { on = false; } };
      }

      async function exactlyOnce(id: string, t: { diagnostic(m: string): void }): Promise<void> {
        const { byAddress, byMessageId, messages } = scene.tally(id);
        assert.deepEqual(scene.addresses.filter((a) => byAddress.get(a) !== 1), [], 'every recipient exactly once');
        assert.equal(messages, RECIPIENTS);
        assert.equal(byMessageId.size, RECIPIENTS);
        for (const p of scene.peers) assert.ok(p.sessions.max <= SESSION_CAP, `${p.host}: at most ${SESSION_CAP} sessions at once, saw ${p.sessions.max}`);
        // every process runs the campaign runner: each batch is enqueued, and counted, once
        const c = await scene.t.app.store.db.selectFrom('campaigns').select(['enqueued', 'audience_done']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual([Number(c.enqueued), c.audience_done], [RECIPIENTS, 1], 'enqueued counts each recipient once');
        t.diagnostic(`most sessions at once per peer: ${scene.peers.map((p) => p.sessions.max).join(' ')} (cap ${SESSION_CAP})`);
      }

      if (which === 'two') test('two workers: one campaign, no duplicate, both take part', async (t) => {
        const id = await scene.campaign('Two workers');
        const watch = watchOwners(id);
        const workers = [scene.worker(), scene.worker()];
        const ids = await Promise.all(workers.map((w) => w.id));
        await scene.completed(id);
        watch.stop();
        await exactlyOnce(id, t);
        assert.deepEqual(ids.filter((w) => watch.owners.has(w)).length, 2, 'both workers claimed rows');
        assert.deepEqual(await Promise.all(workers.map(terminate)), [0, 0]);
      });

      if (which === 'three') test('three workers, one stopped with SIGTERM mid-campaign: no duplicate, its rows handed back', async (t) => {
        const id = await scene.campaign('Three workers');
        const watch = watchOwners(id);
        const workers: WorkerProcess[] = [scene.worker(), scene.worker(), scene.worker()];
        const ids = await Promise.all(workers.map((w) => w.id));
        await eventually(async () => scene.tally(id).messages >= RECIPIENTS * 0.3, 45_000);
        const started = Date.now();
        assert.equal(await terminate(workers[0]), 0, workers[0].output());
        assert.ok(Date.now() - started < 15_000, 'stopped promptly');
        const kept = await scene.t.app.store.db.selectFrom('recipients').select('id').where('campaign_id', '=', id)
          .where('status', '=', 'queued').where('locked_by', '=', ids[0]).execute();
        assert.equal(kept.length, 0, 'nothing left leased to the stopped worker');
        assert.ok(scene.tally(id).messages < RECIPIENTS, 'stopped mid-campaign');
        await scene.completed(id);
        watch.stop();
        await exactlyOnce(id, t);
        assert.equal(ids.filter((w) => watch.owners.has(w)).length, 3, 'the three workers claimed rows');
        assert.deepEqual(await Promise.all(workers.slice(1).map(terminate)), [0, 0]);
      });
    });
  }
}

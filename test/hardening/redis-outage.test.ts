// Issue 10's local fault: Redis goes away mid-campaign and comes back. Two
// `envoi worker` processes share their connection caps, rates and holds
// through Redis, reached through a TCP proxy the test cuts for a few
// seconds. The workers must not crash, delivery must resume by itself, and
// every recipient must get exactly one copy (no kill here: nothing in
// flight is lost with its outcome).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { loopbacks, REDIS_URL, startScene, terminate, type Scene } from '../e2e/campaign-scene.ts';
import { startTcpProxy, type TcpProxy } from '../peers/tcp-proxy.ts';

const RECIPIENTS = 1000;
const OUTAGE_MS = Number(process.env.ENVOI_OUTAGE_MS ?? 4_000);

if (DIALECTS.includes('postgres')) {
  describe('Redis goes away mid-campaign and comes back (postgres, two workers)', () => {
    let scene: Scene;
    let proxy: TcpProxy;
    before(async () => {
      const target = new URL(REDIS_URL);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
      const viaProxy = new URL(REDIS_URL);
      viaProxy.port = String(proxy.port);
      scene = await startScene('postgres', { recipients: RECIPIENTS, hosts: loopbacks(80, 4), redis: true, redisUrl: viaProxy.toString() });
    });
    after(async () => {
      proxy.restore();
      await scene.close();
      await proxy.close();
    });

    test('the workers live through it, delivery resumes, every recipient exactly once', async (t) => {
      const id = await scene.campaign('Redis outage');
      const workers = [scene.worker(), scene.worker()];
      await Promise.all(workers.map((w) => w.id));
      await eventually(async () => scene.tally(id).messages >= RECIPIENTS * 0.2, 45_000);
      proxy.cut();
      const atCut = scene.tally(id).messages;
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const duringOutage = scene.tally(id).messages - atCut;
      proxy.restore();
      const restored = Date.now();
      await scene.completed(id, 90_000);
      const finished = Date.now() - restored;
      for (const w of workers) assert.equal(w.child.exitCode, null, `a worker died:\n${w.output().slice(-2000)}`);
      const { byAddress, messages } = scene.tally(id);
      assert.deepEqual(scene.addresses.filter((a) => byAddress.get(a) !== 1), [], 'every recipient exactly once');
      assert.equal(messages, RECIPIENTS);
      assert.deepEqual(await Promise.all(workers.map(terminate)), [0, 0]);
      t.diagnostic(`${atCut} delivered at the cut, ${duringOutage} more during the ${OUTAGE_MS} ms outage, all ${RECIPIENTS} once, ${finished} ms after Redis was back`);
    });
  });
}

// Issue 10's kill test, CI size: a campaign and a stream of transactional
// messages to loopback peers, while `envoi worker` is killed with SIGKILL
// at random moments twenty times and started again each time. At the end:
// every campaign recipient and every accepted transactional message reached
// the peers, and a recipient got one copy more only for each kill that found
// its row held by the killed worker (claimed, maybe sent, outcome not written); every
// delivered row has its one `delivered` event; SQLite passes its integrity
// check. The moments are drawn from a printed seed (ENVOI_KILL_SEED replays
// one); ENVOI_KILL_RECIPIENTS and ENVOI_KILL_COUNT make it the full-size run.
// One file per dialect (kill-loop-*.test.ts), so each stays within the
// runner's time for a file. With `survivor` (kill-two-workers.test.ts), two
// workers share the queue on PostgreSQL and their limits through Redis, and
// only one of them is killed, again and again: the other runs throughout,
// and the dead one's rows must be taken back (at its restart, or by the
// survivor) rather than wait on a stuck lease.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Dialect } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { loopbacks, startScene, terminate, type Scene } from '../e2e/campaign-scene.ts';

const TRANSACTIONAL = 60;

export interface KillLoopOptions {
  /** campaign size and kills when ENVOI_KILL_RECIPIENTS / ENVOI_KILL_COUNT are not set (CI size) */
  recipients?: number;
  kills?: number;
  /** a second worker that is never killed, started before the first kill and stopped at the end; limits shared through Redis */
  survivor?: boolean;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function killLoop(dialect: Dialect, firstHost: number, o: KillLoopOptions = {}): void {
  const RECIPIENTS = Number(process.env.ENVOI_KILL_RECIPIENTS ?? o.recipients ?? 3000);
  const KILLS = Number(process.env.ENVOI_KILL_COUNT ?? o.kills ?? 20);
  const title = o.survivor ? `two workers on ${dialect} + Redis, one killed with SIGKILL ${KILLS} times` : `kill -9, ${KILLS} times`;
  describe(`${title}, during a campaign and transactional traffic (${dialect})`, () => {
    let scene: Scene;
    before(async () => {
      scene = await startScene(dialect, { recipients: RECIPIENTS, hosts: loopbacks(firstHost, 6), redis: o.survivor });
    });
    after(() => scene.close());

    test('nothing lost, duplicates only among the rows held at each kill', { timeout: 600_000 }, async (t) => {
      const seed = Number(process.env.ENVOI_KILL_SEED ?? Date.now() % 1_000_000);
      const rnd = random(seed);
      const { db } = scene.t.app.store;
      const id = await scene.campaign('Kill loop');
      // transactional messages accepted (202) all along the kills: each is on disk before the answer
      const accepted: { id: string; to: string }[] = [];
      let sending = true;
      const traffic = (async () => {
        for (let i = 0; i < TRANSACTIONAL && sending; i++) {
          const to = scene.addresses[(i * 37) % scene.addresses.length];
          const r = await scene.t.api('POST', '/v1/messages', { token: scene.token, body: { from: 'news@shop.example', to: [to], subject: `tx-${i}`, text: 'Your receipt' } });
          assert.equal(r.status, 202, r.text);
          accepted.push({ id: r.body.id, to });
          await new Promise((res) => setTimeout(res, 100 + rnd() * 200));
        }
      })();

      // the worker that is never killed, and who takes the rows the killed one held
      const survivor = o.survivor ? scene.worker() : undefined;
      const survivorId = await survivor?.id;
      /** row id → at how many kills it was held (claimed, outcome not written): each may have been sent once more */
      const held = new Map<string, number>();
      /** row held at a kill → who leased it next */
      const takenBy = new Map<string, string>();
      const dead = new Set<string>();
      /** rows seen leased to the survivor */
      const survivorRows = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const rows = await db.selectFrom('recipients').select(['id', 'locked_by']).where('status', '=', 'queued').where('locked_by', 'is not', null).execute().catch(() => []);
          for (const r of rows) {
            if (held.has(r.id) && !dead.has(r.locked_by!) && !takenBy.has(r.id)) takenBy.set(r.id, r.locked_by!);
            if (r.locked_by === survivorId) survivorRows.add(r.id);
          }
          await new Promise((res) => setTimeout(res, 50));
        }
      })();
      let kills = 0;
      let inFlight = 0;
      let slotsAtKills = 0;
      while (kills < KILLS) {
        const w = scene.worker();
        const wid = await w.id;
        // at its start it took back the leases of the worker killed before it: none stays stuck
        const stuck = await db.selectFrom('recipients').select('id').where('status', '=', 'queued').where('locked_by', 'in', [...dead, '-']).execute();
        assert.deepEqual(stuck, [], 'the rows of the killed workers are free again once a worker starts');
        if (o.survivor) {
          // and the connection slots they held in Redis (a path's cap shared by the workers) are given back
          const deadPids = new Set([...dead].map((d) => d.split(':')[1]));
          const slots = await scene.slotHolders();
          assert.deepEqual(slots.filter((s) => deadPids.has(s.split(':')[1])), [], 'no connection slot left to a killed worker');
        }
        // a moment in the first seconds of its life: claim, dispatch, mid-DATA, outcome writes, retries
        await new Promise((res) => setTimeout(res, 150 + rnd() * 700));
        w.child.kill('SIGKILL');
        assert.equal(await w.exited, null);
        dead.add(wid);
        kills++;
        if (o.survivor) slotsAtKills += (await scene.slotHolders()).filter((s) => s.split(':')[1] === wid.split(':')[1]).length;
        // the rows the killed worker held (the survivor's own are not in flight at this kill)
        const rows = await db.selectFrom('recipients').select('id').where('status', '=', 'queued').where('locked_by', '=', wid).execute();
        inFlight += rows.length;
        for (const r of rows) held.set(r.id, (held.get(r.id) ?? 0) + 1);
        if (survivor) assert.equal(survivor.child.exitCode ?? survivor.child.signalCode, null, `the survivor keeps running:\n${survivor.output()}`);
      }
      sending = false;
      await traffic;

      const last = scene.worker();
      await last.id;
      await scene.completed(id, 120_000);
      await eventually(async () => {
        const left = await db.selectFrom('recipients').select('id').where('message_id', 'in', accepted.map((a) => a.id)).where('status', '!=', 'delivered').execute();
        return left.length === 0;
      }, 60_000);

      // the campaign: everyone, at most twice, twice only when held at a kill
      const timesHeld = new Map<string, number>();
      for (const r of await db.selectFrom('recipients').select(['id', 'address']).where('campaign_id', '=', id).execute()) timesHeld.set(r.address, held.get(r.id) ?? 0);
      const { byAddress } = scene.tally(id);
      assert.deepEqual(scene.addresses.filter((a) => !byAddress.has(a)), [], 'no campaign recipient lost');
      const twice = [...byAddress].filter(([, c]) => c > 1);
      const beyond = [...byAddress].filter(([a, c]) => c > 1 + (timesHeld.get(a) ?? 0));
      assert.deepEqual(beyond, [], 'a copy more only for each kill that found the row held');

      // the transactional messages: each accepted one arrived, at most twice
      const copies = new Map<string, number>();
      for (const p of scene.peers) {
        for (const r of p.received) {
          const m = /^Subject: (tx-\d+)\r?$/m.exec(r.raw.subarray(0, r.raw.indexOf('\r\n\r\n')).toString('latin1'));
          if (m) copies.set(m[1], (copies.get(m[1]) ?? 0) + 1);
        }
      }
      assert.equal(copies.size, accepted.length, `every accepted transactional message arrived (${copies.size} of ${accepted.length})`);
      const txHeld = new Map<string, number>();
      for (const r of await db.selectFrom('recipients').select(['id', 'message_id']).where('message_id', 'in', accepted.map((a) => a.id)).execute()) {
        txHeld.set(`tx-${accepted.findIndex((a) => a.id === r.message_id)}`, held.get(r.id) ?? 0);
      }
      assert.deepEqual([...copies].filter(([subject, c]) => c > 1 + (txHeld.get(subject) ?? 0)), [], 'a transactional copy more only for each kill that found it held');
      const txTwice = [...copies.values()].filter((c) => c > 1).length;

      // no event lost: one delivered event per delivered row, for the campaign and the transactional messages
      const delivered = await db.selectFrom('recipients').select(({ fn }) => fn.countAll<number>().as('n'))
        .where((eb) => eb.or([eb('campaign_id', '=', id), eb('message_id', 'in', accepted.map((a) => a.id))])).where('status', '=', 'delivered').executeTakeFirstOrThrow();
      const events = await db.selectFrom('events').select(({ fn }) => fn.count<number>('recipient_id').distinct().as('n'))
        .where('type', '=', 'delivered').where('tenant_id', '=', (await db.selectFrom('campaigns').select('tenant_id').where('id', '=', id).executeTakeFirstOrThrow()).tenant_id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(delivered.n), RECIPIENTS + accepted.length);
      assert.equal(Number(events.n), Number(delivered.n), 'a delivered event for each delivered row');
      watching = false;
      await watcher;
      // every lease of a killed worker ended: no row is left waiting on a dead owner
      const leftToDead = await db.selectFrom('recipients').select('id').where('status', '=', 'queued').where('locked_by', 'in', [...dead]).execute();
      assert.deepEqual(leftToDead, [], 'no row still leased to a killed worker');
      if (survivor) assert.ok(survivorRows.size > 0, 'the survivor took part');
      // the campaign's own figures: each recipient enqueued once, completed once, whatever died on the way
      const c = await db.selectFrom('campaigns').select(['enqueued', 'audience_done', 'message_row_id', 'tenant_id']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.deepEqual([Number(c.enqueued), Number(c.audience_done)], [RECIPIENTS, 1], 'enqueued counts each recipient once');
      const completedEvents = await db.selectFrom('events').select('id').where('tenant_id', '=', c.tenant_id).where('type', '=', 'campaign_completed').execute();
      assert.equal(completedEvents.length, 1, 'one campaign_completed event');
      if (dialect === 'sqlite') {
        const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(db);
        assert.deepEqual(check.rows.map((r) => r.integrity_check), ['ok']);
      }
      last.child.kill('SIGTERM');
      assert.equal(await last.exited, 0, last.output());
      if (survivor) {
        assert.equal(await terminate(survivor), 0, `the survivor ran to the end and stopped cleanly:\n${survivor.output()}`);
      }
      const extra = twice.reduce((sum, [, c]) => sum + c - 1, 0);
      t.diagnostic(`seed ${seed}: ${kills} kills, ${inFlight} rows in flight at the kills (${held.size} distinct), ${extra} extra campaign copies on ${twice.length} recipients, ${txTwice} transactional messages received twice, 0 lost, ${accepted.length} transactional accepted`);
      if (survivor) {
        const bySurvivor = [...takenBy.values()].filter((w) => w === survivorId).length;
        t.diagnostic(`the survivor leased ${survivorRows.size} rows; rows held by the killed worker taken again: ${bySurvivor} by the survivor, ${takenBy.size - bySurvivor} by a restarted worker (the others were leased and settled between two looks, 50 ms apart); none left to a dead worker; ${slotsAtKills} connection slots (Redis) held by the killed worker at the kills, each given back when the next one started`);
      }
    });
  });
}

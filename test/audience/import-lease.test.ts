// One run at a time reads an import's file (issue 3): a run claims the import
// with a lease before reading its rows, as delivery workers claim recipients.
// Two runs at once: one reads, the other stops with a clear message; a holder
// that stops answering loses the import when its lease expires, the next run
// resumes from the checkpoint, and the old holder cannot write after that.
// Which run read the file is seen in its progress reports (one per batch).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { createImports } from '../../src/audience/import/index.ts';
import { csv, importFixture, PROV, type Fixture } from './import-fixture.ts';

const LEASE_MS = 60_000;

for (const dialect of DIALECTS) {
  describe(`CSV import lease (${dialect})`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await importFixture(dialect);
    });
    after(() => fx.dispose());

    /** 50 rows, in batches of 10: checkpoints 11, 21, 31, 41, 51 */
    async function setup(name: string) {
      const list = await fx.list(name);
      const rows = Array.from({ length: 50 }, (_, i) => [`${name}${i}@mail-a.fr`, `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T08:${String(i).padStart(2, '0')}:00Z`]);
      const input = { tenantId: fx.tenantId, listRef: name, file: fx.file(csv([['email', 'when'], ...rows])), mapping: { email: 'email', provenance: { collected_at: 'when' } }, provenance: { ...PROV, collectedAt: '' } };
      const imports = createImports({ db: fx.db, dialect: fx.core.store.dialect, clock: fx.clock, resolver: fx.resolver, batchSize: 10, leaseMs: LEASE_MS });
      return { list, input, imports };
    }

    /** Two runs started together; each waits at its first batch until the other has answered. Returns each run's progress and result. */
    async function race(imports: ReturnType<typeof createImports>, input: Parameters<ReturnType<typeof createImports>['run']>[0]) {
      let open!: () => void;
      const gate = new Promise<void>((r) => { open = r; });
      const progress: [number[], number[]] = [[], []];
      const runs = ([0, 1] as const).map((k) => imports.run({ ...input, onProgress: (line) => progress[k].push(line), onBatch: () => gate }));
      // the loser answers without waiting for the gate: it never reads
      const first = await Promise.race(runs.map((p, k) => p.then((r) => ({ k, r }))));
      open();
      const results = await Promise.all(runs);
      return { first, results, progress };
    }

    test('two runs resuming the same import at once: exactly one reads the file, the other stops with a clear message', async () => {
      const { list, input, imports } = await setup('twice');
      await assert.rejects(imports.run({ ...input, onBatch: ({ batch }) => { if (batch === 2) throw new Error('simulated crash'); } }), /simulated crash/);
      const half = await fx.db.selectFrom('imports').selectAll().where('list_id', '=', list.id).executeTakeFirstOrThrow();
      assert.deepEqual([half.status, half.checkpoint_line, half.locked_by], ['running', 21, null], 'a run that stopped lets go of its lease');

      const { first, results, progress } = await race(imports, input);
      assert.ok(!first.r.ok, 'the first to answer is the run that did not get the import');
      assert.equal(first.r.error.code, 'conflict');
      assert.match(first.r.error.detail, new RegExp(`import ${half.id} of this file is being run by .+ \\(lease until .+\\): this run stops without reading the file`));
      assert.match(first.r.error.detail, /run the same import again to resume after line 21/);
      const winner = 1 - first.k;
      assert.deepEqual(progress[first.k], [], 'the loser read no row');
      assert.deepEqual(progress[winner], [31, 41, 51], 'the winner resumed after the checkpoint');
      const done = results[winner];
      assert.ok(done.ok);
      assert.deepEqual(done.value.counts, { rows: 50, accepted: 50, refused: 0, merged: 0, unverifiedDomains: 0, pending: 0, subscribed: 50 });
      const row = await fx.db.selectFrom('imports').select(['status', 'locked_by', 'locked_until']).where('id', '=', half.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { status: 'completed', locked_by: null, locked_until: null });
      assert.equal((await fx.db.selectFrom('imports').select('id').where('list_id', '=', list.id).execute()).length, 1);
      assert.equal(await fx.mailable(list.id), 50);
    });

    test('two runs of a new file at once: one import, one reader', async () => {
      const { list, input, imports } = await setup('fresh');
      const { first, results, progress } = await race(imports, input);
      assert.ok(!first.r.ok);
      assert.match(first.r.error.detail, /is being run by/);
      assert.deepEqual(progress[first.k], []);
      assert.deepEqual(progress[1 - first.k], [11, 21, 31, 41, 51]);
      assert.ok(results[1 - first.k].ok);
      assert.equal((await fx.db.selectFrom('imports').select('id').where('list_id', '=', list.id).execute()).length, 1);
      const records = await fx.db.selectFrom('consent_records').select('contact_id').where('list_id', '=', list.id).execute();
      assert.equal(records.length, 50, 'every row once');
    });

    test('a holder that stops answering: refused while its lease runs, resumed from the checkpoint after; the old holder then writes nothing', async () => {
      const { list, input, imports } = await setup('frozen');
      let frozenAt!: () => void;
      const atBatch2 = new Promise<void>((r) => { frozenAt = r; });
      let wake!: () => void;
      const asleep = new Promise<void>((r) => { wake = r; });
      // stands for a process that died (or hangs) after its second batch, its lease still on the import
      const stuck = imports.run({ ...input, onBatch: ({ batch }) => { if (batch === 2) { frozenAt(); return asleep; } } });
      await atBatch2;
      const held = await fx.db.selectFrom('imports').selectAll().where('list_id', '=', list.id).executeTakeFirstOrThrow();
      assert.equal(held.checkpoint_line, 21);
      assert.equal(held.locked_until, fx.clock.now() + LEASE_MS);

      const progress: number[] = [];
      const refused = await imports.run({ ...input, onProgress: (l) => progress.push(l) });
      assert.ok(!refused.ok);
      assert.equal(refused.error.detail, `import ${held.id} of this file is being run by ${held.locked_by} (lease until ${new Date(held.locked_until!).toISOString()}): ` +
        'this run stops without reading the file. If that run died, its lease expires then; run the same import again to resume after line 21');
      assert.deepEqual(progress, []);

      fx.clock.advance(LEASE_MS + 1);
      const resumedAt: number[] = [];
      const resumed = await imports.run({ ...input, onProgress: (l) => resumedAt.push(l) });
      assert.ok(resumed.ok, JSON.stringify(!resumed.ok && resumed.error));
      assert.deepEqual(resumedAt, [31, 41, 51], 'resumed after the last checkpoint');
      assert.equal(resumed.value.counts.rows, 50);

      // the old holder wakes up: its next batch finds the lease gone and stops
      wake();
      const late = await stuck;
      assert.ok(!late.ok);
      assert.match(late.error.detail, new RegExp(`import ${held.id}: this run lost its lease .* another run took the import over after line 51`));
      const records = await fx.db.selectFrom('consent_records').select('contact_id').where('list_id', '=', list.id).execute();
      assert.equal(records.length, 50, 'every row exactly once');
      const events = await fx.db.selectFrom('events').select('message_id').where('type', '=', 'subscribed').where('message_id', 'in', records.map((r) => r.contact_id)).execute();
      assert.equal(events.length, 50);
      assert.equal((await fx.db.selectFrom('imports').select('status').where('id', '=', held.id).executeTakeFirstOrThrow()).status, 'completed');
    });
  });
}

// Remote faults (issue 10), SQLite: every fault of remote-faults-scene.ts
// against the real delivery engine; a subset again on PostgreSQL.
import { test } from 'node:test';
import { DIALECTS } from '../helpers/store.ts';
import { CASES, printFigures, runFaults, SUBSET } from './remote-faults-scene.ts';

test('remote faults on SQLite: every message delivered once fixed, or still queued with the reason; copies only after the final dot', async () => {
  printFigures('sqlite', await runFaults('sqlite', CASES));
});

if (DIALECTS.includes('postgres')) {
  test('remote faults on PostgreSQL (a subset)', async () => {
    printFigures('postgres', await runFaults('postgres', CASES.filter((c) => SUBSET.includes(c.name))));
  });
}

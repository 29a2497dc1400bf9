// Remote faults (issue 10): every fault of remote-faults-scene.ts against the
// real delivery engine on SQLite, a subset again on PostgreSQL. Bursts,
// partial acceptance and backup MX hosts: remote-faults-edges.test.ts. The
// figures are printed as "remote-faults: …" lines (docs/reliability.md).
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

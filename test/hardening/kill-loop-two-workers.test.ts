// The kill test (kill-loop.ts) with two workers on PostgreSQL + Redis: one
// runs throughout, the other is killed with SIGKILL again and again and
// started again each time (skipped with ENVOI_TEST_PG=off).
import { DIALECTS } from '../helpers/store.ts';
import { killLoop } from './kill-loop.ts';

if (DIALECTS.includes('postgres')) killLoop('postgres', 80, { survivor: true, recipients: 2000, kills: 10 });

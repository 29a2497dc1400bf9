// The kill test (kill-loop.ts) on PostgreSQL (skipped with ENVOI_TEST_PG=off, like every PostgreSQL test).
import { DIALECTS } from '../helpers/store.ts';
import { killLoop } from './kill-loop.ts';

if (DIALECTS.includes('postgres')) killLoop('postgres', 70);

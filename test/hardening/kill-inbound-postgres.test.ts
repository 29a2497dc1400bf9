// The inbound kill test (kill-loop.ts killInbound) on PostgreSQL (skipped with ENVOI_TEST_PG=off).
import { DIALECTS } from '../helpers/store.ts';
import { killInbound } from './kill-loop.ts';

if (DIALECTS.includes('postgres')) killInbound('postgres', 95, { recipients: 240 });

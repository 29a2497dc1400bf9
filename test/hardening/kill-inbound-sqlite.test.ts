// The inbound kill test (kill-loop.ts killInbound) on SQLite.
import { killInbound } from './kill-loop.ts';

killInbound('sqlite', 90, { recipients: 240 });

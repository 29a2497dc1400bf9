// The kill test (kill-loop.ts) on SQLite.
import { killLoop } from './kill-loop.ts';

killLoop('sqlite', 60);

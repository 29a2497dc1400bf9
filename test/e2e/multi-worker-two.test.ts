// Two envoi workers share one campaign on PostgreSQL + Redis (test/e2e/multi-worker.ts).
import { severalWorkers } from './multi-worker.ts';

severalWorkers('two');

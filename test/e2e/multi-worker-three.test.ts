// Three envoi workers, one stopped with SIGTERM mid-campaign (test/e2e/multi-worker.ts).
import { severalWorkers } from './multi-worker.ts';

severalWorkers('three');

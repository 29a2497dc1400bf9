// Three envoi workers, one stopped with SIGTERM mid-campaign (test/e2e/multi-worker.ts).
//
// OUT OF CI FOR NOW, A KNOWN BUG: in two of four full CI runs on 2026-11-26 the
// worker sent SIGTERM never exited. Its drain hung (it held only its Redis
// connection), and the file ran past the runner's 120 s. Alone, even with the
// two cores kept busy, it passes in 32–37 s. Once it also saw 11 sessions
// at a peer capped at 10. Until the drain is fixed, run it by hand:
//   node scripts/test.mjs --no-typecheck test/e2e/multi-worker-three.hangs.ts
import { severalWorkers } from './multi-worker.ts';

severalWorkers('three');

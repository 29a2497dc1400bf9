// Three envoi workers, one stopped with SIGTERM mid-campaign (test/e2e/multi-worker.ts).
//
// Out of CI from fb9d465 to this commit: in two of four full CI runs the
// worker sent SIGTERM never exited (its drain waited for a job queued on an
// egress path after close() had drained the paths; fixed in 890373c). Since
// then it passed 8 runs of 8 by hand, 3 of them beside two benchmarks
// keeping both cores busy (18–33 s).
import { severalWorkers } from './multi-worker.ts';

severalWorkers('three');

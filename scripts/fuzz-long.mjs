// The nightly-style fuzz run: the property-based tests of test/hardening with
// far more cases than CI runs (ENVOI_FUZZ_SCALE times each property's CI
// count; 50 by default: about 780,000 cases, some 8 minutes on two cores). Each property prints
// "fuzz: <name>: <n> cases"; a failure prints its seed and the shrunk
// counterexample, and `--seed N` replays it.
//
//   node scripts/fuzz-long.mjs                 # scale 50, a random seed
//   node scripts/fuzz-long.mjs --scale 200     # longer
//   node scripts/fuzz-long.mjs --seed 1234 test/hardening/fuzz-compose.test.ts
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const scale = option('--scale', process.env.ENVOI_FUZZ_SCALE ?? '50');
const seed = option('--seed', process.env.ENVOI_FUZZ_SEED);
const files = args.length
  ? args
  : fs.readdirSync(path.join(root, 'test/hardening')).filter((f) => /^fuzz-.*\.test\.ts$/.test(f)).map((f) => path.join('test/hardening', f));

const env = { ...process.env, ENVOI_FUZZ_SCALE: scale, ...(seed ? { ENVOI_FUZZ_SEED: seed } : {}) };
console.log(`fuzz-long: scale ${scale}${seed ? `, seed ${seed}` : ''}: ${files.join(' ')}`);
const started = Date.now();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=0', '--test-reporter=spec', ...files], { stdio: ['ignore', 'pipe', 'inherit'], env, cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
process.stdout.write(run.stdout ?? '');
const cases = [...(run.stdout ?? '').matchAll(/fuzz: .*?: (\d+) cases/g)].reduce((n, m) => n + Number(m[1]), 0);
console.log(`fuzz-long: ${cases} cases in ${Math.round((Date.now() - started) / 1000)} s, exit ${run.status}`);
process.exit(run.status ?? 1);

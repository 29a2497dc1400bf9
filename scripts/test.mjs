// `npm test`: type-check, then every test file under test/ with node's test
// runner (through tsx). PostgreSQL is required in CI; elsewhere, when none
// answers on 127.0.0.1:5432, the PostgreSQL half is skipped with a warning.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1500 }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

const env = { ...process.env };
if (!env.ENVOI_TEST_PG) {
  const up = await reachable('127.0.0.1', 5432);
  if (!up) {
    if (env.CI) {
      console.error('PostgreSQL is not running on 127.0.0.1:5432; .ci/run starts it.');
      process.exit(1);
    }
    console.warn('warning: no PostgreSQL on 127.0.0.1:5432: running the SQLite half of the storage tests only');
    env.ENVOI_TEST_PG = 'off';
  }
}

if (!args.includes('--no-typecheck')) {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('type-check failed');
    process.exit(tsc.status ?? 1);
  }
}

const only = args.filter((a) => !a.startsWith('--'));
const files = only.length ? only : find(path.join(root, 'test')).sort();
// 120 s a file keeps the suite honest; the full-size runs of the hardening
// harnesses (ENVOI_KILL_RECIPIENTS=50000 …) take longer and set ENVOI_TEST_TIMEOUT_MS
const timeoutMs = Number(process.env.ENVOI_TEST_TIMEOUT_MS ?? 120_000);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${timeoutMs}`, ...files], { stdio: 'inherit', env, cwd: root });
process.exit(run.status ?? 1);

#!/usr/bin/env node
// The `envoi` command. envoi ships TypeScript and runs it through tsx's loader,
// so there is no build step between `npm install` and `envoi up`.
import { spawnSync } from 'node:child_process';
import { register } from 'tsx/esm/api';

// A CSV import streams with a flat live heap (≈ 45 MB), but V8 lets the heap
// grow to several times that before a full collection; capped, the import of
// a million rows peaks at ≈ 264 MB RSS instead of ≈ 416 MB (docs/benchmarks.md).
if (process.argv[2] === 'import' && !process.execArgv.some((a) => a.startsWith('--max-old-space-size'))) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=512', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);

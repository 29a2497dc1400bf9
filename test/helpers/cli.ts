// Runs the real `envoi` command in a child process, pointed at a test's store
// by ENVOI_* variables (and only those: the runner's own ENVOI_TEST_* would be
// refused as unknown configuration).
import { execFile } from 'node:child_process';

const BIN = new URL('../../bin/envoi.mjs', import.meta.url).pathname;

export function runEnvoi(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENVOI_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

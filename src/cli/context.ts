// What every CLI command needs: the loaded config (problems printed, exit 2),
// the stages opened on the local store, and tenant lookup by name or id.
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { openServices, createLogger, type Core } from '../app.ts';
import type { Tenant } from '../store/schema.ts';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function config(file?: string): Config {
  const r = loadConfig({ file });
  if (!r.ok) throw new CliError('invalid configuration:\n  ' + r.problems.join('\n  '), 2);
  return r.config;
}

export async function withCore<T>(file: string | undefined, fn: (core: Core) => Promise<T>): Promise<T> {
  const cfg = config(file);
  // CLI output is the command's own; logs stay quiet unless asked for
  const core = await openServices(cfg, { logger: createLogger({ ...cfg, log: { level: process.env.ENVOI_LOG_LEVEL ? cfg.log.level : 'warn' } }) });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

export async function tenantByRef(core: Core, ref: string | undefined): Promise<Tenant> {
  if (!ref) throw new CliError('--tenant <name or id> is required');
  const t = await core.services.tenants.find(ref);
  if (!t) throw new CliError(`no tenant ${ref}`);
  return t;
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

/** A plain text table: columns padded to their widest cell. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

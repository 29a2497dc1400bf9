// Loads the configuration: defaults < file (JSON) < ENVOI_* variables.
// Returns a failure value with every problem listed, never a half-valid config.
import fs from 'node:fs';
import path from 'node:path';
import { configSchema, type Config, type ConfigInput } from './schema.ts';
import { leaves } from './walk.ts';

export type LoadResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** values set by code (tests, CLI flags); win over everything */
  overrides?: ConfigInput;
}

export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.ENVOI_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(fs.readFileSync(path.resolve(file), 'utf8'));
    } catch (e) {
      return { ok: false, problems: [`cannot read config file ${file}: ${(e as Error).message}`] };
    }
  }
  const fromEnv = envToObject(env, problems);
  const merged = deepMerge(deepMerge(fromFile, fromEnv), (opts.overrides ?? {}) as Record<string, unknown>);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.join('.') || '(top level)';
      problems.push(`${where}: ${issue.message}`);
    }
  }
  if (problems.length || !parsed.success) return { ok: false, problems };
  return { ok: true, config: parsed.data };
}

/** ENVOI_HTTP_PORT=8443 → { http: { port: 8443 } }; an unknown ENVOI_ variable is a problem. */
function envToObject(env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const byEnv = new Map(leaves(configSchema as never).map((l) => [l.env, l]));
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('ENVOI_') || name === 'ENVOI_CONFIG' || raw === undefined) continue;
    const leaf = byEnv.get(name);
    if (!leaf) {
      problems.push(`${name}: unknown configuration variable (known: see docs/configuration.md)`);
      continue;
    }
    let value: unknown = raw;
    if (leaf.type === 'number') {
      value = Number(raw);
      if (raw.trim() === '' || Number.isNaN(value)) problems.push(`${name}: expected a number, got "${raw}"`);
    } else if (leaf.type === 'record') {
      try {
        value = JSON.parse(raw);
      } catch {
        problems.push(`${name}: expected a JSON object, got "${raw}"`);
      }
    } else if (leaf.type === 'array') {
      value = raw.split(',').map((x) => x.trim()).filter(Boolean);
    } else if (leaf.type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') problems.push(`${name}: expected true or false, got "${raw}"`);
      value = raw === 'true';
    }
    setPath(out, leaf.path.split('.'), value);
  }
  return out;
}

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[keys[keys.length - 1]] = value;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

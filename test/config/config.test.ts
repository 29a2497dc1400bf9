// The configuration: defaults, file < environment < code, unknown keys refused
// with a message naming them, and docs/configuration.md in step with the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { configurationMarkdown } from '../../src/config/docs.ts';

const tmpFile = (content: string) => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-cfg-')), 'envoi.json');
  fs.writeFileSync(f, content);
  return f;
};

test('defaults: SQLite in ./data, sandbox delivery, 25 MB messages', () => {
  const r = loadConfig({ env: {} });
  assert.ok(r.ok);
  assert.equal(r.config.dataDir, './data');
  assert.equal(r.config.database.url, undefined);
  assert.equal(r.config.delivery.mode, 'sandbox');
  assert.equal(r.config.limits.maxMessageBytes, 25 * 1024 * 1024);
  assert.equal(r.config.http.port, 8443);
});

test('environment variables override the file, with types', () => {
  const file = tmpFile(JSON.stringify({ http: { port: 9000 }, hostname: 'mta.example.com' }));
  const r = loadConfig({ file, env: { ENVOI_HTTP_PORT: '9443', ENVOI_DATABASE_URL: 'postgres://x@h/db', ENVOI_LIMITS_MAX_MESSAGE_BYTES: '1048576' } });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.config.http.port, 9443);
  assert.equal(r.config.hostname, 'mta.example.com');
  assert.equal(r.config.database.url, 'postgres://x@h/db');
  assert.equal(r.config.limits.maxMessageBytes, 1048576);
});

test('unknown keys are refused, in the file and in ENVOI_* variables, each named', () => {
  const file = tmpFile(JSON.stringify({ http: { prot: 1 }, colour: 'red' }));
  const r = loadConfig({ file, env: { ENVOI_HTTP_PROT: '1' } });
  assert.equal(r.ok, false);
  const text = !r.ok ? r.problems.join('\n') : '';
  assert.match(text, /ENVOI_HTTP_PROT: unknown configuration variable/);
  assert.match(text, /colour/);
  assert.match(text, /http.*prot/);
});

test('wrong types get a clear message', () => {
  const r = loadConfig({ env: { ENVOI_HTTP_PORT: 'eighty' } });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.problems.join() : '', /ENVOI_HTTP_PORT: expected a number/);
  const bad = loadConfig({ file: tmpFile('{ not json'), env: {} });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.problems[0] : '', /cannot read config file/);
});

test('docs/configuration.md is generated from the schema and up to date', () => {
  const md = configurationMarkdown();
  assert.match(md, /\| `http\.port` \| `ENVOI_HTTP_PORT` \| number \| `8443` \|/);
  const committed = fs.readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(committed, md, 'run `npm run docs:config`');
});

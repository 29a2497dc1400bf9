// Secrets at rest: API keys hashed, DKIM private keys sealed under the master
// key (never in clear in the database), the key file created 0600 once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecrets, loadOrCreateMasterKey } from '../../src/accounts/secrets.ts';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain } from '../helpers/app.ts';

test('the master key file is created once, mode 0600, and reused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-key-'));
  const a = loadOrCreateMasterKey({ dataDir: dir });
  const b = loadOrCreateMasterKey({ dataDir: dir });
  assert.deepEqual(a, b);
  assert.equal(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
  assert.throws(() => loadOrCreateMasterKey({ dataDir: dir, secretKey: 'c2hvcnQ=' }), /32 bytes/);
});

test('sealed values open only with the same key, and tampering is detected', () => {
  const s1 = createSecrets(Buffer.alloc(32, 1));
  const s2 = createSecrets(Buffer.alloc(32, 2));
  const sealed = s1.seal('-----BEGIN PRIVATE KEY-----');
  assert.equal(s1.open(sealed), '-----BEGIN PRIVATE KEY-----');
  assert.throws(() => s2.open(sealed));
  const bytes = Buffer.from(sealed.slice(3), 'base64');
  bytes[bytes.length - 1] ^= 1;
  assert.throws(() => s1.open('v1:' + bytes.toString('base64')));
});

for (const dialect of DIALECTS) {
  test(`no secret is stored in clear (${dialect})`, async () => {
    const t = await startTestApp(dialect);
    try {
      const k = await tenantWithDomain(t, 'acme', 'shop.example');
      const db = t.app.store.db;
      const keys = await db.selectFrom('api_keys').selectAll().execute();
      assert.ok(keys.every((row) => row.secret_hash.length === 64 && !row.secret_hash.includes(k.secret)));
      const dkim = await db.selectFrom('dkim_keys').selectAll().execute();
      assert.equal(dkim.length, 2);
      for (const row of dkim) {
        assert.match(row.private_key_enc, /^v1:/);
        assert.doesNotMatch(row.private_key_enc, /PRIVATE KEY/);
      }
    } finally {
      await t.close();
    }
  });
}

// The `envoi` command as a user types it, against the same store as a running
// envoi: tenant, domain and its records, streams, send, sandbox list/show/export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { runEnvoi } from '../helpers/cli.ts';
import { eventually, startTestApp, type TestApp } from '../helpers/app.ts';


const envoi = (t: TestApp, args: string[]) => runEnvoi(t.cliEnv, args);

for (const dialect of DIALECTS) {
  describe(`envoi CLI (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(() => t.close());

    test('tenant, domain, records, streams, send, sandbox', async () => {
      const created = await envoi(t, ['tenant', 'create', 'acme', '--json']);
      assert.equal(created.code, 0, created.stderr);
      const tenant = JSON.parse(created.stdout);
      assert.match(tenant.apiKey.secret, /^[A-Za-z0-9_-]{43}$/);

      const dup = await envoi(t, ['tenant', 'create', 'acme']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /^envoi: a tenant named acme exists already/);

      const added = await envoi(t, ['domain', 'add', 'shop.example', '--tenant', 'acme']);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /Publish these records/);

      const rec = await envoi(t, ['domain', 'records', 'shop.example', '--json']);
      const records = JSON.parse(rec.stdout) as { type: string; name: string; value: string }[];
      assert.ok(records.every((r) => Object.keys(r).join() === 'type,name,value'));
      assert.equal(records.filter((r) => /\._domainkey\.shop\.example$/.test(r.name)).length, 2);
      assert.ok(records.some((r) => r.name === '_dmarc.shop.example' && /p=none/.test(r.value)));
      assert.ok(records.some((r) => r.type === 'MX' && r.name === 'bounce-tx.shop.example'));
      assert.ok(records.some((r) => r.type === 'TXT' && r.name === 'bounce-mk.shop.example' && r.value.startsWith('v=spf1')));

      const streams = JSON.parse((await envoi(t, ['stream', 'list', '--tenant', 'acme', '--json'])).stdout);
      assert.deepEqual(streams.map((s: { name: string; ip_pool: string }) => [s.name, s.ip_pool]), [['marketing', 'marketing'], ['transactional', 'transactional']]);
      const set = await envoi(t, ['stream', 'set', 'transactional', '--tenant', 'acme', '--from', 'orders@shop.example', '--ip-pool', 'tx-pool']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /from orders@shop\.example.*pool tx-pool/);

      const sent = await envoi(t, ['send', '--tenant', 'acme', '--from', 'orders@shop.example', '--to', 'bob@example.org', '--subject', 'CLI hello', '--text', 'hi', '--json']);
      assert.equal(sent.code, 0, sent.stderr);
      const id = JSON.parse(sent.stdout).id;
      t.app.notify(); // the worker lives in the test's process; the CLI's write is picked up at the next poll anyway

      const entry = await eventually(async () => {
        const list = await envoi(t, ['sandbox', 'list', '--json']);
        return (JSON.parse(list.stdout) as { id: string; message_id: string }[]).find((e) => e.message_id === id);
      }, 20_000);
      const shown = await envoi(t, ['sandbox', 'show', entry.id, '--raw']);
      assert.match(shown.stdout, /^Subject: CLI hello\r$/m);
      assert.equal((shown.stdout.match(/^DKIM-Signature:/gm) ?? []).length, 2);

      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-export-'));
      const exp = await envoi(t, ['sandbox', 'export', '--out', out]);
      assert.match(exp.stdout, /1 message\(s\) written/);
      const file = path.join(out, `${entry.id}.eml`);
      assert.equal(fs.readFileSync(file, 'utf8'), shown.stdout, 'the export is byte for byte the captured message');
    });

    test('bad input gets one clear line and a non-zero exit', async () => {
      const r = await envoi(t, ['send', '--tenant', 'nobody', '--from', 'a@b.example', '--to', 'c@d.example', '--subject', 's', '--text', 't']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'envoi: no tenant nobody\n');
      const g = await envoi(t, ['domain', 'add', 'gmail.com', '--tenant', 'acme']);
      assert.equal(g.code, 1);
      assert.match(g.stderr, /mailbox provider's domain/);
    });
  });
}

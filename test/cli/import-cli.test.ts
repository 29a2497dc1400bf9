// `envoi import` and `envoi contacts export` as a user types them, against a
// store of each dialect, with the domains checked through a loopback DNS
// server (--dns): the report, per-row provenance, errors on one line with the
// CSV line, the quarantine review, the formula-safe export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIALECTS, PG_URL } from '../helpers/store.ts';
import { openTestCore } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';

const BIN = new URL('../../bin/envoi.mjs', import.meta.url).pathname;

type Core = Awaited<ReturnType<typeof openTestCore>>;

function envoi(core: Core, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // only the variables that point at the test's store: the runner's own ENVOI_TEST_* would be refused as unknown
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENVOI_')));
  const cliEnv: Record<string, string> = { ENVOI_DATA_DIR: core.dataDir, ENVOI_LOG_LEVEL: 'warn' };
  if (core.store.schema) Object.assign(cliEnv, { ENVOI_DATABASE_URL: PG_URL, ENVOI_DATABASE_SCHEMA: core.store.schema });
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...env, ...cliEnv } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`envoi import (${dialect})`, () => {
    let core: Core;
    let dns: DnsServer;
    let tenantId: string;
    const file = (name: string, content: string | Buffer) => {
      const p = path.join(core.dataDir, name);
      fs.writeFileSync(p, content);
      return p;
    };
    const wholeFile = ['--source', 'form', '--collected-at', '2026-03-01T10:00:00Z', '--method', 'single', '--consent-text', 'Yes, the newsletter'];

    before(async () => {
      core = await openTestCore(dialect);
      dns = await startDnsServer({ 'mail-a.fr': { MX: [{ exchange: 'mx.mail-a.fr', priority: 10 }] } });
      const t = await core.services.tenants.create('acme');
      assert.ok(t.ok);
      tenantId = t.value.tenant.id;
      assert.ok((await core.services.domains.add(tenantId, 'shop.example')).ok);
      for (const name of ['news', 'roles']) {
        assert.ok((await core.services.audience.lists.create(tenantId, { name, fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'x', optIn: 'single' })).ok);
      }
    });
    after(async () => {
      await dns.close();
      await core.dispose();
    });

    test('import with file-wide provenance: JSON report, then the same file again changes nothing', async () => {
      const csv = file('people.csv', 'email,first_name\nann@mail-a.fr,Ann\nbob@nowhere.fr,Bob\n=cmd|\'calc\'!A0@mail-a.fr,Evil\nzed@mail-a.fr,"=HYPERLINK(""http://x"")"\n');
      const args = ['import', csv, '--tenant', 'acme', '--list', 'news', '--email-column', 'email', '--field', 'first_name=first_name', ...wholeFile, '--dns', dns.address];
      const r = await envoi(core, [...args, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.status, 'completed');
      assert.deepEqual(report.counts, { rows: 4, accepted: 3, refused: 1, merged: 0, unverifiedDomains: 0, pending: 0, subscribed: 3 });
      assert.deepEqual(report.refusals, { no_mail_domain: 1 });

      const again = await envoi(core, args);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /: completed \(this file was imported before: nothing changed\)/);
      assert.match(again.stdout, /rows 4: accepted 3, merged 0, refused 1/);

      const status = await envoi(core, ['import', 'status', report.importId]);
      assert.match(status.stdout, /refused lines:\n {2}line 3: domain nowhere\.fr does not exist/);
    });

    test('per-row provenance columns; rows without provenance are listed by line', async () => {
      const csv = file('rows.csv', 'email,when,how\nr1@mail-a.fr,2026-01-02,single\nr2@mail-a.fr,,single\n');
      const r = await envoi(core, ['import', csv, '--tenant', 'acme', '--list', 'news', '--provenance-columns', 'collected_at=when,method=how',
        '--source', 'form', '--consent-text', 'Yes', '--dns', dns.address]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\nrefused: missing_provenance 1\n/);
      const id = /^import (imp_\w+)/.exec(r.stdout)![1];
      const status = JSON.parse((await envoi(core, ['import', 'status', id, '--json'])).stdout);
      assert.deepEqual(status.rejects, [{ line: 3, email: 'r2@mail-a.fr', reason: 'missing provenance: collected_at' }]);
    });

    test('errors are one line, with the CSV line where there is one', async () => {
      const csv = file('plain.csv', 'email\nx@mail-a.fr\n');
      const none = await envoi(core, ['import', csv, '--tenant', 'acme', '--list', 'news', '--dns', dns.address]);
      assert.equal(none.code, 1);
      assert.equal(none.stderr, 'envoi: provenance is mandatory (MJ-4): give the source, collected-at, method and consent text of the file, or map provenance columns\n');
      const latin = file('latin.csv', Buffer.concat([Buffer.from('email,first_name\nx@mail-a.fr,X\ny@mail-a.fr,Andr'), Buffer.from([0xe9]), Buffer.from('\n')]));
      const enc = await envoi(core, ['import', latin, '--tenant', 'acme', '--list', 'news', ...wholeFile, '--dns', dns.address]);
      assert.equal(enc.code, 1);
      assert.match(enc.stderr, /^envoi: line 3: the file is not valid UTF-8 \(byte 0xE9\).*\n$/);
      assert.equal(enc.stderr.split('\n').length, 2);
      const cols = await envoi(core, ['import', csv, '--tenant', 'acme', '--list', 'news', '--email-column', 'mail', ...wholeFile, '--dns', dns.address]);
      assert.equal(cols.stderr, 'envoi: line 1: missing column(s) "mail" (the header has: "email")\n');
      const pairs = await envoi(core, ['import', csv, '--tenant', 'acme', '--list', 'news', '--field', 'oops', ...wholeFile]);
      assert.equal(pairs.stderr, 'envoi: --field takes name=column (got "oops")\n');
    });

    test('a quarantined import waits for the operator: status, approve', async () => {
      const rows = Array.from({ length: 100 }, (_, i) => (i < 25 ? `sales+${i}@mail-a.fr` : `p${i}@mail-a.fr`));
      const csv = file('roles.csv', 'email\n' + rows.join('\n') + '\n');
      const r = await envoi(core, ['import', csv, '--tenant', 'acme', '--list', 'roles', ...wholeFile, '--dns', dns.address, '--batch-size', '30']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /QUARANTINED \(MJ-4\).*envoi import approve imp_/);
      assert.match(r.stdout, /25 % of the rows are role accounts/);
      assert.match(r.stderr, /importing \|/, 'the progress bar, on stderr');
      const id = /^import (imp_\w+)/.exec(r.stdout)![1];
      const list = (await core.services.audience.lists.find(tenantId, 'roles'))!;
      assert.equal(await core.services.audience.mailable.count(tenantId, [list.id]), 0);
      assert.match((await envoi(core, ['import', 'status', id])).stdout, new RegExp(`^import ${id}: quarantined`));
      const ok = await envoi(core, ['import', 'approve', id]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /approved by operator:cli:/);
      assert.equal(await core.services.audience.mailable.count(tenantId, [list.id]), 100);
      const twice = await envoi(core, ['import', 'reject', id]);
      assert.equal(twice.stderr, `envoi: import ${id} is approved, not quarantined: there is nothing to review\n`);
    });

    test('contacts export: RFC 4180, formulas neutralised', async () => {
      const out = path.join(core.dataDir, 'export.csv');
      const r = await envoi(core, ['contacts', 'export', '--tenant', 'acme', '--out', out, '--lists']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\d+ contact\(s\) written to /);
      const text = fs.readFileSync(out, 'utf8');
      assert.ok(text.startsWith('\ufeffemail,first_name,list:news,list:roles\r\n'));
      assert.ok(text.includes("\r\n'=cmd|'calc'!A0@mail-a.fr,Evil,subscribed,\r\n"), 'an address can be a formula too');
      assert.ok(text.includes('\r\nzed@mail-a.fr,"\'=HYPERLINK(""http://x"")",subscribed,\r\n'));
    });
  });
}

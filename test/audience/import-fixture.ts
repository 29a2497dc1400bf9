// What the import tests share: a store of the chosen dialect with a tenant, a
// loopback DNS server with a few zones (MX, A only, null MX, IDN; any other
// name is NXDOMAIN), the platform resolver pointed at it, and small helpers.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { manualClock, openTestCore } from '../helpers/app.ts';
import type { Dialect } from '../helpers/store.ts';
import { startDnsServer } from '../peers/dns.ts';
import { createResolver, type Resolver } from '../../src/net/resolver.ts';
import { createImports, type ImportInput } from '../../src/audience/import/index.ts';
import type { FileProvenance } from '../../src/audience/import/provenance.ts';

const mx = (host: string) => ({ MX: [{ exchange: `mx.${host}`, priority: 10 }] });

export const ZONE = {
  'mail-a.fr': mx('mail-a.fr'),
  'mail-b.de': mx('mail-b.de'),
  'only-a.fr': { A: ['192.0.2.10'] },
  'null-mx.fr': { MX: [{ exchange: '', priority: 0 }] },
  'xn--caf-dma.fr': mx('xn--caf-dma.fr'),
};

export const PROV: FileProvenance = {
  source: 'form', collectedAt: '2026-03-01T10:00:00Z', method: 'single', consentText: 'Yes, send me the Shop newsletter.', formUrl: 'https://shop.example/join',
};

export type Fixture = Awaited<ReturnType<typeof importFixture>>;

export async function importFixture(dialect: Dialect) {
  const clock = manualClock();
  const core = await openTestCore(dialect, {}, { clock });
  const dns = await startDnsServer(ZONE);
  const real = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  // flaky.fr stands for a domain whose server fails: the one answer a loopback zone cannot give
  const resolver: Resolver = {
    ...real,
    mx: (name) => (name === 'flaky.fr' ? Promise.reject(Object.assign(new Error(`queryMx ESERVFAIL ${name}`), { code: 'ESERVFAIL' })) : real.mx(name)),
  };
  const t = await core.services.tenants.create('acme');
  assert.ok(t.ok);
  const tenantId = t.value.tenant.id;
  assert.ok((await core.services.domains.add(tenantId, 'shop.example')).ok);
  const db = core.store.db;
  let files = 0;

  const fx = {
    core, clock, db, dns, resolver, tenantId,
    imports: createImports({ db, dialect: core.store.dialect, clock, resolver }),
    /** a CSV file in the test's data folder */
    file(content: string | Buffer): string {
      const p = path.join(core.dataDir, `import-${++files}.csv`);
      fs.writeFileSync(p, content);
      return p;
    },
    async list(name: string, extra: Record<string, unknown> = {}, tenant = tenantId) {
      const r = await core.services.audience.lists.create(tenant, { name, fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Newsletter', optIn: 'single', ...extra });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
      return r.value;
    },
    /** runs an import that must succeed */
    async run(input: Omit<ImportInput, 'tenantId'> & { tenantId?: string }) {
      const r = await fx.imports.run({ tenantId, ...input });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
      return r.value;
    },
    async count(table: 'contacts' | 'consent_records' | 'subscriptions' | 'import_rejects' | 'imports' | 'events'): Promise<number> {
      const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    rejects: (importId: string) => db.selectFrom('import_rejects').select(['line', 'email', 'reason']).where('import_id', '=', importId).orderBy('line').execute(),
    mailable: (listId: string) => core.services.audience.mailable.count(tenantId, [listId]),
    async dispose() {
      await dns.close();
      await core.dispose();
    },
  };
  return fx;
}

/** A CSV text from rows of cells, quoted per RFC 4180 where needed. */
export function csv(rows: string[][], eol = '\n'): string {
  return rows.map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join(eol) + eol;
}

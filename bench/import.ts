// CSV import benchmark (issue 3): generates a realistic file (20 domains
// served by a loopback DNS server, a few fields, 2 % role accounts, some
// duplicates and dead domains), imports it into a fresh store, and prints
// rows/s, elapsed time, peak RSS and CPU seconds.
//
//   node --import tsx bench/import.ts [--rows 1000000] [--dialect sqlite|postgres] [--batch 2000]
//
// PostgreSQL: 127.0.0.1:5432, database `test` (ENVOI_TEST_DATABASE_URL), in a
// schema of its own dropped afterwards. CPU seconds are this process's only
// (PostgreSQL's own work is in its server processes).
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { openTestCore } from '../test/helpers/app.ts';
import { startDnsServer } from '../test/peers/dns.ts';
import { createResolver } from '../src/net/resolver.ts';
import { createImports } from '../src/audience/import/index.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, dialect: { type: 'string', default: 'sqlite' }, batch: { type: 'string', default: '2000' } } });
const ROWS = Number(args.rows);
const dialect = args.dialect === 'postgres' ? 'postgres' : 'sqlite';

const DOMAINS = Array.from({ length: 20 }, (_, i) => `mail${i}.example-isp.fr`);
const FIRST = ['Anne', 'Bruno', 'Chloé', 'David', 'Élodie', 'François', 'Gaëlle', 'Hugo', 'Inès', 'Julien', 'Karim', 'Léa', 'Marc', 'Nina'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent'];
const CITY = ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes', 'Lille', 'Rennes', 'Bordeaux'];

async function generate(file: string): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('email,first_name,last_name,city,customer_since\n');
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    let email = `${FIRST[i % 14].toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${LAST[i % 12].toLowerCase()}${i}@${DOMAINS[i % 20]}`;
    if (i % 50 === 7) email = `contact${i}@${DOMAINS[i % 20]}`.replace(/\d+@/, '@').replace('contact@', `info+${i}@`); // 2 % role accounts
    if (i % 1000 === 500) email = `lost${i}@gone${i % 7}.example-dead.fr`; // 0.1 % dead domains
    if (i % 200 === 199) email = `${FIRST[(i - 100) % 14].toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${LAST[(i - 100) % 12].toLowerCase()}${i - 100}@${DOMAINS[(i - 100) % 20]}`; // 0.5 % duplicates
    chunk += `${email},${FIRST[i % 14]},${LAST[(i * 7) % 12]},${CITY[i % 8]},${2015 + (i % 10)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

const dns = await startDnsServer(Object.fromEntries(DOMAINS.map((d) => [d, { MX: [{ exchange: `mx.${d}`, priority: 10 }] }])));
const core = await openTestCore(dialect);
try {
  const t = await core.services.tenants.create('bench');
  if (!t.ok) throw new Error(t.error.detail);
  await core.services.domains.add(t.value.tenant.id, 'shop.example');
  const list = await core.services.audience.lists.create(t.value.tenant.id, { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Yes', optIn: 'single' });
  if (!list.ok) throw new Error(list.error.detail);
  const file = path.join(core.dataDir, 'bench.csv');
  const g0 = Date.now();
  await generate(file);
  const size = fs.statSync(file).size;
  console.log(`generated ${ROWS} rows, ${(size / 1e6).toFixed(1)} MB in ${((Date.now() - g0) / 1000).toFixed(1)} s`);

  const imports = createImports({ db: core.store.db, dialect: core.store.dialect, clock: core.clock, resolver: createResolver({ servers: [dns.address] }), batchSize: Number(args.batch) });
  const cpu0 = process.cpuUsage();
  const rss0 = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  let shown = 0;
  const r = await imports.run({
    tenantId: t.value.tenant.id, listRef: 'news', file,
    mapping: { email: 'email', fields: { first_name: 'first_name', last_name: 'last_name', city: 'city', customer_since: 'customer_since' } },
    provenance: { source: 'customer', collectedAt: '2025-06-01T00:00:00Z', method: 'single', consentText: 'Yes, send me the Shop newsletter.' },
    onProgress: (lines) => {
      if (lines - shown >= ROWS / 10) {
        shown = lines;
        console.log(`  ${lines} lines, ${((performance.now() - t0) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
      }
    },
  });
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (!r.ok) throw new Error(r.error.detail);
  const maxRss = process.resourceUsage().maxRSS;
  console.log(JSON.stringify({
    dialect, rows: ROWS, batch: Number(args.batch), elapsedS: +elapsed.toFixed(1), rowsPerS: Math.round(ROWS / elapsed),
    peakRssMB: +(maxRss / 1024).toFixed(0), rssBeforeImportMB: +(rss0 / 1024).toFixed(0), cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    status: r.value.status, counts: r.value.counts,
  }, null, 1));
} finally {
  await dns.close();
  await core.dispose();
}

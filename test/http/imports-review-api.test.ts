// Who may list and read imports: a tenant only its own, an operator every
// tenant's (the quarantine review queue), filtered by status and tenant and
// paged by id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';

const PROV = 'source=customer&collectedAt=2026-05-01T00:00:00Z&method=confirmed&confirmedAt=2026-05-01T00:10:00Z&consentText=Newsletter';
const ROLES = ['info', 'admin', 'sales', 'contact', 'support', 'office', 'marketing', 'hello', 'webmaster', 'billing'];

for (const dialect of DIALECTS) {
  describe(`import listing and review across tenants (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let bolt: Awaited<ReturnType<typeof tenantWithDomain>>;
    const upload = (token: string, query: string, body: string) =>
      t.api('POST', `/v1/imports?${query}`, { token, rawBody: body, headers: { 'content-type': 'text/csv' } });
    // 100 rows of role accounts, over the 20 % share that quarantines an import
    const bought = (tag: string) => ['email', ...Array.from({ length: 100 }, (_, i) => `${ROLES[i % ROLES.length]}+${tag}${i}@customer.example`)].join('\n') + '\n';
    let acmeQuarantined: string;
    let boltQuarantined: string;
    let acmeClean: string;

    before(async () => {
      dns = await startDnsServer({ 'customer.example': { MX: [{ exchange: 'mx.customer.example', priority: 10 }] }, 'mx.customer.example': { A: ['127.0.0.9'] } });
      t = await startTestApp(dialect, { dns: { servers: [dns.address] } });
      acme = await tenantWithDomain(t, 'acme', 'acme.example');
      bolt = await tenantWithDomain(t, 'bolt', 'bolt.example');
      for (const [k, domain] of [[acme, 'acme.example'], [bolt, 'bolt.example']] as const) {
        const l = await t.api('POST', '/v1/lists', { token: k.token, body: { name: 'news', fromAddress: `news@${domain}`, fromName: 'News', consentText: 'Newsletter' } });
        assert.equal(l.status, 201, l.text);
      }
      const a = await upload(acme.token, `list=news&${PROV}&fileName=acme-bought.csv`, bought('a'));
      const b = await upload(bolt.token, `list=news&${PROV}&fileName=bolt-bought.csv`, bought('b'));
      const c = await upload(acme.token, `list=news&${PROV}&fileName=clean.csv`, 'email\nann@customer.example\nbad-one\nbad-two\nbad-three\n');
      for (const r of [a, b, c]) assert.equal(r.status, 202, r.text);
      // the answer carries the import's id: the dashboard follows it by id
      [acmeQuarantined, boltQuarantined, acmeClean] = [a.body.id, b.body.id, c.body.id];
      assert.match(acmeQuarantined, /^imp_/);
      await eventually(async () => {
        const all = (await t.api('GET', '/v1/imports', { token: t.operatorToken })).body.data as { status: string }[];
        return all.length === 3 && all.every((i) => i.status !== 'running');
      });
    });
    after(async () => {
      await t?.close();
      await dns?.close();
    });

    test('an operator lists the quarantined imports of every tenant, with their signals', async () => {
      const r = await t.api('GET', '/v1/imports?status=quarantined', { token: t.operatorToken });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data.map((i: { id: string }) => i.id).sort(), [acmeQuarantined, boltQuarantined].sort());
      assert.equal(r.body.data.find((i: { id: string }) => i.id === boltQuarantined).tenantId, bolt.tenantId);
      assert.equal(r.body.data[0].report.quarantine.signals[0].name, 'role_accounts');
      const one = await t.api('GET', `/v1/imports?status=quarantined&tenant=${acme.tenantId}`, { token: t.operatorToken });
      assert.deepEqual(one.body.data.map((i: { id: string }) => i.id), [acmeQuarantined]);
      // an operator reads any tenant's import and its refused lines
      assert.equal((await t.api('GET', `/v1/imports/${boltQuarantined}`, { token: t.operatorToken })).status, 200);
      assert.equal((await t.api('GET', `/v1/imports/${boltQuarantined}/rejects`, { token: t.operatorToken })).status, 200);
      // lists are a tenant's: an operator filtering by one is told so
      assert.equal((await t.api('GET', '/v1/imports?list=news', { token: t.operatorToken })).status, 400);
    });

    test('a tenant sees only its own imports, whatever it asks for', async () => {
      const mine = await t.api('GET', '/v1/imports', { token: acme.token });
      assert.deepEqual(mine.body.data.map((i: { id: string }) => i.id).sort(), [acmeQuarantined, acmeClean].sort());
      const q = await t.api('GET', '/v1/imports?status=quarantined', { token: bolt.token });
      assert.deepEqual(q.body.data.map((i: { id: string }) => i.id), [boltQuarantined]);
      assert.equal((await t.api('GET', `/v1/imports?tenant=${acme.tenantId}`, { token: bolt.token })).status, 400);
      assert.equal((await t.api('GET', `/v1/imports/${acmeQuarantined}`, { token: bolt.token })).status, 404);
      assert.equal((await t.api('GET', `/v1/imports/${acmeQuarantined}/rejects`, { token: bolt.token })).status, 404);
      assert.equal((await t.api('POST', `/v1/imports/${boltQuarantined}/approve`, { token: bolt.token })).status, 403);
      assert.equal((await t.api('GET', '/v1/imports')).status, 401);
    });

    test('refused lines page by line number, with a limit', async () => {
      const page = async (q: string) => (await t.api('GET', `/v1/imports/${acmeClean}/rejects${q}`, { token: acme.token })).body.data.map((r: { line: number }) => r.line);
      assert.deepEqual(await page(''), [3, 4, 5]);
      assert.deepEqual(await page('?limit=2'), [3, 4]);
      assert.deepEqual(await page('?limit=2&afterLine=4'), [5]);
    });

    test('pages by id, newest first', async () => {
      const p1 = await t.api('GET', '/v1/imports?limit=2', { token: t.operatorToken });
      assert.equal(p1.body.data.length, 2);
      assert.equal(p1.body.next, p1.body.data[1].id);
      const p2 = await t.api('GET', `/v1/imports?limit=2&before=${p1.body.next}`, { token: t.operatorToken });
      assert.equal(p2.body.data.length, 1);
      assert.equal(p2.body.next, null);
      const ids = [...p1.body.data, ...p2.body.data].map((i: { id: string }) => i.id);
      assert.deepEqual(ids, [...ids].sort().reverse());
    });

    test('approved, it leaves the queue', async () => {
      assert.equal((await t.api('POST', `/v1/imports/${boltQuarantined}/approve`, { token: t.operatorToken })).status, 200);
      const r = await t.api('GET', '/v1/imports?status=quarantined', { token: t.operatorToken });
      assert.deepEqual(r.body.data.map((i: { id: string }) => i.id), [acmeQuarantined]);
    });

    test('a mapped column missing from the header is refused at once', async () => {
      const r = await upload(acme.token, `list=news&${PROV}&emailColumn=mail`, 'email\nzed@customer.example\n');
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.detail, /missing column/);
    });
  });
}

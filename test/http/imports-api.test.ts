// CSV import through the API: a job with a status and a report; provenance
// mandatory; a bought-looking list quarantined until an operator approves it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';

for (const dialect of DIALECTS) {
  describe(`import API (${dialect})`, () => {
    let t: TestApp;
    let dns: DnsServer;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const csv = (rows: string[]) => ['email,first_name', ...rows].join('\n') + '\n';
    const upload = (query: string, body: string) => t.api('POST', `/v1/imports?${query}`, { token: acme.token, rawBody: body, headers: { 'content-type': 'text/csv' } });
    const prov = 'list=news&source=customer&collectedAt=2026-05-01T00:00:00Z&method=confirmed&confirmedAt=2026-05-01T00:10:00Z&consentText=Newsletter&fields=first_name%3Dfirst_name';

    before(async () => {
      dns = await startDnsServer({ 'customer.example': { MX: [{ exchange: 'mx.customer.example', priority: 10 }] }, 'mx.customer.example': { A: ['127.0.0.9'] } });
      t = await startTestApp(dialect, { dns: { servers: [dns.address] } });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      await t.api('POST', '/v1/lists', { token: acme.token, body: { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Newsletter' } });
    });
    after(async () => {
      await t.close();
      await dns.close();
    });

    test('a job: 202, then its status and report; the contacts are mailable', async () => {
      const r = await upload(prov, csv(['ann@customer.example,Ann', 'bob@customer.example,Bob', 'not-an-address,X']));
      assert.equal(r.status, 202, r.text);
      const done = await eventually(async () => {
        const list = (await t.api('GET', '/v1/imports?list=news', { token: acme.token })).body.data;
        return list.find((i: { status: string }) => i.status === 'completed');
      });
      const st = await t.api('GET', `/v1/imports/${done.id}`, { token: acme.token });
      assert.equal(st.body.report.counts.accepted, 2);
      assert.equal(st.body.report.counts.refused, 1);
      const rej = await t.api('GET', `/v1/imports/${done.id}/rejects`, { token: acme.token });
      assert.equal(rej.body.data[0].line, 4);
      assert.equal((await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['news'] } })).body.mailable, 2);
    });

    test('without provenance: refused at once, nothing stored', async () => {
      const r = await upload('list=news', csv(['cat@customer.example,Cat']));
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.detail, /provenance|source/i);
    });

    test('a list of role accounts is quarantined until an operator approves it', async () => {
      const roles = ['info', 'admin', 'sales', 'contact', 'support', 'office', 'marketing', 'hello', 'webmaster', 'billing'];
      const rows = Array.from({ length: 120 }, (_, i) => `${roles[i % roles.length]}${i < 10 ? '' : i}@customer.example,X`);
      const r = await upload(prov.replace('news', 'news') + '&fileName=bought.csv', csv(rows.map((x, i) => (i % 10 < 3 ? x.replace(/^[a-z]+\d*/, `person${i}`) : x.replace(/\d+@/, '@').replace('@', `+${i}@`)))));
      assert.equal(r.status, 202, r.text);
      const q = await eventually(async () => (await t.api('GET', '/v1/imports?list=news', { token: acme.token })).body.data.find((i: { status: string }) => i.status === 'quarantined'));
      const before = (await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['news'] } })).body.mailable;
      assert.equal((await t.api('POST', `/v1/imports/${q.id}/approve`, { token: acme.token })).status, 403, 'operators only');
      const ok = await t.api('POST', `/v1/imports/${q.id}/approve`, { token: t.operatorToken });
      assert.equal(ok.status, 200, ok.text);
      const afterCount = (await t.api('POST', '/v1/audience/count', { token: acme.token, body: { lists: ['news'] } })).body.mailable;
      assert.ok(afterCount > before, `${before} → ${afterCount}`);
    });
  });
}

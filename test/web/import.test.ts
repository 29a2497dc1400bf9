// CSV import from the dashboard in Chromium: a tenant user picks a file of
// three thousand rows with bad lines, maps its columns, gives the
// provenance, watches the progress bar to 100 % and reads the report with
// the refused lines; a file of role accounts is quarantined, and an operator
// approves it from the quarantine page, after which its contacts are mailable.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import dgram from 'node:dgram';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createUsers } from '../../src/web/users.ts';
import { browserSkip, launch, open, overflows, PASSWORD, shot, signIn, tenantPage } from './browser.ts';

const skip = browserSkip();
if (skip) console.log(`# skipping the import browser tests: ${skip}`);

const ROWS = 3000;
const INVALID = 60;
const DUPLICATES = 40;
const ROLES = ['info', 'admin', 'sales', 'contact', 'support', 'office', 'marketing', 'hello', 'webmaster', 'billing'];

/** 3000 data rows: every 50th an invalid address, the last 40 repeating earlier rows. */
function customersCsv(): string {
  const lines = ['E-mail,Prénom,Ville,Notes'];
  for (let i = 0; i < ROWS - DUPLICATES; i++) {
    // one address of the second batch (rows past 2000) has a domain whose lookup is slow
    const email = i % 50 === 7 ? `not-an-address-${i}` : i === 2500 ? 'late@late.example' : `person${i}@customer.example`;
    lines.push(`${email},Prénom${i},Lyon,"note, with a comma"`);
  }
  for (let i = 0; i < DUPLICATES; i++) lines.push(`person${i * 50}@customer.example,Again${i},Paris,dup`);
  return lines.join('\n') + '\n';
}

/**
 * A UDP relay in front of the test DNS server that holds back the questions
 * about late.example: the import's second batch waits on that lookup, so
 * the progress bar is caught between its first batch and its end.
 */
async function slowRelay(upstreamPort: number, holdMs: number): Promise<{ address: string; close: () => void }> {
  const front = dgram.createSocket('udp4');
  const late = Buffer.from('\x04late\x07example');
  front.on('message', (msg, from) => {
    const back = dgram.createSocket('udp4');
    back.on('message', (answer) => {
      front.send(answer, from.port, from.address);
      back.close();
    });
    setTimeout(() => back.send(msg, upstreamPort, '127.0.0.1'), msg.includes(late) ? holdMs : 0);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${front.address().port}`, close: () => front.close() };
}

const mailable = async (t: TestApp, token: string) => (await t.api('POST', '/v1/audience/count', { token, body: { lists: ['news'] } })).body.mailable as number;

describe('CSV import from the dashboard in Chromium', { skip }, () => {
  let t: TestApp;
  let dns: DnsServer;
  let relay: Awaited<ReturnType<typeof slowRelay>>;
  let browser: Browser;
  let page: Page;
  let shop: Awaited<ReturnType<typeof tenantWithDomain>>;

  before(async () => {
    dns = await startDnsServer({
      'customer.example': { MX: [{ exchange: 'mx.customer.example', priority: 10 }] }, 'mx.customer.example': { A: ['127.0.0.9'] },
      'late.example': { MX: [{ exchange: 'mx.customer.example', priority: 10 }] },
    });
    relay = await slowRelay(dns.port, 1200);
    [t, browser] = await Promise.all([startTestApp('sqlite', { dns: { servers: [relay.address] } }), launch()]);
    shop = await tenantWithDomain(t, 'shop', 'shop.example');
    const list = await t.api('POST', '/v1/lists', { token: shop.token, body: { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'Send me Shop News', optIn: 'double' } });
    assert.equal(list.status, 201, list.text);
    assert.equal((await t.api('POST', '/v1/users', { token: shop.token, body: { email: 'kim@shop.example', password: PASSWORD } })).status, 201);
    assert.ok((await createUsers(t.app.store.db, t.app.clock).create({ email: 'ops@example.org', password: PASSWORD, tenantId: null })).ok);
    page = await tenantPage(browser, t, 'kim@shop.example');
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    relay?.close();
    await dns?.close();
  });

  /** From the Lists page to the import page of the list "news", with the file picked. */
  async function pickFile(name: string, csv: string) {
    await page.getByRole('link', { name: 'Lists', exact: true }).click();
    await page.getByRole('link', { name: 'Import CSV into news' }).click();
    await page.getByRole('heading', { name: 'Import contacts into news' }).waitFor();
    await page.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
  }

  async function fillProvenance() {
    await page.getByLabel('Source').selectOption('form');
    await page.getByLabel('Collected at (UTC)').fill('2026-05-01T10:00');
    await page.getByLabel('Opt-in method').selectOption('confirmed');
    await page.getByLabel('Consent text').fill('Yes, send me Shop News every month');
    await page.getByLabel('Confirmed at (UTC, optional)').fill('2026-05-01T10:05');
  }

  it('imports 3000 rows with a mapped column, with progress and the report of refused lines', async () => {
    await pickFile('customers.csv', customersCsv());
    await page.getByText(`customers.csv: ${(ROWS + 1).toLocaleString('en-US')} lines, 4 columns.`).waitFor();
    // the first rows are shown; the address column is recognised by its name
    const mapping = page.getByRole('table', { name: 'Column mapping and the first rows' });
    await mapping.getByText('person0@customer.example').waitFor();
    assert.equal(await page.getByLabel('Use of column E-mail').inputValue(), 'email');
    assert.equal(await page.getByLabel('Use of column Ville').inputValue(), 'ignore');
    await page.getByLabel('Use of column Prénom').selectOption('field');
    // the field name is made from the column's, and can be changed
    assert.equal(await page.getByLabel('Field name for column Prénom').inputValue(), 'prenom');
    await page.getByLabel('Field name for column Prénom').fill('first_name');
    await fillProvenance();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.equal(await overflows(page), false, `the import form scrolls sideways at ${width} px`);
    }
    await shot(page, 'import-mapping-390');
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'import-mapping');

    await page.getByRole('button', { name: 'Upload and import' }).click();
    const bar = page.getByRole('progressbar', { name: 'Import progress' });
    await bar.waitFor();
    const seen = new Set<string>();
    // poll the bar until it ends, recording what it showed on the way
    const until = Date.now() + 30_000;
    for (;;) {
      const v = await bar.getAttribute('aria-valuenow');
      if (v) seen.add(v);
      if (v === '100') break;
      assert.ok(Date.now() < until, `the bar stopped at ${[...seen].join(', ')}`);
      await page.waitForTimeout(50);
    }
    assert.ok([...seen].every((v) => Number(v) >= 0 && Number(v) <= 100), [...seen].join(','));
    // the first batch of 2000 rows is lines 2 to 2001 of 3001: the bar stood at two thirds while the second waited
    assert.ok(seen.has('66'), `the bar showed ${[...seen].join(', ')}`);
    await page.getByText('Done: 100 %').waitFor();

    const counts = page.getByRole('definition');
    await page.getByRole('table', { name: 'Refused lines' }).waitFor();
    const dl = await page.locator('dl[aria-label="Import counts"]').innerText();
    assert.match(dl, new RegExp(`rows\\s+${(ROWS).toLocaleString('en-US')}`, 'i'));
    assert.match(dl, new RegExp(`accepted\\s+${(ROWS - INVALID - DUPLICATES).toLocaleString('en-US')}`, 'i'));
    assert.match(dl, new RegExp(`merged\\s+${DUPLICATES}`, 'i'));
    assert.match(dl, new RegExp(`refused\\s+${INVALID}`, 'i'));
    assert.ok(await counts.count() >= 6);
    const byReason = page.getByRole('table', { name: 'Refused, by reason' });
    await byReason.getByRole('row').filter({ hasText: 'invalid address' }).filter({ hasText: String(INVALID) }).waitFor();
    await page.getByRole('table', { name: 'Merged, by reason' }).getByRole('row').filter({ hasText: 'duplicate in file' }).filter({ hasText: String(DUPLICATES) }).waitFor();

    // the first refused line: data row 7 is on line 9 (the header is line 1)
    const refused = page.getByRole('table', { name: 'Refused lines' });
    const first = refused.getByRole('row').nth(1);
    assert.match(await first.innerText(), /9\s+not-an-address-7/);
    assert.equal(await refused.getByRole('row').count(), 51, 'a page of 50 refused lines and the header');
    await shot(page, 'import');
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.equal(await overflows(page), false, `the import report scrolls sideways at ${width} px`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    // the second page holds the last ten, in line order
    await page.getByRole('button', { name: 'Next' }).click();
    await refused.getByText(`not-an-address-${50 * 59 + 7}`, { exact: true }).waitFor();
    assert.equal(await refused.getByRole('row').count(), INVALID - 50 + 1);

    // the API agrees: the contacts are mailable, the mapped column became the field
    assert.equal(await mailable(t, shop.token), ROWS - INVALID - DUPLICATES);
    const ann = await t.api('GET', '/v1/contacts/person1@customer.example', { token: shop.token });
    assert.equal(ann.body.fields.first_name, 'Prénom1');
    assert.equal(ann.body.fields.ville, undefined, 'an ignored column is not imported');

    // it is listed among the tenant's imports
    await page.getByRole('link', { name: 'Imports', exact: true }).click();
    await page.getByRole('table', { name: 'Imports' }).getByRole('link', { name: 'customers.csv' }).waitFor();
  });

  it('holds a list of role accounts for review; an operator approves it and its contacts become mailable', async () => {
    const before = await mailable(t, shop.token);
    const csv = ['email', ...Array.from({ length: 150 }, (_, i) => `${ROLES[i % ROLES.length]}+${i}@customer.example`)].join('\n') + '\n';
    await pickFile('bought.csv', csv);
    await page.getByText('bought.csv: 151 lines, 1 columns.').waitFor();
    await fillProvenance();
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await page.getByText('Held for review by an operator').waitFor();
    assert.equal(await page.getByRole('progressbar', { name: 'Import progress' }).getAttribute('aria-valuenow'), '100');
    assert.equal(await mailable(t, shop.token), before, 'held: not mailable yet');

    // a second one, sent through the API, that the operator will reject
    const rented = ['email', ...Array.from({ length: 120 }, (_, i) => `${ROLES[i % ROLES.length]}+r${i}@customer.example`)].join('\n') + '\n';
    const r = await t.api('POST', '/v1/imports?list=news&fileName=rented.csv&source=other&collectedAt=2026-04-01&method=single&consentText=x', { token: shop.token, rawBody: rented, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 202, r.text);
    await eventually(async () => (await t.api('GET', `/v1/imports/${r.body.id}`, { token: shop.token })).body.status === 'quarantined');

    const op = (await open(browser, t)).page;
    await signIn(op, 'ops@example.org');
    await op.getByRole('heading', { name: 'Tenants' }).waitFor();
    await op.getByRole('link', { name: 'Quarantine' }).click();
    await op.getByRole('heading', { name: 'Quarantined imports' }).waitFor();
    const card = op.getByRole('listitem', { name: 'Import bought.csv' });
    await card.getByText('shop', { exact: true }).waitFor();
    await card.getByText(/100 % of the rows are role accounts/).waitFor();
    for (const width of [1280, 390]) {
      await op.setViewportSize({ width, height: 900 });
      assert.equal(await overflows(op), false, `the quarantine page scrolls sideways at ${width} px`);
    }
    await op.setViewportSize({ width: 1280, height: 900 });
    await shot(op, 'quarantine');
    await op.getByRole('listitem', { name: 'Import rented.csv' }).getByRole('button', { name: 'Reject rented.csv' }).click();
    await op.getByRole('status').filter({ hasText: 'rented.csv (shop) rejected' }).waitFor();
    await op.getByRole('listitem', { name: 'Import rented.csv' }).waitFor({ state: 'detached' });
    await card.getByRole('button', { name: 'Approve bought.csv' }).click();
    await op.getByRole('status').filter({ hasText: 'bought.csv (shop) approved' }).waitFor();
    await op.getByText('No import waits for review.').waitFor();

    assert.equal(await mailable(t, shop.token), before + 150);
    const imports = (await t.api('GET', '/v1/imports', { token: shop.token })).body.data as { fileName: string; status: string; reviewedBy: string }[];
    const bought = imports.find((i) => i.fileName === 'bought.csv')!;
    assert.equal(bought.status, 'approved');
    assert.equal(imports.find((i) => i.fileName === 'rented.csv')!.status, 'rejected');
    const contact = await t.api('GET', `/v1/contacts/${encodeURIComponent('info+0@customer.example')}`, { token: shop.token });
    assert.equal(contact.body.subscriptions[0].status, 'subscribed');
  });
});

// The dashboard in Chromium: sign-in (a wrong password refused, a request
// without the CSRF header refused), a domain's records, a message sent to
// the sandbox and read in the inbox, a suppression added and lifted, an API
// key created and revoked, and every main page at 1280 and 390 px wide
// without horizontal scrolling.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createUsers } from '../../src/web/users.ts';
import { browserSkip, launch, open, overflows, PASSWORD, shot, signIn } from './browser.ts';

const skip = browserSkip();
if (skip) console.log(`# skipping the dashboard browser tests: ${skip}`);

describe('the dashboard in Chromium', { skip }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let tenantToken: string;

  before(async () => {
    [t, browser] = await Promise.all([startTestApp('sqlite'), launch()]);
    const users = createUsers(t.app.store.db, t.app.clock);
    assert.ok((await users.create({ email: 'ops@example.org', password: PASSWORD, tenantId: null })).ok);
    const tenant = await t.api('POST', '/v1/tenants', { token: t.operatorToken, body: { name: 'shop' } });
    tenantToken = tenant.body.apiKey.token;
    assert.equal((await t.api('POST', '/v1/users', { token: tenantToken, body: { email: 'kim@shop.example', password: PASSWORD } })).status, 201);
    page = (await open(browser, t)).page;
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('refuses a wrong password, then signs an operator in; a POST without the CSRF header is refused', async () => {
    await signIn(page, 'ops@example.org', 'not the password at all');
    await page.getByRole('alert').filter({ hasText: 'wrong email address or password' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    await shot(page, 'sign-in-refused');

    await signIn(page, 'ops@example.org');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByRole('cell', { name: 'shop' }).first().waitFor();
    // the session cookie is HttpOnly: the page's script cannot read it
    assert.doesNotMatch(await page.evaluate(() => document.cookie), /envoi_session/);
    // a string, not a function: tsx would wrap named functions in a helper the page lacks
    const statuses = await page.evaluate(`(async () => {
      const post = (headers) => fetch('/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'forged' }) }).then((r) => r.status);
      const csrf = (/__Host-envoi_csrf=([^;]*)/.exec(document.cookie) || [])[1] || '';
      return { without: await post({}), wrong: await post({ 'x-csrf-token': 'nope' }), with: await post({ 'x-csrf-token': csrf }) };
    })()`);
    assert.deepEqual(statuses, { without: 403, wrong: 403, with: 201 });
    await shot(page, 'tenants');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to envoi' }).waitFor();
  });

  it('sets up a domain as a tenant user: the records to publish, with copy buttons', async () => {
    await signIn(page, 'kim@shop.example');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByLabel('Domain name').fill('shop.example');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('heading', { name: 'shop.example' }).waitFor();
    await page.getByRole('heading', { name: 'DNS records to publish' }).waitFor();
    const table = page.getByRole('table', { name: 'DNS records' });
    const text = await table.innerText();
    assert.match(text, /_domainkey\.shop\.example/);
    assert.match(text, /v=DKIM1; k=rsa/);
    assert.match(text, /v=DKIM1; k=ed25519/);
    assert.match(text, /_dmarc\.shop\.example/);
    assert.match(text, /v=spf1/);
    assert.ok(await table.getByRole('button', { name: /^Copy / }).count() >= 10);
    await page.getByText('Not checked yet').waitFor();
    await shot(page, 'domain');
  });

  it('shows a message sent to the sandbox, rendered and raw', async () => {
    const sent = await t.api('POST', '/v1/messages', { token: tenantToken, body: {
      from: { email: 'orders@shop.example', name: 'Shop' }, to: ['alice@example.org'], subject: 'Your order 1234',
      html: '<h1>Thank you</h1><p>Your order <b>1234</b> is on its way.</p>', text: 'Thank you. Your order 1234 is on its way.',
    } });
    assert.equal(sent.status, 202, sent.text);
    await page.getByRole('link', { name: 'Sandbox' }).click();
    await page.getByRole('link', { name: 'Your order 1234' }).click();
    await page.getByRole('heading', { name: 'Your order 1234' }).waitFor();
    const frame = page.frameLocator('iframe[title="Rendered message"]');
    await frame.getByText('is on its way').waitFor();
    assert.equal(await page.locator('iframe[title="Rendered message"]').getAttribute('sandbox'), '');
    await shot(page, 'sandbox-message');
    await page.getByRole('tab', { name: 'Raw source' }).click();
    assert.match(await page.getByLabel('Raw source').innerText(), /DKIM-Signature: /);
  });

  it('adds a suppression, finds it, and lifts it with a reason', async () => {
    await page.getByRole('link', { name: 'Suppressions' }).click();
    const form = page.getByRole('form', { name: 'Suppress an address' });
    await form.getByLabel('Address').fill('angry@example.org');
    await form.getByLabel('Reason').selectOption('complaint');
    await form.getByLabel('Note (optional)').fill('phoned support');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await page.getByRole('status').filter({ hasText: 'angry@example.org is suppressed' }).waitFor();
    await page.getByLabel('Search addresses').fill('angry');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row').filter({ hasText: 'angry@example.org' });
    await row.getByText('complaint').waitFor();
    await shot(page, 'suppressions');
    const api = await t.api('GET', '/v1/suppressions?q=angry', { token: tenantToken });
    assert.equal(api.body.data[0].reason, 'complaint');

    await row.getByRole('button', { name: 'Remove angry@example.org' }).click();
    await page.getByLabel('Why may this address be mailed again?').fill('the complaint was a mistake, confirmed by phone');
    await page.getByRole('button', { name: 'Remove suppression' }).click();
    await page.getByRole('status').filter({ hasText: 'may be mailed again' }).waitFor();
    assert.equal((await t.api('GET', '/v1/suppressions?q=angry', { token: tenantToken })).body.data.length, 0);
  });

  it('creates an API key that works, and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys & users' }).click();
    await page.getByLabel('Label of the new key').fill('newsletter app');
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = (await page.getByTestId('new-token').innerText()).trim();
    assert.equal((await t.api('GET', '/v1/domains', { token })).status, 200);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: /^Revoke newsletter app/ }).click();
    await page.getByRole('row').filter({ hasText: 'newsletter app' }).getByText('revoked').waitFor();
    assert.equal((await t.api('GET', '/v1/domains', { token })).status, 401);
  });

  it('fits 1280 and 390 px without horizontal scrolling', async () => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const link of ['Campaigns', 'Contacts', 'Suppressions', 'Domains', 'Sandbox', 'Feedback', 'Reputation', 'Webhooks', 'API keys & users']) {
        if (width < 700) await page.getByRole('button', { name: 'Menu' }).click();
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
        await page.getByRole('heading', { level: 1 }).waitFor();
        assert.equal(await overflows(page), false, `${link} at ${width} px scrolls sideways`);
      }
      await page.goto('/#/domains');
      await page.getByRole('link', { name: 'shop.example' }).click();
      await page.getByRole('heading', { name: 'DNS records to publish' }).waitFor();
      assert.equal(await overflows(page), false, `the domain page at ${width} px scrolls sideways`);
      if (width === 390) await shot(page, 'domain-390');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

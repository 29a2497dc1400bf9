// A campaign from the dashboard in Chromium: created from a template for a
// list, previewed as a contact, test-sent, submitted and sent to the sandbox
// and the mailbox simulator, while the live view's counters move to the
// end; then the reputation view shows the bounces against their line, and
// a suppression added in the dashboard is skipped by the next campaign.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { browserSkip, launch, PASSWORD, shot, tenantPage } from './browser.ts';

const skip = browserSkip();
if (skip) console.log(`# skipping the campaign browser tests: ${skip}`);

const MJML = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ contact.first_name | default: "there" }},</mj-text>
<mj-text>Our autumn collection is here: warm coats and scarves, made in Lyon.</mj-text>
<mj-button href="https://shop.example/autumn">See the collection</mj-button>
</mj-column></mj-section></mj-body></mjml>`;
const consent = { source: 'form', optIn: 'double', collectedAt: '2026-10-01T08:00:00Z', confirmedAt: '2026-10-01T08:05:00Z', ip: '203.0.113.50' };
const DELIVERED = ['ann@customer.example', 'bob@customer.example', 'cec@customer.example', 'delivered+1@simulator.envoi.test', 'delivered+2@simulator.envoi.test'];
const BOUNCED = ['bounce+1@simulator.envoi.test', 'bounce+2@simulator.envoi.test', 'bounce+3@simulator.envoi.test'];

describe('a campaign from the dashboard in Chromium', { skip }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [t, browser] = await Promise.all([startTestApp('sqlite', { reputation: { pollMs: 200 } } as never), launch()]);
    const shop = await tenantWithDomain(t, 'shop', 'shop.example');
    const api = async (m: string, p: string, body?: unknown) => {
      const r = await t.api(m, p, { token: shop.token, body });
      assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
      return r.body;
    };
    await api('PUT', '/v1/profile', { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' });
    await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Send me Shop News', optIn: 'double' });
    for (const [i, email] of [...DELIVERED, ...BOUNCED].entries()) await api('POST', '/v1/lists/news/subscriptions', { email, fields: i % 2 ? { first_name: `Reader${i}` } : {}, consent });
    await api('POST', '/v1/templates', { name: 'autumn', format: 'mjml', subject: 'The autumn collection, {{ contact.first_name | default: "friend" }}', body: MJML });
    await api('POST', '/v1/users', { email: 'kim@shop.example', password: PASSWORD });
    page = await tenantPage(browser, t, 'kim@shop.example');
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates, previews, test-sends and sends a campaign while the counters move', async () => {
    await page.getByRole('link', { name: 'New campaign' }).click();
    const form = page.getByRole('form', { name: 'New campaign' });
    await form.getByLabel('Name').fill('Autumn 2026');
    await form.getByLabel('Template').selectOption('autumn');
    await form.getByLabel('news').check();
    await form.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('heading', { name: 'Autumn 2026' }).waitFor();

    await page.getByLabel('As contact (address; empty: a sample)').fill('bob@customer.example');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.getByText('Subject: The autumn collection, Reader1').waitFor();
    await page.frameLocator('iframe[title="Rendered message"]').getByText('warm coats and scarves').waitFor();

    await page.getByLabel('To (up to 10 addresses)').fill('me@shop.example');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('status').filter({ hasText: 'Test sent to me@shop.example' }).waitFor();

    const counter = (k: string) => page.locator(`[data-counter="${k}"]`).innerText();
    assert.equal(await counter('total'), '0');
    await page.getByRole('button', { name: 'Submit for sending' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    // the live view polls: the counters reach the end without a reload
    await page.waitForFunction(([d, b]) => document.querySelector('[data-counter="delivered"]')?.textContent === d && document.querySelector('[data-counter="bounced"]')?.textContent === b,
      [String(DELIVERED.length), String(BOUNCED.length)], { timeout: 30_000 });
    assert.equal(await counter('total'), String(DELIVERED.length + BOUNCED.length));
    await page.getByText('completed', { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.getByRole('cell', { name: /simulator|default|other/ }).first().waitFor({ timeout: 15_000 }).catch(() => {});
    await shot(page, 'campaign');

    const sandbox = await t.api('GET', '/v1/sandbox/messages?limit=50', { token: t.operatorToken });
    assert.ok(sandbox.body.data.some((m: { rcpt_to: string }) => m.rcpt_to === 'me@shop.example'), 'the test send is in the sandbox');
  });

  it('shows the bounces against their threshold in the reputation view', async () => {
    await page.getByRole('link', { name: 'Reputation' }).click();
    const chart = page.getByRole('img', { name: /^Bounces per day/ });
    await chart.waitFor();
    // the rollup runs every 200 ms here: reload until today's bounce rate is in
    for (let i = 0; i < 40 && !/crossed/.test((await chart.getAttribute('aria-label')) ?? ''); i++) {
      await page.waitForTimeout(300);
      await page.getByRole('combobox', { name: 'Days', exact: true }).selectOption(i % 2 ? '30' : '7');
    }
    assert.match((await chart.getAttribute('aria-label')) ?? '', /crossed/);
    await page.getByRole('combobox', { name: 'Days', exact: true }).selectOption('7');
    await page.getByRole('img', { name: /^Bounces per day over 7 days/ }).waitFor();
    await shot(page, 'reputation');
  });

  it('skips a suppression added in the dashboard, and the hard bounces, in the next campaign', async () => {
    await page.getByRole('link', { name: 'Suppressions' }).click();
    const form = page.getByRole('form', { name: 'Suppress an address' });
    await form.getByLabel('Address').fill('ann@customer.example');
    await form.getByLabel('Reason').selectOption('manual');
    await form.getByRole('button', { name: 'Suppress' }).click();
    await page.getByRole('status').filter({ hasText: 'ann@customer.example is suppressed' }).waitFor();

    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    const create = page.getByRole('form', { name: 'New campaign' });
    await create.getByLabel('Name').fill('Winter 2026');
    await create.getByLabel('Template').selectOption('autumn');
    await create.getByLabel('news').check();
    await create.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('heading', { name: 'Winter 2026' }).waitFor();
    await page.getByRole('button', { name: 'Submit for sending' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    // the four still mailable: not ann (suppressed here), not the three hard bounces of the first campaign
    await page.waitForFunction((d) => document.querySelector('[data-counter="delivered"]')?.textContent === d, String(DELIVERED.length - 1), { timeout: 30_000 });
    await page.getByText('completed', { exact: true }).first().waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-counter="total"]').innerText(), String(DELIVERED.length - 1));
    const sandbox = (await t.api('GET', '/v1/sandbox/messages?limit=100', { token: t.operatorToken })).body.data as { rcpt_to: string; subject: string }[];
    const toAnn = sandbox.filter((m) => m.rcpt_to === 'ann@customer.example');
    assert.equal(toAnn.length, 1, 'ann got the first campaign only');
  });
});

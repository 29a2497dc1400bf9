// Composing a template in Chromium: the content lint's findings appear beside
// the editor as the author types and go away once the text is fixed, the
// preview follows for a chosen contact at desktop and phone width, and what
// is saved (then saved again as a new version) is what the API returns; a
// campaign started from the template is test-sent to the sandbox.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { browserSkip, launch, overflows, PASSWORD, shot, tenantPage } from './browser.ts';

const skip = browserSkip();
if (skip) console.log(`# skipping the compose browser tests: ${skip}`);

const consent = { source: 'form', optIn: 'double', collectedAt: '2026-10-01T08:00:00Z', confirmedAt: '2026-10-01T08:05:00Z', ip: '203.0.113.50' };
// the link text shows one site and the link leads to another: the lint's link.text-mismatch
const body = (linkText: string) => `<p>Hello {{ contact.first_name | default: "there" }},</p>
<p>Our autumn collection is here: warm coats and scarves, made in Lyon.</p>
<p><a href="https://tracker.example/autumn">${linkText}</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`;
const SUBJECT = 'The autumn collection, {{ contact.first_name | default: "friend" }}';

describe('composing a template in Chromium', { skip }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let token: string;

  before(async () => {
    [t, browser] = await Promise.all([startTestApp('sqlite'), launch()]);
    const shop = await tenantWithDomain(t, 'shop', 'shop.example');
    token = shop.token;
    const api = async (m: string, p: string, b?: unknown) => {
      const r = await t.api(m, p, { token, body: b });
      assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
    };
    await api('PUT', '/v1/profile', { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris, France', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example' });
    await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'Send me Shop News', optIn: 'double' });
    // a list whose From name shows another site: the lint's from.name-domain, once the sender is checked too
    await api('POST', '/v1/lists', { name: 'promo', fromAddress: 'promo@shop.example', fromName: 'Deals at www.other-shop.example', consentText: 'Send me deals', optIn: 'single' });
    await api('POST', '/v1/lists/news/subscriptions', { email: 'ann@customer.example', fields: { first_name: 'Ann' }, consent });
    await api('POST', '/v1/users', { email: 'kim@shop.example', password: PASSWORD });
    page = await tenantPage(browser, t, 'kim@shop.example');
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows a lint finding as you type, clears it once fixed, previews for a contact and saves', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByText('No template yet.').waitFor();
    await page.getByRole('link', { name: 'New template' }).click();
    const form = page.getByRole('form', { name: 'New template' });
    await form.getByLabel('Template name').fill('autumn');
    await form.getByLabel('Format').selectOption('html');
    await form.getByLabel('Subject').fill(SUBJECT);
    const editor = form.getByRole('textbox', { name: /^Body/ });
    await editor.fill(body('www.shop.example/autumn'));
    const checks = page.getByRole('complementary', { name: /Content checks/ });
    const mismatch = checks.locator('[data-finding="link.text-mismatch"]');
    await mismatch.waitFor();
    assert.match(await mismatch.innerText(), /shows www\.shop\.example but the link goes to tracker\.example/);

    const frame = page.frameLocator('iframe[title="Rendered message"]');
    await frame.getByText('Hello Alex,').waitFor(); // the sample contact
    // a body that does not compile says where, beside the editor, and keeps the last preview
    await form.getByLabel('Format').selectOption('mjml');
    await checks.getByRole('alert').filter({ hasText: /body line \d+/ }).waitFor();
    await form.getByLabel('Format').selectOption('html');
    await checks.getByRole('alert').waitFor({ state: 'detached' });
    await mismatch.waitFor();
    await form.getByLabel('Preview as contact').fill('ann@customer.example');
    await frame.getByText('Hello Ann,').waitFor();
    await page.getByText('Subject: The autumn collection, Ann').waitFor();
    // the main screenshot: the finding beside the editor, the preview for Ann
    // tall enough for the whole editor: Chromium does not paint a frame outside the viewport, even for a full-page shot
    await page.setViewportSize({ width: 1280, height: 1600 });
    await page.waitForTimeout(300);
    await shot(page, 'compose');
    await page.setViewportSize({ width: 1280, height: 900 });

    // fix the link text by typing over it
    await editor.fill(body(''));
    await editor.evaluate((el: HTMLTextAreaElement) => {
      const at = el.value.indexOf('</a>');
      el.setSelectionRange(at, at);
    });
    await editor.pressSequentially('See the coats', { delay: 20 });
    await mismatch.waitFor({ state: 'detached' });
    await frame.getByRole('link', { name: 'See the coats' }).waitFor();
    assert.equal(await checks.locator('[data-finding="link.text-mismatch"]').count(), 0);

    const sender = checks.locator('[data-finding="from.name-domain"]');
    assert.equal(await sender.count(), 0, 'the content only: no sender finding');
    await checks.getByLabel('Check the sender too').selectOption({ label: 'promo: Deals at www.other-shop.example <promo@shop.example>' });
    await sender.waitFor();
    await checks.getByLabel('Check the sender too').selectOption('');
    await sender.waitFor({ state: 'detached' });

    const iframe = page.locator('iframe[title="Rendered message"]');
    const desktop = (await iframe.boundingBox())!.width;
    await form.getByLabel('Mobile (375 px)').check();
    await page.waitForFunction(() => (document.querySelector('iframe[title="Rendered message"]') as HTMLElement).getBoundingClientRect().width <= 375);
    assert.ok(desktop > 375, `the desktop preview is wider (${desktop} px)`);
    assert.equal(await overflows(page), false, 'the editor at 1280 px scrolls sideways');

    await form.getByRole('button', { name: 'Save template' }).click();
    await page.getByRole('heading', { name: 'Template autumn' }).waitFor();
    const saved = await t.api('GET', '/v1/templates/autumn', { token });
    assert.equal(saved.status, 200);
    assert.equal(saved.body.version, 1);
    assert.equal(saved.body.format, 'html');
    assert.equal(saved.body.subject, SUBJECT);
    assert.equal(saved.body.body, body('See the coats'));
  });

  it('saves an edit as a new version and lists it', async () => {
    const form = page.getByRole('form', { name: 'Edit template autumn' });
    await form.getByLabel('Subject').fill('Warm coats for {{ contact.first_name | default: "you" }}');
    await page.getByText('Subject: Warm coats for Alex').waitFor();
    await form.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    const latest = await t.api('GET', '/v1/templates/autumn', { token });
    assert.equal(latest.body.version, 2);
    assert.equal(latest.body.subject, 'Warm coats for {{ contact.first_name | default: "you" }}');
    assert.equal((await t.api('GET', '/v1/templates/autumn?version=1', { token })).body.subject, SUBJECT, 'a version never changes');
    // the older version opens in the editor
    await form.getByLabel('Version').selectOption('1');
    await page.getByText('Subject: The autumn collection, Alex').waitFor();

    await page.frameLocator('iframe[title="Rendered message"]').getByText('Hello Alex,').waitFor();
    await page.setViewportSize({ width: 390, height: 900 });
    assert.equal(await overflows(page), false, 'the editor at 390 px scrolls sideways');
    await shot(page, 'compose-390');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('cell', { name: 'autumn' }).waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'autumn' }).getByRole('cell').nth(2).innerText(), '2');
    assert.equal(await overflows(page), false, 'the template list at 390 px scrolls sideways');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('starts a campaign from the template and test-sends it to the sandbox', async () => {
    await page.getByRole('link', { name: 'autumn' }).click();
    await page.getByRole('link', { name: 'New campaign with it' }).click();
    const form = page.getByRole('form', { name: 'New campaign' });
    await form.locator('option[value="autumn"]').waitFor({ state: 'attached' }); // the templates are loaded
    assert.equal(await form.getByLabel('Template').inputValue(), 'autumn');
    await form.getByLabel('Name').fill('Autumn coats');
    await form.getByLabel('news').check();
    await form.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('heading', { name: 'Autumn coats' }).waitFor();
    await page.getByLabel('To (up to 10 addresses)').fill('me@shop.example');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('status').filter({ hasText: 'Test sent to me@shop.example' }).waitFor();
    // a test send is queued (202): delivery to the sandbox follows
    await eventually(async () => (await t.api('GET', '/v1/sandbox/messages?limit=50', { token: t.operatorToken })).body.data.some((m: { rcpt_to: string }) => m.rcpt_to === 'me@shop.example'));
  });
});

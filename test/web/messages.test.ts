// Deliveries, settings and an operator's decision in Chromium: a tenant
// finds the message that bounced at the mailbox simulator by its recipient
// and reads the receiving server's reply; another tenant's message id is
// "not found"; the sender profile refuses a bad phone number next to the
// field, then saves; a stream with a bad bounce label likewise; an operator
// suspends a tenant with a reason and resumes it, and the API agrees; every
// new page fits 1280 and 390 px. Then, delivering for real to a scripted
// SMTP peer, a refusal at RCPT shows the SMTP transcript (AF-20).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { createUsers } from '../../src/web/users.ts';
import { browserSkip, launch, open, overflows, PASSWORD, shot, signIn, tenantPage } from './browser.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startPeer, type Peer } from '../peers/smtp-peer.ts';
import { zoneFromRecords } from '../helpers/zone.ts';

const skip = browserSkip();
if (skip) console.log(`# skipping the messages browser tests: ${skip}`);

const BOUNCE = 'bounce+1@simulator.envoi.test';

describe('messages, settings and suspensions in Chromium', { skip }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let shop: Awaited<ReturnType<typeof tenantWithDomain>>;
  let other: Awaited<ReturnType<typeof tenantWithDomain>>;
  let bounced = '';
  let theirs = '';

  before(async () => {
    [t, browser] = await Promise.all([startTestApp('sqlite'), launch()]);
    shop = await tenantWithDomain(t, 'shop', 'shop.example');
    other = await tenantWithDomain(t, 'other', 'other.example');
    const send = async (token: string, from: string, to: string, subject: string) => {
      const r = await t.api('POST', '/v1/messages', { token, body: { from: { email: from }, to: [to], subject, text: 'Thank you for your order.' } });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    await send(shop.token, 'orders@shop.example', 'ann@customer.example', 'Order 1 confirmed');
    bounced = await send(shop.token, 'orders@shop.example', BOUNCE, 'Order 2 confirmed');
    await send(shop.token, 'orders@shop.example', 'bob@customer.example', 'Order 3 confirmed');
    theirs = await send(other.token, 'hello@other.example', 'ann@customer.example', 'Not yours');
    await eventually(async () => (await t.api('GET', `/v1/messages/${bounced}`, { token: shop.token })).body.recipients?.[0]?.status === 'bounced');

    const users = createUsers(t.app.store.db, t.app.clock);
    assert.ok((await users.create({ email: 'ops@example.org', password: PASSWORD, tenantId: null })).ok);
    assert.equal((await t.api('POST', '/v1/users', { token: shop.token, body: { email: 'kim@shop.example', password: PASSWORD } })).status, 201);
    page = await tenantPage(browser, t, 'kim@shop.example');
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('finds the bounced message by its recipient and shows the bounce with the reply', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Recipient address or message id').fill(BOUNCE);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Order 2 confirmed' });
    await row.getByText('bounced').waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'Order 1 confirmed' }).count(), 0, 'only the messages to that address');
    await row.getByRole('link', { name: 'Order 2 confirmed' }).click();

    await page.getByRole('heading', { name: 'Order 2 confirmed', level: 1 }).waitFor();
    const rcpt = page.getByRole('region', { name: `Recipient ${BOUNCE}` });
    await rcpt.getByText('bounced').first().waitFor();
    const story = await rcpt.innerText();
    assert.equal(await rcpt.locator('.reply code').innerText(), '550 5.1.1 <bounce+1@simulator.envoi.test>: Recipient address rejected: User unknown');
    assert.match(await page.locator('main').innerText(), /accepted/);
    assert.match(story, /unknown-user, hard/);
    assert.match(await page.locator('.meta').innerText(), new RegExp(bounced));
    await shot(page, 'message');
  });

  it('finds a message by its id, and another tenant\'s message is not found', async () => {
    await page.goto('/#/messages');
    await page.getByLabel('Recipient address or message id').fill(bounced);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Order 2 confirmed' }).waitFor();

    await page.getByLabel('Recipient address or message id').fill(theirs);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No message matches.').waitFor();
    await page.goto(`/#/messages/${theirs}`);
    await page.getByRole('alert').filter({ hasText: 'Message not found in this account.' }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /Not yours|other\.example/);
  });

  it('edits the sender profile: a bad phone is refused next to the field, a good one saves', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const form = page.getByRole('form', { name: 'Sender profile' });
    await form.getByLabel('Organisation', { exact: true }).fill('Shop SARL');
    await form.getByLabel('Postal address').fill('12 rue de la Paix, 75002 Paris, France');
    await form.getByLabel('Phone').fill('call me maybe');
    await form.getByLabel('Organisation domain').fill('shop.example');
    await form.getByLabel('Time zone').fill('Europe/Paris');
    await form.getByRole('button', { name: 'Save profile' }).click();
    const phone = form.getByLabel('Phone');
    await form.locator('.field-error').filter({ hasText: 'phone: digits' }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), 'true');
    assert.equal(await form.getByRole('alert').count(), 0, 'the refusal is beside the field, not in a banner');
    assert.equal((await t.api('GET', '/v1/profile', { token: shop.token })).status, 404);
    await shot(page, 'settings-error');

    await phone.fill('+33 1 23 45 67 89');
    await form.getByRole('button', { name: 'Save profile' }).click();
    await form.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), null);
    const saved = await t.api('GET', '/v1/profile', { token: shop.token });
    assert.equal(saved.body.phone, '+33 1 23 45 67 89');
    assert.equal(saved.body.timezone, 'Europe/Paris');
  });

  it('adds a stream: a bad bounce label is refused next to the field, a good one saves', async () => {
    const form = page.getByRole('form', { name: 'Add a stream' });
    await form.getByLabel('Stream name').fill('news');
    await form.getByLabel('Kind').selectOption('marketing');
    await form.getByLabel('Bounce label').fill('Bad Label!');
    await form.getByRole('button', { name: 'Add stream' }).click();
    await form.locator('.field-error').filter({ hasText: 'bounceLabel must be one DNS label' }).waitFor();
    assert.equal(await form.getByLabel('Bounce label').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('Bounce label').fill('bounce-news');
    await form.getByRole('button', { name: 'Add stream' }).click();
    await page.getByRole('status').filter({ hasText: 'Stream news saved.' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'bounce-news' }).waitFor();
    const streams = (await t.api('GET', '/v1/streams', { token: shop.token })).body.data as { name: string; kind: string; bounceLabel: string }[];
    assert.deepEqual(streams.find((s) => s.name === 'news'), { ...streams.find((s) => s.name === 'news'), kind: 'marketing', bounceLabel: 'bounce-news' });
  });

  it('fits 1280 and 390 px: the search, a message, the settings', async () => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [path, heading] of [[`/#/messages?q=${encodeURIComponent(BOUNCE)}`, 'Messages'], [`/#/messages/${bounced}`, 'Order 2 confirmed'], ['/#/settings', 'Settings']]) {
        await page.goto(path);
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        if (path.includes('q=')) await page.getByRole('link', { name: 'Order 2 confirmed' }).waitFor();
        assert.equal(await overflows(page), false, `${path} at ${width} px scrolls sideways`);
      }
      if (width === 390) await shot(page, 'settings-390');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('an operator suspends a tenant with a reason and resumes it; the API agrees', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, 'ops@example.org');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    const statusOf = async () => ((await t.api('GET', '/v1/tenants', { token: t.operatorToken })).body.data as { name: string; status: string }[]).find((x) => x.name === 'other')!.status;
    const before = await statusOf();
    assert.notEqual(before, 'suspended');

    await page.getByRole('link', { name: 'Reputation, suspend or resume: other' }).click();
    const suspend = page.getByRole('form', { name: 'Suspend other' });
    await suspend.getByLabel('Reason for the suspension').fill('phishing reported by three receivers');
    await suspend.getByRole('button', { name: 'Suspend other' }).click();
    const resume = page.getByRole('form', { name: 'Resume other' });
    await resume.getByText('phishing reported by three receivers').waitFor();
    assert.equal(await statusOf(), 'suspended');
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.equal(await overflows(page), false, `the reputation page with a suspension at ${width} px scrolls sideways`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'tenant-suspended');

    await page.goto('/#/tenants');
    await page.getByRole('link', { name: 'Reputation, suspend or resume: other' }).filter({ hasText: 'Why, resume…' }).click();
    await resume.getByLabel('Note (kept with the decision)').fill('the receivers confirmed it was a forged From');
    await resume.getByRole('button', { name: 'Resume other' }).click();
    await page.getByRole('form', { name: 'Suspend other' }).waitFor();
    assert.equal(await statusOf(), 'active');
    const actions = (await t.api('GET', '/v1/reputation/actions', { token: t.operatorToken })).body.data as { reason?: string }[];
    assert.ok(actions.some((a) => /forged From/.test(a.reason ?? '')), 'the note is kept with the decision');
  });
});

describe('a refusal by a real SMTP server, with its transcript, in Chromium', { skip }, () => {
  let t: TestApp;
  let dns: DnsServer;
  let peer: Peer;
  let browser: Browser;

  before(async () => {
    const ca = await createTestCa();
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
    fs.writeFileSync(caFile, ca.caPem);
    peer = await startPeer({ host: '127.0.0.4', tls: await ca.issue(['mx.bounce.test']),
      script: { onRcptTo: (a) => (a.startsWith('nobody@') ? { code: 550, text: '5.1.1 The email account that you tried to reach does not exist.' } : undefined) } });
    dns = await startDnsServer({ 'bounce.test': { MX: [{ exchange: 'mx.bounce.test', priority: 10 }] }, 'mx.bounce.test': { A: ['127.0.0.4'] } });
    [t, browser] = await Promise.all([
      startTestApp('sqlite', { hostname: 'mta.envoi.test', dns: { servers: [dns.address] }, delivery: { mode: 'smtp', port: peer.port, caFile, pollMs: 50 } } as never),
      launch(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await dns?.close();
    await peer?.close();
  });

  it('shows the reply and the SMTP transcript of a refusal at RCPT', async () => {
    const acme = await tenantWithDomain(t, 'acme', 'shop.example');
    for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
    assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
    const sent = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: ['nobody@bounce.test'], subject: 'Your invoice', text: 'hello' } });
    assert.equal(sent.status, 202, sent.text);
    await eventually(async () => (await t.api('GET', `/v1/messages/${sent.body.id}`, { token: acme.token })).body.recipients?.[0]?.status === 'bounced', 20_000);
    assert.equal((await t.api('POST', '/v1/users', { token: acme.token, body: { email: 'lea@shop.example', password: PASSWORD } })).status, 201);

    const { page } = await open(browser, t);
    await signIn(page, 'lea@shop.example');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.goto('/#/messages?q=NOBODY%40bounce.test');
    await page.getByRole('link', { name: 'Your invoice' }).click();
    const rcpt = page.getByRole('region', { name: 'Recipient nobody@bounce.test' });
    await rcpt.getByText('bounced').first().waitFor();
    // the reply once, though the client recorded the whole line with its codes
    assert.equal(await rcpt.locator('.reply code').innerText(), '550 5.1.1 The email account that you tried to reach does not exist.');
    assert.match(await rcpt.innerText(), /at mx\.bounce\.test \(127\.0\.0\.4\) · during rcpt/);
    await rcpt.getByText('SMTP transcript').click();
    const transcript = await rcpt.getByLabel('SMTP transcript').innerText();
    assert.match(transcript, /EHLO mta\.envoi\.test/);
    assert.match(transcript, /RCPT TO:<nobody@bounce\.test>/);
    assert.match(transcript, /550 5\.1\.1 The email account/);
    await rcpt.getByText('Message headers').click();
    assert.match(await rcpt.innerText(), /Subject: Your invoice/);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.equal(await overflows(page), false, `the transcript at ${width} px scrolls sideways`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'message-transcript');
  });
});

// Debian's Chromium driven by playwright-core, against a whole envoi started
// by the test (test/helpers/app.ts). Outside CI, a machine without
// /usr/bin/chromium skips the browser tests with a note; in CI they must run
// (.ci/run installs chromium).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';

export const CHROMIUM = process.env.ENVOI_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test-artifacts');
export const PASSWORD = 'correct horse battery staple';

/** The reason to skip, or false to run. Throws in CI, where skipping would hide a missing install. */
export function browserSkip(): string | false {
  if (fs.existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: .ci/run installs Debian's chromium`);
  return `no ${CHROMIUM}: install Debian's chromium (apt-get install chromium) to run the browser tests`;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/** A browser context on the app's HTTPS origin (its certificate is self-signed). */
export async function open(browser: Browser, t: TestApp, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, baseURL: `https://localhost:${t.app.ports.http}` });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  return { context, page };
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A new page with a tenant user signed in, on the first page of their navigation (Campaigns). */
export async function tenantPage(browser: Browser, t: TestApp, email: string): Promise<Page> {
  const { page } = await open(browser, t);
  await signIn(page, email);
  await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
  return page;
}

export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** True when the page is wider than the viewport (horizontal scrolling). */
export const overflows = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);

// What the interaction tests (timeline.test.mjs, events.test.mjs) share: one
// Debian Chromium (headless, playwright-core), a fresh context per test in
// zh-CN and Asia/Shanghai, and a check after each test that the page logged
// no console error, page error or missing translation — other than the HTTP
// failures a test provokes on purpose (Chromium logs those as console errors).

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
export const TIMEOUT_MS = 10000;
const EXPECTED_401 = [/\/api\/v1\/me$/, /\/api\/v1\/auth\/login$/];

export function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** allow: [{status, url}] HTTP failures the test provokes on purpose. */
function forgiven(msg, allow) {
  const m = /status of (\d{3})/.exec(msg.text());
  if (!m) return false;
  const status = Number(m[1]);
  const url = msg.location().url || '';
  if (status === 401 && EXPECTED_401.some((re) => re.test(url))) return true;
  return allow.some((a) => a.status === status && a.url.test(url));
}

/** Runs fn(page, context) in a fresh context of browser, then fails on the
 *  page's console errors, page errors or missing translations. */
export async function withPage(browser, fn, { allow = [] } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !forgiven(msg, allow)) problems.push(`console error: ${msg.text()} [${msg.location().url}]`);
    if (msg.type() === 'warning' && /i18n: missing key/.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  try {
    await fn(page, context);
  } catch (err) {
    if (problems.length) err.message += `\nbrowser problems:\n${problems.join('\n')}`;
    throw err;
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], 'the page logged errors');
}

export async function signIn(page, base, login, password) {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/login$/);
  await page.fill('#login-name', login);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForURL(/#\/home$/), page.click('#login-form button[type=submit]')]);
  await page.locator('.topbar .user-name').waitFor();
}

export const navLink = (page, route) => page.locator(`nav.sidenav a[data-route="${route}"]`);

/** Retries check (which asserts) until it passes or ms pass. */
export async function eventually(check, ms = TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** An element's text as shown (blocks and flex items apart), white space folded. */
export const text = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();

/** RFC 3339 in China's zone (+08:00) for a moment ms since the epoch, to the second. */
export function cst(ms) {
  const d = new Date(ms + 8 * 3600 * 1000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}

/** Events as an NDJSON body. */
export const ndjson = (events) => `${events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n')}\n`;

// Browser tests of the UI shell in Debian's headless Chromium (playwright-core):
// sign-in errors, landing on home, the activity chart, the language switch,
// role-based navigation and no-access, and sign-out. Every test fails on any
// console error or page error (CSP violations included).
//
// Uses the server at MEDREACH_URL with MEDREACH_ADMIN_LOGIN / _PASSWORD, or,
// when MEDREACH_URL is unset, starts a private one (see server.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const TIMEOUT_MS = 10000;

// Requests whose 401 is part of the flow (not signed in yet, wrong password);
// Chromium logs those as console errors, and only those are forgiven.
const EXPECTED_401 = [/\/api\/v1\/me$/, /\/api\/v1\/auth\/login$/];

let server = null;
let browser = null;
let base = '';
let admin = null;

before(async () => {
  if (process.env.MEDREACH_URL) {
    base = process.env.MEDREACH_URL.replace(/\/+$/, '');
    admin = { login: process.env.MEDREACH_ADMIN_LOGIN, password: process.env.MEDREACH_ADMIN_PASSWORD };
    assert.ok(admin.login && admin.password, 'MEDREACH_ADMIN_LOGIN and MEDREACH_ADMIN_PASSWORD must be set with MEDREACH_URL');
  } else {
    server = await startServer();
    base = server.url;
    admin = { login: server.login, password: server.password };
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

function isExpected401(msg) {
  if (!/status of 401/.test(msg.text())) return false;
  const url = msg.location().url || '';
  return EXPECTED_401.some((re) => re.test(url));
}

/** Runs fn(page, context) in a fresh browser context (own cookies and
 *  storage), then fails if the page logged an error or threw. */
async function withPage(fn) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !isExpected401(msg)) problems.push(`console error: ${msg.text()} [${msg.location().url}]`);
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

async function openLogin(page) {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/login$/);
  await page.locator('#login-form').waitFor();
}

async function signIn(page, login, password) {
  await openLogin(page);
  await page.fill('#login-name', login);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForURL(/#\/home$/), page.click('#login-form button[type=submit]')]);
  await page.locator('.topbar .user-name').waitFor();
}

function navLink(page, route) {
  return page.locator(`nav.sidenav a[data-route="${route}"]`);
}

/** fetch() inside the page, so the session cookie is the page's own. */
function pageFetch(page, path, { method = 'GET', body } = {}) {
  return page.evaluate(async ({ path: p, method: m, body: b }) => {
    const headers = { 'Content-Type': 'application/json' };
    if (m !== 'GET') {
      const me = await (await fetch('/api/v1/me')).json();
      headers['X-CSRF-Token'] = me.csrf_token;
    }
    const res = await fetch(p, { method: m, headers, body: b === undefined ? undefined : JSON.stringify(b) });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json };
  }, { path, method, body });
}

test('a wrong password shows the error, in the user\'s language, in the login form and stays on login', async () => {
  await withPage(async (page) => {
    await openLogin(page);
    await page.fill('#login-name', admin.login);
    await page.fill('#login-password', `${admin.password}-wrong`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
      page.click('#login-form button[type=submit]'),
    ]);
    assert.equal(res.status(), 401);
    const body = await res.json();
    assert.equal(body.error.code, 'invalid_credentials');
    assert.ok(body.error.message, 'the server gives a message');
    // shown in the UI's language (Chinese by default), the server's English kept as the tooltip
    const alert = page.locator('#login-form [role="alert"]', { hasText: '登录名或密码错误' });
    await alert.waitFor();
    assert.equal(await alert.locator('[title]').getAttribute('title'), body.error.message);
    assert.match(page.url(), /#\/login$/);
    assert.equal(await page.locator('nav.sidenav').count(), 0, 'no navigation before signing in');
  });
});

test('signing in lands on home with the user\'s name and the admin navigation', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    const me = await pageFetch(page, '/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.role, 'admin');
    const name = me.json.name || me.json.login;
    assert.equal((await page.locator('.topbar .user-name').textContent()).trim(), name);
    await page.locator('#welcome h1', { hasText: name }).waitFor();
    assert.equal((await navLink(page, 'users').textContent()).trim(), '用户管理');
    assert.equal((await navLink(page, 'audit').textContent()).trim(), '审计追踪');
    assert.equal(await navLink(page, 'home').count(), 1);
    assert.equal(await navLink(page, 'tokens').count(), 1);
  });
});

test('the home page draws the activity chart for an admin', async () => {
  await withPage(async (page) => {
    const summary = page.waitForResponse((r) => r.url().includes('/api/v1/audit/summary'));
    await signIn(page, admin.login, admin.password);
    const res = await summary;
    assert.equal(res.status(), 200);
    const days = (await res.json()).days;
    assert.equal(days.length, 14);
    const drawn = page.locator('#activity-chart canvas, #activity-chart svg').first();
    await drawn.waitFor({ state: 'visible' });
    const box = await drawn.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `chart has a usable size: ${JSON.stringify(box)}`);
  });
});

test('switching to English changes the navigation and survives a reload', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    assert.equal((await navLink(page, 'users').textContent()).trim(), '用户管理');
    await page.selectOption('#lang-switch', 'en');
    await navLink(page, 'users').filter({ hasText: /^Users$/ }).waitFor();
    assert.equal((await navLink(page, 'audit').textContent()).trim(), 'Audit trail');
    assert.equal((await navLink(page, 'home').textContent()).trim(), 'Home');
    assert.equal(await page.evaluate(() => localStorage.getItem('medreach.lang')), 'en');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');

    await page.reload();
    await navLink(page, 'users').waitFor();
    assert.equal((await navLink(page, 'users').textContent()).trim(), 'Users');
    assert.equal((await page.locator('#logout').textContent()).trim(), 'Sign out');
    assert.equal(await page.inputValue('#lang-switch'), 'en');
  });
});

test('a field rep sees no Users item and gets no-access on #/users', async () => {
  const rep = { login: `rep_${randomBytes(4).toString('hex')}`, password: `Rep-${randomBytes(9).toString('base64url')}-7` };
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    const created = await pageFetch(page, '/api/v1/users', {
      method: 'POST',
      body: { login: rep.login, name: '李代表', role: 'field_rep', rep_id: 'R0042', password: rep.password },
    });
    assert.equal(created.status, 201, `creating the rep: ${JSON.stringify(created.json)}`);
    assert.equal(created.json.role, 'field_rep');
  });
  await withPage(async (page) => {
    await signIn(page, rep.login, rep.password);
    assert.equal(await navLink(page, 'home').count(), 1);
    assert.equal(await navLink(page, 'tokens').count(), 1);
    assert.equal(await navLink(page, 'users').count(), 0, 'no Users item for a field rep');
    assert.equal(await navLink(page, 'audit').count(), 0, 'no Audit item for a field rep');
    assert.equal(await page.locator('#activity-chart').count(), 0, 'no activity chart for a field rep');
    await page.goto(`${base}/#/users`);
    await page.locator('#no-access').waitFor();
    assert.match(await page.locator('#no-access').textContent(), /无权访问/);
    assert.match(await page.locator('#no-access').textContent(), /医药代表\(线下\)/);
    assert.equal(await page.locator('#add-user').count(), 0);
    assert.equal(await navLink(page, 'users').count(), 0);
  });
});

test('signing out returns to login and ends the session', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    assert.equal((await pageFetch(page, '/api/v1/me')).status, 200);
    await Promise.all([page.waitForURL(/#\/login$/), page.click('#logout')]);
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('nav.sidenav').count(), 0);
    const me = await pageFetch(page, '/api/v1/me');
    assert.equal(me.status, 401);
    await page.goto(`${base}/#/home`);
    await page.waitForURL(/#\/login$/);
  });
});

// Browser tests of the response models page in Debian's headless Chromium
// (playwright-core): marketing opens the page (no models yet), trains them,
// sees the versions with their metrics, the calibration and coefficient
// charts of the selected version, evaluates the greedy policy (IPS, SNIPS,
// DR with intervals), switches to English; an analyst reads and evaluates
// but cannot train or activate. Every test fails on a console error, a page
// error or a missing translation.
//
// The world: 24 cardiologists, each called 40 times over 120 days cycling
// through four hour bands; only the 15:00 calls (the 14–18 band) are
// answered. Each also got 12 WeChat messages, every third answered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
let marketing = null;
let analyst = null;
const DOCTORS = 24;
const DAY = 86400000;

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

before(async () => {
  srv = await startServer();
  base = srv.url;
  const now = new Date();
  const day0 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - DAY;
  const events = [];
  let n = 0;
  for (let i = 1; i <= DOCTORS; i++) {
    await seed('POST', '/api/v1/hcps', { id: `MD${i}`, name: `医生${i}`, specialty: 'cardiology' });
    for (let k = 0; k < 40; k++) {
      const band = (k + i) % 4;
      const ts = day0 - k * 3 * DAY + [1, 5, 7, 11][band] * 3600000;
      events.push({ id: `mb-${++n}`, ts: new Date(ts).toISOString(), hcp: `MD${i}`, channel: 'phone', outcome: band === 2 ? 'answered' : 'no_answer' });
    }
    for (let k = 0; k < 12; k++) {
      const ts = day0 - (k * 9 + 1) * DAY + 2 * 3600000;
      events.push({ id: `mb-${++n}`, ts: new Date(ts).toISOString(), hcp: `MD${i}`, channel: 'wechat', outcome: k % 3 === 0 ? 'responded' : 'read' });
    }
  }
  await seed('POST', '/api/v1/events', ndjson(events), { 'Content-Type': 'application/x-ndjson' });
  marketing = await srv.createUser({ name: '市场部', role: 'marketing' });
  analyst = await srv.createUser({ name: '分析师', role: 'analyst' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);

async function openPage(page) {
  await navLink(page, 'models').click();
  await page.waitForURL(/#\/models/);
  await page.locator('#models-table[data-state="ready"]').waitFor();
}

test('train in the UI, see the versions with metrics, the charts, and evaluate', async () => {
  await withPage(async (page) => {
    await signIn(page, marketing);
    await openPage(page);
    assert.equal(await text(page.locator('.models h1')), '响应模型');
    assert.equal(await text(page.locator('#models-table tbody')), '尚无模型，请先训练');
    await page.fill('#models-window', '180');
    await page.click('#models-train');
    await eventually(async () => assert.match(await text(page.locator('#models-status')), /第 1 次训练完成/), 30000);
    const phoneRow = page.locator('#models-table tbody tr', { hasText: 'phone/global/v1' });
    await phoneRow.waitFor();
    const cells = await phoneRow.locator('td').allInnerTexts();
    assert.equal(cells[1], '电话');
    assert.equal(cells[2], '全局');
    // 24 doctors × 40 calls, 80% of the window before the holdout: some, not all
    const examples = Number(cells[3].replace(/,/g, ''));
    assert.ok(examples > 0 && examples < DOCTORS * 40, cells.join('|'));
    assert.ok(Number(cells[5]) > 0.8, `AUC ${cells[5]}`);
    assert.equal(cells[8], '使用中');
    assert.ok(await page.locator('#models-table tbody tr', { hasText: 'wechat/global/v1' }).count() === 1);
    // the selected version's charts
    await phoneRow.getByRole('button', { name: '查看' }).click();
    await page.locator('#models-calibration canvas').first().waitFor();
    await page.locator('#models-coefficients canvas').first().waitFor();
    assert.match(await text(page.locator('#models-selected')), /phone\/global\/v1/);
    // evaluation
    await page.fill('#models-eval-window', '60');
    await page.click('#models-evaluate');
    await page.locator('#models-eval-chart[data-state="ready"]').waitFor();
    assert.equal(await page.locator('#models-eval-table tbody tr').count(), 4);
    assert.match(await text(page.locator('#models-eval-table tbody tr[data-estimator="snips"]')), /SNIPS \d+\.\d% \d+\.\d% – \d+\.\d%/);
    assert.match(await text(page.locator('#models-eval-note')), /条触达/);
    // English
    await page.selectOption('#lang-switch', 'en');
    assert.equal(await text(page.locator('.models h1')), 'Response models');
    assert.equal(await text(page.locator('#models-train')), 'Train');
    assert.match(await text(page.locator('#models-eval-note')), /attempts/);
    assert.equal((await phoneRow.locator('td').allInnerTexts())[1], 'Phone');
    await page.selectOption('#lang-switch', 'zh');
  });
});

test('train again and activate the older version', async () => {
  await withPage(async (page) => {
    await signIn(page, marketing);
    await openPage(page);
    await page.click('#models-train');
    await eventually(async () => assert.match(await text(page.locator('#models-status')), /第 2 次训练完成/), 30000);
    const old = page.locator('#models-table tbody tr', { hasText: 'phone/global/v1' });
    await old.waitFor();
    assert.equal((await old.locator('td').allInnerTexts())[8], '未启用');
    await old.getByRole('button', { name: '启用' }).click();
    await eventually(async () => assert.equal((await page.locator('#models-table tbody tr', { hasText: 'phone/global/v1' }).locator('td').allInnerTexts())[8], '使用中'));
    assert.equal((await page.locator('#models-table tbody tr', { hasText: 'phone/global/v2' }).locator('td').allInnerTexts())[8], '未启用');
  });
});

test('the schedule and the split are saved, and a bad split is marked', async () => {
  await withPage(async (page) => {
    await signIn(page, marketing);
    await openPage(page);
    await eventually(async () => assert.equal(await page.inputValue('#models-split'), 'specialty'));
    assert.equal(await page.inputValue('#models-schedule'), 'off');
    await page.selectOption('#models-schedule', 'daily');
    await page.fill('#models-hour', '23');
    await page.fill('#models-split', 'title');
    await page.click('#models-settings-save');
    await eventually(async () => assert.equal(await text(page.locator('#models-settings-status')), '设置已保存'));
    const saved = await srv.api('GET', '/api/v1/nba/models/settings', { token: srv.token });
    assert.deepEqual([saved.json.schedule, saved.json.hour, saved.json.split_by], ['daily', 23, 'title']);
    await page.fill('#models-split', 'shoe_size');
    await page.click('#models-settings-save');
    await eventually(async () => assert.equal(await page.getAttribute('#models-split', 'aria-invalid'), 'true'));
    assert.match(await text(page.locator('#models-settings-status')), /shoe_size/);
    // put back: off, so no retrain runs behind the other tests
    await srv.api('PUT', '/api/v1/nba/models/settings', { token: srv.token, body: { schedule: 'off', split_by: 'specialty' } });
  }, { allow: [{ status: 400, url: /\/nba\/models\/settings/ }] });
});

test('an analyst reads and evaluates but cannot train or activate', async () => {
  await withPage(async (page) => {
    await signIn(page, analyst);
    await openPage(page);
    assert.equal(await page.locator('#models-train').count(), 0);
    assert.equal(await page.locator('.models-activate').count(), 0);
    assert.ok(await page.locator('#models-table tbody tr').count() >= 2);
    await page.click('#models-evaluate');
    await page.locator('#models-eval-chart[data-state="ready"]').waitFor();
  });
});

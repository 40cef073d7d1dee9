// Browser tests of the KPI dashboard in Debian's headless Chromium
// (playwright-core): the phone funnel chart, the trend, breakdown and
// field-vs-inside charts drawn, the breakdown table with the seeded
// numbers; changing the breakdown changes the table; the labels follow the
// language both ways (English, then Chinese again); a rep sees only their
// doctors' numbers. Every test fails on a console error, a page error or a
// missing translation.
//
// The server is a private `medreach serve` (server.mjs), seeded through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text, cst, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
let rep = null;
const NOW = Date.now();
const DAY = 86400000;

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

// D1 (tier 1, east): 3 calls by the inside rep (effective, answered, no answer) and a visit by the field rep;
// D2 (tier 2, west): 2 calls (successful, no answer) and a WeChat message read.
const EVENTS = [
  { id: 'k1', ts: cst(NOW - 2 * DAY), hcp: 'D1', channel: 'phone', outcome: 'effective', rep: 'RI' },
  { id: 'k2', ts: cst(NOW - 3 * DAY), hcp: 'D1', channel: 'phone', outcome: 'answered', rep: 'RI' },
  { id: 'k3', ts: cst(NOW - 4 * DAY), hcp: 'D1', channel: 'phone', outcome: 'no_answer', rep: 'RI' },
  { id: 'k4', ts: cst(NOW - 5 * DAY), hcp: 'D1', channel: 'visit', outcome: 'completed', rep: 'RF' },
  { id: 'k5', ts: cst(NOW - 40 * DAY), hcp: 'D2', channel: 'phone', outcome: 'successful', rep: 'RI' },
  { id: 'k6', ts: cst(NOW - 41 * DAY), hcp: 'D2', channel: 'phone', outcome: 'no_answer', rep: 'RI' },
  { id: 'k7', ts: cst(NOW - 42 * DAY), hcp: 'D2', channel: 'wechat', outcome: 'read' },
];

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/territories', { id: 'T-SH', name: '上海' });
  await seed('POST', '/api/v1/hcos', { id: 'H1', name: '一院', level: 3, city_tier: 1, region: 'east', province: '上海' });
  await seed('POST', '/api/v1/hcos', { id: 'H2', name: '二院', level: 2, city_tier: 2, region: 'west', province: '四川' });
  await seed('POST', '/api/v1/reps', { id: 'RF', name: '张伟', type: 'field', territory: 'T-SH' });
  await seed('POST', '/api/v1/reps', { id: 'RI', name: '李娜', type: 'inside', territory: 'T-SH' });
  await seed('POST', '/api/v1/hcps', { id: 'D1', name: '王建国', specialty: 'endocrinology', hco: 'H1' });
  await seed('POST', '/api/v1/hcps', { id: 'D2', name: '王丽', specialty: 'cardiology', hco: 'H2' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'RF', role: 'field_owner', valid_from: '2024-01-01' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'RI', role: 'inside_owner', valid_from: '2024-01-01' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D2', rep: 'RI', role: 'inside_owner', valid_from: '2024-01-01' });
  rep = await srv.createUser({ name: '张伟', role: 'field_rep', rep_id: 'RF' });
  const res = await seed('POST', '/api/v1/events', ndjson(EVENTS), { 'Content-Type': 'application/x-ndjson' });
  assert.equal(res.accepted, EVENTS.length, JSON.stringify(res));
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const admin = () => ({ login: srv.login, password: srv.password });
const signIn = (page, who) => signInAt(page, base, who.login, who.password);

/** The breakdown table as [[label, calls, answered, successful, effective, ...], ...]. */
const tableRows = (page, id = 'kpi-table') => page.$$eval(`#${id} tbody tr`,
  (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
const headers = (page) => page.$$eval('#kpi-table thead th', (ths) => ths.map((th) => th.textContent.trim()));

async function openDashboard(page) {
  await navLink(page, 'kpis').click();
  await page.waitForURL(/#\/kpis/);
  await page.locator('#kpi-table tbody tr').first().waitFor();
}

test('the dashboard draws the funnel and the other charts, and tables the breakdown', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openDashboard(page);
    for (const id of ['kpi-funnel', 'kpi-trend', 'kpi-breakdown', 'kpi-reptype']) {
      await page.locator(`#${id} canvas`).first().waitFor();
    }
    assert.equal(await text(page.locator('#kpi-funnel-card h2')), '电话漏斗');
    await eventually(async () => {
      const rows = await tableRows(page);
      assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
        ['1 线城市', '3', '2', '1', '1'],
        ['2 线城市', '2', '1', '1', '0'],
        ['合计', '5', '3', '2', '1'],
      ]);
      // answer rate 2/3; targets and reached: D1 in tier 1
      assert.equal(rows[0][5], '66.7%');
      assert.deepEqual(rows[0].slice(-4), ['1', '1', '100.0%', '3.00']);
    });
    // field vs inside, side by side
    const reps = await tableRows(page, 'kpi-reptype-table');
    assert.deepEqual(reps.map((r) => r.slice(0, 2)), [['线下代表', '0'], ['线上代表', '5']]);
    assert.match(await text(page.locator('#kpi-status')), /计算耗时/);
  });
});

test('changing the breakdown changes the table; the period narrows the numbers', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openDashboard(page);
    await page.selectOption('#kpi-by', 'region');
    await eventually(async () => {
      const rows = await tableRows(page);
      assert.deepEqual(rows.map((r) => r[0]), ['east', 'west', '合计']);
    });
    assert.match(page.url(), /by=region/);
    await page.selectOption('#kpi-by', 'specialty');
    await eventually(async () => assert.deepEqual((await tableRows(page)).map((r) => r[0]), ['cardiology', 'endocrinology', '合计']));
    // the last 30 days leave D2's calls (40 days ago) out
    await page.selectOption('#kpi-period', '30');
    await eventually(async () => {
      const rows = await tableRows(page);
      assert.deepEqual(rows.at(-1).slice(0, 2), ['合计', '3']);
    });
  });
});

test('labels switch to English and back to Chinese', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openDashboard(page);
    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => {
      assert.equal(await text(page.locator('.kpis h1')), 'KPI dashboard');
      assert.deepEqual((await headers(page)).slice(0, 3), ['Group', 'Calls', 'Answered']);
      assert.deepEqual((await tableRows(page)).map((r) => r[0]), ['Tier 1', 'Tier 2', 'Total']);
    });
    await page.selectOption('#lang-switch', 'zh');
    await eventually(async () => {
      assert.equal(await text(page.locator('.kpis h1')), 'KPI 看板');
      assert.deepEqual((await headers(page)).slice(0, 3), ['分组', '拨打', '接通']);
      assert.deepEqual((await tableRows(page)).map((r) => r[0]), ['1 线城市', '2 线城市', '合计']);
      assert.equal(await text(page.locator('#kpi-reptype-card h2')), '线下代表 vs 线上代表');
    });
  });
});

test("a field rep sees their own doctors' numbers only", async () => {
  await withPage(async (page) => {
    await signIn(page, rep);
    await openDashboard(page);
    await eventually(async () => {
      const rows = await tableRows(page);
      assert.deepEqual(rows.map((r) => r.slice(0, 2)), [['1 线城市', '3'], ['合计', '3']]);
    });
  });
});

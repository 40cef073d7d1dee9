// Browser tests of identity resolution (#/identity and the HCP profile) in
// Debian's headless Chromium (playwright-core): running the matcher and
// seeing its counts and what the model learned (chart and weights), the
// review queue with both records side by side and each compared field
// coloured by agreement, rejecting without a reason (the server's message by
// the reason box) and with one (the pair moves to "decided"), accepting (a
// merge appears under merges), undoing merges (a later merge first, as the
// server insists), merging by hand on a profile ("merged into" banner on the
// merged record, history with undo on the survivor), the page in English,
// and no entry for a field rep. Every test fails on a console error or a
// page error other than the HTTP errors it provokes on purpose, and on a
// missing translation.
//
// The world: `medreach demo --hcps 1500 --seed 3` (with its planted
// duplicates) plus a few pairs of our own through the API: one sure
// duplicate (a slipped digit in a differently formatted phone), three
// doubtful ones (one record without a hospital, phones that differ, one
// name a character off) and two records merged by hand on the profile.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, createUser } from '../api/harness.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const TIMEOUT_MS = 10000;
const EXPECTED_401 = [/\/api\/v1\/me$/, /\/api\/v1\/auth\/login$/];
/** The run's merge threshold: the doubtful pairs score 0.9-0.999 under the demo's model. */
const UPPER = 0.99999;

let srv = null;
let browser = null;
let base = '';
let admin = null;
let rep = null;
let ran = false;

async function call(method, path, body) {
  const res = await srv.api(method, path, { token: srv.adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const PAIRS = [
  // a sure duplicate: same doctor, phone typed with a slipped digit in another format
  ['X1', { name: '欧阳振华', pinyin: 'ouyang zhen hua', hco: 'HX1', specialty: 'cardiology', phone: '13912345678' }],
  ['X1b', { name: '欧阳振华', pinyin: 'ouyang zhen hua', hco: 'HX1', specialty: 'cardiology', phone: '+86 139-1234-5687' }],
  // doubtful: no hospital on one side, different phones
  ['Q1', { name: '东方明', pinyin: 'dongfang ming', hco: 'HX2', specialty: 'dermatology', phone: '13800001111' }],
  ['Q1b', { name: '东方明', pinyin: 'dongfang ming', specialty: 'dermatology', phone: '13600004444' }],
  ['Q2', { name: '慕容复', pinyin: 'murong fu', hco: 'HX1', specialty: 'surgery', phone: '13911112222' }],
  ['Q2b', { name: '慕容复', pinyin: 'murong fu', specialty: 'surgery', phone: '13922223333' }],
  ['Q3', { name: '上官婉儿', pinyin: 'shangguan wan er', hco: 'HX2', specialty: 'pediatrics', phone: '13733334444' }],
  ['Q3b', { name: '上官婉尔', pinyin: 'shangguan wan er', specialty: 'pediatrics', phone: '13755556666' }],
  // merged by hand on the profile
  ['M1', { name: '诸葛亮', pinyin: 'zhuge liang', hco: 'HX1', title: 'chief', specialty: 'oncology', phone: '13600001234' }],
  ['M2', { name: '诸葛孔明', pinyin: 'zhuge kongming', hco: 'HX1', title: 'attending', department: '肿瘤科' }],
];

before(async () => {
  srv = await startServer();
  base = srv.url;
  admin = { login: srv.adminLogin, password: srv.adminPassword };
  const demo = await srv.cli(['demo', '--hcps', '1500', '--seed', '3']);
  assert.equal(demo.code, 0, `medreach demo: ${demo.stdout}${demo.stderr}`);
  await call('POST', '/api/v1/hcos', { id: 'HX1', name: '测试第一医院', level: 3, grade: '甲', type: 'general', city_tier: 1 });
  await call('POST', '/api/v1/hcos', { id: 'HX2', name: '测试第二医院', level: 3, grade: '甲', type: 'general', city_tier: 1 });
  for (const [id, body] of PAIRS) await call('POST', '/api/v1/hcps', { id, ...body });
  rep = await createUser(srv, { role: 'field_rep', name: '代表' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

/** allow: [{status, url}] HTTP failures a test provokes on purpose (Chromium logs them as console errors). */
function forgiven(msg, allow) {
  const m = /status of (\d{3})/.exec(msg.text());
  if (!m) return false;
  const status = Number(m[1]);
  const url = msg.location().url || '';
  if (status === 401 && EXPECTED_401.some((re) => re.test(url))) return true;
  return allow.some((a) => a.status === status && a.url.test(url));
}

/** Runs fn(page) in a fresh browser context, then fails on console errors,
 *  page errors or missing translations. */
async function withPage(fn, { allow = [] } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !forgiven(msg, allow)) problems.push(`console error: ${msg.text()} [${msg.location().url}]`);
    if (msg.type() === 'warning' && /i18n: missing key/.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  try {
    await fn(page);
  } catch (err) {
    if (problems.length) err.message += `\nbrowser problems:\n${problems.join('\n')}`;
    throw err;
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], 'the page logged errors');
}

async function signIn(page, login, password) {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/login$/);
  await page.fill('#login-name', login);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForURL(/#\/home$/), page.click('#login-form button[type=submit]')]);
  await page.locator('.topbar .user-name').waitFor();
}

const navLink = (page, route) => page.locator(`nav.sidenav a[data-route="${route}"]`);
const text = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();
const num = (n) => new Intl.NumberFormat('zh-CN').format(n);
const pct = (p) => `${(Math.floor(p * 1000) / 10).toFixed(1)}%`;
const weight = (w) => {
  const s = w.toFixed(1);
  return w > 0 && s !== '0.0' ? `+${s}` : s === '-0.0' ? '0.0' : s;
};

/** Retries check (which asserts) until it passes or the timeout. */
async function eventually(check, ms = TIMEOUT_MS) {
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

/** The matcher has run (in the browser by the run test, or here when that one did not). */
async function ensureRun() {
  if (ran) return;
  await call('POST', '/api/v1/identity/run', { upper: UPPER });
  ran = true;
}

/** The pending review item of the pair (a, b), from the API. */
async function pendingItem(a, b) {
  const res = await call('GET', '/api/v1/identity/reviews?status=pending&limit=500');
  const item = res.items.find((x) => x.a && x.b && x.a.id === a && x.b.id === b);
  assert.ok(item, `the pair ${a}/${b} is in the queue: ${res.items.map((x) => `${x.a && x.a.id}/${x.b && x.b.id}`).join(' ')}`);
  return item;
}

async function openTab(page, tab) {
  await page.click(`#identity-tab-${tab}`);
  assert.equal(await page.getAttribute(`#identity-tab-${tab}`, 'aria-selected'), 'true');
}

const card = (page, a, b) => page.locator(`#review-list .review[data-a="${a}"][data-b="${b}"]`);

/** Clicks a confirm button twice (the second click confirms) and returns the response matching re. */
async function confirmClick(page, button, re) {
  await button.click();
  const [res] = await Promise.all([
    page.waitForResponse((r) => re.test(r.url()) && r.request().method() === 'POST'),
    button.click(),
  ]);
  return res;
}

test('a field rep has no identity resolution entry and is refused the page', async () => {
  await withPage(async (page) => {
    await signIn(page, rep.login, rep.password);
    assert.equal(await navLink(page, 'hcps').count(), 1, 'the nav is there');
    assert.equal(await navLink(page, 'identity').count(), 0, 'but not identity resolution');
    await page.goto(`${base}/#/identity`);
    await page.locator('#no-access').waitFor();
    assert.equal(await page.locator('#review-list').count(), 0);
  });
});

test('run matching: the counts, and the m and u the model learned per field and level', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    assert.equal(await text(navLink(page, 'identity')), '身份合并');
    await navLink(page, 'identity').click();
    await page.waitForURL(/#\/identity$/);
    assert.equal(await page.getAttribute('#identity-tab-queue', 'aria-selected'), 'true', 'the queue is the first tab');
    await page.locator('#queue-empty').waitFor();
    assert.match(await text(page.locator('#queue-empty')), /没有待审核的疑似重复记录/);

    await openTab(page, 'run');
    await page.waitForURL(/#\/identity\?tab=run$/);
    await page.fill('#identity-run-form input[name="upper"]', String(UPPER));
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/identity/run') && r.request().method() === 'POST'),
      page.click('#identity-run'),
    ]);
    assert.equal(res.status(), 200);
    assert.deepEqual(JSON.parse(res.request().postData()), { upper: UPPER }, 'only the threshold typed is sent');
    const run = await res.json();
    ran = true;
    assert.ok(run.hcps > 1500, `hcps ${run.hcps}`);
    assert.ok(run.merged >= 1, `the sure duplicates are merged: ${run.merged}`);
    assert.ok(run.queued >= 3, `the doubtful pairs are queued: ${run.queued}`);

    const result = page.locator('#identity-run-result');
    await result.waitFor();
    const stat = async (k) => text(result.locator(`[data-stat="${k}"] .stat-value`));
    for (const k of ['hcps', 'candidates', 'merged', 'queued', 'took_ms']) assert.equal(await stat(k), num(run[k]), k);
    assert.match(await text(result.locator('[data-stat="merged"] .stat-label')), /自动合并/);
    assert.match(await text(page.locator('#identity-run-outcome')), new RegExp(`自动合并 ${run.merged} 对，新增 ${run.queued} 对待审核`));
    assert.match(await text(page.locator('#identity-model-facts')), new RegExp(`自动合并 ≥ ${UPPER}`));

    // the model: a bar chart of m and u, and the weights log2(m/u) per level
    const drawn = page.locator('#identity-model-chart canvas').first();
    await drawn.waitFor({ state: 'visible' });
    const box = await drawn.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 200, `chart has a usable size: ${JSON.stringify(box)}`);
    const levels = run.model.fields.reduce((n, f) => n + f.levels.length, 0);
    assert.equal(await page.locator('#identity-model-table tbody tr').count(), levels, 'one row per field and level');
    const hco = run.model.fields.find((f) => f.column === 'hco');
    const eq = hco.levels.indexOf('equal');
    const row = page.locator('#identity-model-table tr[data-field="hco"][data-level="equal"]');
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], '医院');
    assert.equal(cells[2], '相同');
    assert.equal(cells[5], weight(Math.log2(hco.m[eq] / hco.u[eq])));
    assert.ok(Math.log2(hco.m[eq] / hco.u[eq]) > 5, 'the same hospital is strong evidence');
    assert.match(await row.locator('.weight').getAttribute('class'), /weight-pos/);
    const diff = page.locator('#identity-model-table tr[data-field="hco"][data-level="different"] .weight');
    assert.match(await diff.getAttribute('class'), /weight-neg/);

    // the result stays on the tab for the session
    await page.reload();
    await page.locator('#identity-run-result').waitFor();
    assert.equal(await text(page.locator('#identity-run-result [data-stat="queued"] .stat-value')), num(run.queued));

    // and the queue now holds the doubtful pairs
    await page.click('#identity-run-outcome a');
    await card(page, 'Q1', 'Q1b').waitFor();
    assert.equal(await page.getAttribute('#identity-tab-queue', 'aria-selected'), 'true');
    assert.equal(await page.locator('#queue-empty').isVisible(), false);
  });
});

test('the queue shows both records side by side, field by field, coloured by agreement, with weight and score', async () => {
  await ensureRun();
  const item = await pendingItem('Q1', 'Q1b');
  const level = Object.fromEntries(item.detail.map((d) => [d.field, d]));
  assert.equal(level.name.level, 'exact');
  assert.equal(level.hco.level, 'missing');
  assert.equal(level.phone.level, 'different');
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/identity`);
    const c = card(page, 'Q1', 'Q1b');
    await c.waitFor();
    assert.equal(await c.getAttribute('data-id'), String(item.id));
    assert.equal(await text(c.locator('.score-value')), pct(item.score));
    assert.ok(item.score >= 0.3 && item.score < UPPER, `a doubtful score: ${item.score}`);
    assert.match(await text(c.locator('thead')), /记录 A（保留） Q1 .*记录 B Q1b/);

    const fieldRow = (f) => c.locator(`tr[data-field="${f}"]`);
    for (const f of ['name', 'pinyin', 'hco', 'specialty', 'phone', 'license_no', 'email']) {
      const r = fieldRow(f);
      assert.equal(await r.getAttribute('data-level'), level[f].level, `${f}: the level`);
      assert.equal(await text(r.locator('.weight')), weight(level[f].weight), `${f}: the weight`);
    }
    assert.deepEqual((await fieldRow('name').locator('td.side').allTextContents()), ['东方明', '东方明']);
    assert.equal(await text(fieldRow('name').locator('.verdict .lvl')), '完全一致');
    assert.match(await text(fieldRow('hco').locator('td.side-a')), /测试第二医院/);
    assert.equal(await text(fieldRow('hco').locator('td.side-b')), '—');
    assert.equal(await text(fieldRow('hco').locator('.verdict .lvl')), '缺失');
    assert.equal(await text(fieldRow('phone').locator('td.side-a')), '138****1111', 'phones come masked');
    assert.equal(await text(fieldRow('phone').locator('td.side-b')), '136****4444');
    assert.equal(await text(fieldRow('phone').locator('.verdict .lvl')), '不同');
    assert.match(await text(fieldRow('title').locator('.verdict')), /未参与比对/);

    // agree green, disagree red, missing grey (the row's marker and the level's badge)
    const marker = (f) => fieldRow(f).locator('th').evaluate((el) => getComputedStyle(el).borderLeftColor);
    const badge = (f) => fieldRow(f).locator('.verdict .lvl').evaluate((el) => getComputedStyle(el).color);
    assert.equal(await marker('name'), 'rgb(26, 127, 55)');
    assert.equal(await badge('name'), 'rgb(26, 127, 55)');
    assert.equal(await marker('phone'), 'rgb(198, 40, 40)');
    assert.equal(await badge('phone'), 'rgb(198, 40, 40)');
    assert.equal(await marker('hco'), 'rgb(175, 184, 193)');
    assert.equal(await fieldRow('specialty').getAttribute('class'), 'cmp-agree');
    assert.equal(await fieldRow('phone').getAttribute('class'), 'cmp-disagree');
    assert.equal(await fieldRow('hco').getAttribute('class'), 'cmp-missing');

    // a name a character off is a partial agreement
    const q3 = card(page, 'Q3', 'Q3b');
    assert.equal(await q3.locator('tr[data-field="name"]').getAttribute('data-agreement'), 'partial');
    assert.deepEqual(await q3.locator('tr[data-field="name"] td.side').allTextContents(), ['上官婉儿', '上官婉尔']);
    assert.match(await text(c.locator('.review-effect')), /接受：Q1b 将合并至 Q1/);
  });
});

test('rejecting needs a reason: the server\'s message by the box; with one the pair leaves the queue for "rejected"', async () => {
  await ensureRun();
  const item = await pendingItem('Q3', 'Q3b');
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/identity`);
    const c = card(page, 'Q3', 'Q3b');
    await c.waitFor();
    const before = Number(await text(page.locator('#queue-count')));
    const decide = () => page.waitForResponse((r) => r.url().endsWith(`/api/v1/identity/reviews/${item.id}`) && r.request().method() === 'POST');

    const [bad] = await Promise.all([decide(), c.locator('.review-reject').click()]);
    assert.equal(bad.status(), 400);
    assert.deepEqual(JSON.parse(bad.request().postData()), { decision: 'reject' });
    const body = await bad.json();
    assert.equal(body.error.detail.field, 'reason');
    const msg = c.locator('.field-error[data-field="reason"]');
    await msg.waitFor();
    assert.equal(await text(msg), body.error.message, 'the server\'s message, by the reason box');
    assert.equal(await c.locator('input[name="reason"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await c.isVisible(), true, 'still in the queue');

    await c.locator('input[name="reason"]').fill('两位不同的医生：医院不同，手机号不同');
    const [ok] = await Promise.all([decide(), c.locator('.review-reject').click()]);
    assert.equal(ok.status(), 200);
    assert.equal((await ok.json()).status, 'rejected');
    await c.waitFor({ state: 'detached' });
    assert.equal(await text(page.locator('#queue-count')), String(before - 1));
    assert.match(await text(page.locator('#notice')), new RegExp(`已拒绝记录对 #${item.id}`));

    await openTab(page, 'decided');
    assert.equal(await page.inputValue('#decided-status'), 'rejected');
    const row = page.locator(`#decided-table tr[data-id="${item.id}"]`);
    await row.waitFor();
    assert.match(await text(row), /Q3 上官婉儿.*Q3b 上官婉尔.*已拒绝.*两位不同的医生：医院不同，手机号不同/);
    assert.match(await text(row), new RegExp(admin.login));
    assert.equal(await text(row.locator('.score-value')), pct(item.score));
    await row.locator('button[aria-expanded]').click();
    const compare = page.locator(`#decided-table tr[data-id="${item.id}"] + tr.detail-row table.compare`);
    await compare.waitFor();
    assert.equal(await compare.locator('tr[data-field="name"]').getAttribute('data-agreement'), 'partial');

    // deciding it again is refused (409), with the server's message
    const again = await srv.api('POST', `/api/v1/identity/reviews/${item.id}`, { token: srv.adminToken, body: { decision: 'accept' } });
    assert.equal(again.status, 409);
  }, { allow: [{ status: 400, url: /\/api\/v1\/identity\/reviews\/\d+$/ }] });
});

test('accepting merges the pair: it shows under accepted and under merges; undo goes later merge first', async () => {
  await ensureRun();
  const item = await pendingItem('Q1', 'Q1b');
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/identity`);
    const c = card(page, 'Q1', 'Q1b');
    await c.waitFor();
    await c.locator('input[name="reason"]').fill('同一医生，线上注册未填医院');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/identity/reviews/${item.id}`) && r.request().method() === 'POST'),
      c.locator('.review-accept').click(),
    ]);
    assert.equal(res.status(), 200);
    const decided = await res.json();
    assert.equal(decided.status, 'accepted');
    assert.ok(decided.merge, 'the answer names the merge');
    await c.waitFor({ state: 'detached' });
    assert.match(await text(page.locator('#notice')), /已接受：Q1b 已合并至 Q1/);

    await openTab(page, 'decided');
    await page.selectOption('#decided-status', 'accepted');
    await page.waitForURL(/tab=decided&status=accepted/);
    const row = page.locator(`#decided-table tr[data-id="${item.id}"]`);
    await row.waitFor();
    assert.match(await text(row), /已接受.*同一医生，线上注册未填医院/);

    await openTab(page, 'merges');
    const mrow = page.locator(`#merge-table tr[data-id="${decided.merge}"]`);
    await mrow.waitFor();
    assert.equal(await mrow.getAttribute('data-survivor'), 'Q1');
    assert.equal(await mrow.getAttribute('data-merged'), 'Q1b');
    assert.match(await text(mrow), new RegExp(`审核通过 ${pct(item.score).replace('.', '\\.')}`));
    assert.match(await text(mrow), /同一医生，线上注册未填医院/);
    assert.equal(await text(mrow.locator('.merge-status')), '生效中');
    await mrow.locator('.lineage-toggle').click();
    const lineage = page.locator(`#merge-table tr[data-id="${decided.merge}"] + tr.detail-row .lineage`);
    await lineage.waitFor();
    assert.match(await text(lineage), /来源记录 Q1, Q1b/);
    assert.equal(await lineage.locator('.lineage-detail tr[data-field="phone"]').getAttribute('data-level'), 'different');
    assert.equal((await call('GET', '/api/v1/hcps/Q1b')).merged_into, 'Q1');

    // a later merge touching Q1 (Q1 into Q2, by hand) must be undone first: the server says which
    const later = await call('POST', '/api/v1/hcps/Q1/merge', { into: 'Q2', reason: 'test: a later merge' });
    await page.fill('#merge-hcp', 'Q1');
    await page.click('#merge-filter button[type="submit"]');
    await page.waitForURL(/tab=merges&hcp=Q1/);
    const laterRow = page.locator(`#merge-table tr[data-id="${later.merge}"]`);
    await laterRow.waitFor();
    assert.deepEqual(await page.$$eval('#merge-table tbody tr[data-id]', (trs) => trs.map((t) => t.dataset.id)),
      [String(later.merge), String(decided.merge)], 'the merges of Q1, newest first');
    const first = page.locator(`#merge-table tr[data-id="${decided.merge}"]`);
    const refused = await confirmClick(page, first.locator('.merge-undo'), new RegExp(`/api/v1/merges/${decided.merge}/undo$`));
    assert.equal(refused.status(), 409);
    const why = (await refused.json()).error.message;
    assert.match(why, new RegExp(String(later.merge)));
    const shown = first.locator('.row-error');
    await shown.waitFor();
    assert.equal(await text(shown), why);
    assert.equal(await text(first.locator('.merge-status')), '生效中');

    const undoLater = await confirmClick(page, laterRow.locator('.merge-undo'), new RegExp(`/api/v1/merges/${later.merge}/undo$`));
    assert.equal(undoLater.status(), 200);
    await eventually(async () => assert.match(await text(page.locator(`#merge-table tr[data-id="${later.merge}"] .merge-status`)), /^已撤销/));
    assert.equal(await page.getAttribute(`#merge-table tr[data-id="${later.merge}"]`, 'data-undone'), 'true');
    assert.equal(await page.locator(`#merge-table tr[data-id="${later.merge}"] .merge-undo`).count(), 0, 'no undo for an undone merge');

    const undoFirst = await confirmClick(page, page.locator(`#merge-table tr[data-id="${decided.merge}"] .merge-undo`),
      new RegExp(`/api/v1/merges/${decided.merge}/undo$`));
    assert.equal(undoFirst.status(), 200);
    const status = page.locator(`#merge-table tr[data-id="${decided.merge}"] .merge-status`);
    await eventually(async () => assert.match(await text(status), new RegExp(`^已撤销.*${admin.login}`)));
    assert.match(await text(page.locator('#notice')), new RegExp(`已撤销合并 #${decided.merge}`));
    assert.equal((await call('GET', '/api/v1/hcps/Q1b')).merged_into, null, 'Q1b stands on its own again');
  }, { allow: [{ status: 409, url: /\/api\/v1\/merges\/\d+\/undo$/ }] });
});

test('on a profile: merge into another by hand (banner on the merged record, history on the survivor), then undo', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/hcp/M2`);
    await page.locator('#hcp-name', { hasText: '诸葛孔明' }).waitFor();
    assert.equal(await page.locator('#hcp-merged-banner').count(), 0);
    await eventually(async () => assert.match(await text(page.locator('#hcp-merge-table tbody')), /此医生没有合并记录/));

    await page.click('#hcp-merge');
    const dialog = page.locator('#merge-dialog');
    await dialog.waitFor();
    assert.match(await text(dialog), /诸葛孔明（M2）将并入/);
    const submit = () => Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/hcps/M2/merge')),
      page.click('#merge-confirm'),
    ]);

    // into itself: the server's 422, shown in the dialog
    await page.fill('#merge-into', 'M2');
    const [self] = await submit();
    assert.equal(self.status(), 422);
    const selfMsg = (await self.json()).error.message;
    await dialog.locator('.form-error').waitFor();
    assert.equal(await text(dialog.locator('.form-error')), selfMsg);

    await page.fill('#merge-into', 'M1');
    await page.locator('#merge-into').press('Tab');
    await eventually(async () => assert.match(await text(page.locator('#merge-preview')), /诸葛亮 · 测试第一医院/));
    await page.fill('#merge-reason', '同一医生，字号与本名');
    await page.click('#merge-survivorship summary');
    await page.selectOption('#merge-dialog select[data-field="title"]', 'merged');
    const [ok] = await submit();
    assert.equal(ok.status(), 200);
    assert.deepEqual(JSON.parse(ok.request().postData()),
      { into: 'M1', reason: '同一医生，字号与本名', survivorship: { title: 'merged' } });
    const merged = await ok.json();
    assert.deepEqual([merged.survivor, merged.merged, merged.rule], ['M1', 'M2', 'manual']);

    const banner = page.locator('#hcp-merged-banner');
    await banner.waitFor();
    assert.match(await text(banner), /^此记录已合并至 M1/);
    assert.equal(await dialog.isVisible(), false);
    assert.equal(await page.locator('#hcp-merge').count(), 0, 'a merged record is not merged again');
    assert.match(await text(page.locator('#hcp-merge-table')), /M1 M2 手工合并/);

    await Promise.all([page.waitForURL(/#\/hcp\/M1$/), page.click('#hcp-merged-link')]);
    await page.locator('#hcp-name', { hasText: '诸葛亮' }).waitFor();
    assert.equal(await page.locator('#hcp-merged-banner').count(), 0);
    assert.equal(await text(page.locator('#hcp-title')), '主治医师', 'survivorship: the title of the merged record');
    const row = page.locator(`#hcp-merge-table tr[data-id="${merged.merge}"]`);
    await row.waitFor();
    assert.match(await text(row), /M1 M2 手工合并/);
    assert.match(await text(row), /职称 ← M2/);
    assert.match(await text(row), /科室 ← M2/, 'an empty field filled from the merged record');
    assert.match(await text(row), /同一医生，字号与本名/);
    await eventually(async () => assert.match(await text(page.locator('#change-table tr[data-field="merge"]').first()), /合并记录.*M2.*M1/));

    // undo from the profile's history: the survivor is as it was
    const res = await confirmClick(page, row.locator('.merge-undo'), new RegExp(`/api/v1/merges/${merged.merge}/undo$`));
    assert.equal(res.status(), 200);
    await eventually(async () => assert.equal(await text(page.locator('#hcp-title')), '主任医师'));
    await eventually(async () => assert.match(await text(page.locator(`#hcp-merge-table tr[data-id="${merged.merge}"] .merge-status`)), /^已撤销/));
    await page.goto(`${base}/#/hcp/M2`);
    await page.locator('#hcp-name', { hasText: '诸葛孔明' }).waitFor();
    await page.locator('#hcp-merge').waitFor();
    assert.equal(await page.locator('#hcp-merged-banner').count(), 0, 'no banner after the undo');
  }, { allow: [{ status: 422, url: /\/api\/v1\/hcps\/M2\/merge$/ }] });
});

test('the identity page in English', async () => {
  await ensureRun();
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/identity`);
    await card(page, 'Q2', 'Q2b').waitFor();
    await page.selectOption('#lang-switch', 'en');
    await page.locator('#identity-tab-queue', { hasText: 'Review queue' }).waitFor();
    assert.equal(await text(navLink(page, 'identity')), 'Identity resolution');
    const c = card(page, 'Q2', 'Q2b');
    assert.match(await text(c.locator('thead')), /Record A \(kept\) Q2 .*Record B Q2b/);
    assert.equal(await text(c.locator('tr[data-field="phone"] .verdict .lvl')), 'Different');
    assert.match(await text(c.locator('.review-effect')), /Accept: Q2b is merged into Q2/);
    await openTab(page, 'merges');
    await page.locator('#merge-table tbody tr[data-id]').first().waitFor();
    assert.match(await text(page.locator('#merge-table > thead')), /Survivor.*Merged record.*How/);
    assert.ok(await page.locator('#merge-table tbody', { hasText: 'Automatic match' }).count() === 1);
    await openTab(page, 'run');
    await page.locator('#identity-run', { hasText: 'Run matching' }).waitFor();
    await page.selectOption('#lang-switch', 'zh');
    await page.locator('#identity-tab-run', { hasText: '运行匹配' }).waitFor();
  });
});

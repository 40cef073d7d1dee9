// Browser tests of the master-data pages in Debian's headless Chromium
// (playwright-core): the HCP list and its search-as-you-type (name, pinyin,
// initials; debounced), the HCP profile (identities in the clear for the
// admin with the "audited" note, masked for an analyst), editing a field and
// seeing it in the change history, a field error shown next to its field,
// recording consents (current vs history), the one-field-owner conflict, a
// field rep who sees only their aligned doctor, the HCO list and detail, the
// territory tree, CSV import with its row-level error report (UTF-8 and GBK),
// PIPL erasure and the English UI. Every test fails on a console error or a
// page error (CSP violations included) other than the HTTP errors it
// provokes on purpose, and on a missing translation.
//
// The server is a private `medreach serve` started through the API tests'
// harness (as server.mjs does), so the test can seed data with the CLI and
// the admin's API token before driving the browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, createUser, uniqueLogin, newPassword } from '../api/harness.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const TIMEOUT_MS = 10000;
const EXPECTED_401 = [/\/api\/v1\/me$/, /\/api\/v1\/auth\/login$/];

let srv = null;
let browser = null;
let base = '';
let admin = null;
const users = {};

async function seed(method, path, body) {
  const res = await srv.api(method, path, { token: srv.adminToken, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

before(async () => {
  srv = await startServer();
  base = srv.url;
  admin = { login: srv.adminLogin, password: srv.adminPassword };
  await seed('POST', '/api/v1/territories', { id: 'T-CN', name: '全国' });
  await seed('POST', '/api/v1/territories', { id: 'T-EAST', name: '华东', parent: 'T-CN' });
  await seed('POST', '/api/v1/territories', { id: 'T-SH', name: '上海', parent: 'T-EAST' });
  await seed('POST', '/api/v1/hcos', {
    id: 'H1', name: '上海市第一人民医院', level: 3, grade: '甲', type: 'general', province: '上海', city: '上海',
    city_tier: 1, region: 'east', address: '虹口区武进路85号', departments: ['内分泌科', '心内科'],
  });
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '张伟', type: 'field', territory: 'T-SH' });
  await seed('POST', '/api/v1/reps', { id: 'R2', name: '李娜', type: 'inside', territory: 'T-SH' });
  await seed('POST', '/api/v1/hcps', {
    id: 'D1', name: '王建国', pinyin: 'wang jian guo', gender: 'M', title: 'chief', specialty: 'endocrinology',
    department: '内分泌科', hco: 'H1', phone: '13812345678', license_no: '110101199001011',
  });
  await seed('POST', '/api/v1/hcps', {
    id: 'D2', name: '王丽', gender: 'F', title: 'attending', specialty: 'cardiology', department: '心内科', hco: 'H1', phone: '13900001111',
  });
  await seed('POST', '/api/v1/hcps', { id: 'D3', name: '刘洋', title: 'resident', specialty: 'ophthalmology', department: '眼科', hco: 'H1' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'R1', role: 'field_owner', product: 'GLU', valid_from: '2024-01-01' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D2', rep: 'R2', role: 'inside_owner', product: 'GLU', valid_from: '2024-01-01' });
  users.rep = await createUser(srv, { login: uniqueLogin('zhangwei'), name: '张伟', role: 'field_rep', rep_id: 'R1' });
  users.analyst = await createUser(srv, { login: uniqueLogin('analyst'), name: '分析师', role: 'analyst' });
  // the rep's account made the way an operator would: `medreach user add`, password on stdin
  const login = uniqueLogin('lina');
  const password = newPassword();
  const added = await srv.cli(['user', 'add', login, '--role', 'inside_rep', '--rep', 'R2'], { input: `${password}\n` });
  assert.equal(added.code, 0, `medreach user add: ${added.stdout}${added.stderr}`);
  users.inside = { login, password };
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

const rowIds = (page, table) => page.$$eval(`${table} tbody tr[data-id]`, (trs) => trs.map((t) => t.dataset.id).sort());
const text = async (loc) => (await loc.textContent()).replace(/\s+/g, ' ').trim();

async function openProfile(page, id) {
  await page.goto(`${base}/#/hcp/${id}`);
  await page.locator('#hcp-name').waitFor();
}

test('HCP list: search as you type by name, pinyin prefix and initials, with filters', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    assert.equal(await text(navLink(page, 'hcps')), '医生');
    assert.equal(await text(navLink(page, 'hcos')), '医院');
    assert.equal(await text(navLink(page, 'import')), '数据导入');
    assert.equal(await text(navLink(page, 'reps')), '代表与区域');
    await navLink(page, 'hcps').click();
    await page.waitForURL(/#\/hcps/);
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1', 'D2', 'D3']));
    const d1 = page.locator('#hcp-table tr[data-id="D1"]');
    assert.match(await text(d1), /王建国/);
    assert.match(await text(d1), /wang jian guo/);
    assert.match(await text(d1), /主任医师/);
    assert.match(await text(d1), /上海市第一人民医院/);
    assert.match(await text(d1), /138\*\*\*\*5678/, 'the list shows phones masked');
    await eventually(async () => assert.match(await text(d1.locator('td.tier')), /一线城市/));
    assert.match(await text(page.locator('#hcp-count')), /共 3 位医生/);

    const searches = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (u.pathname === '/api/v1/hcps' && u.searchParams.has('q')) searches.push(u.searchParams.get('q'));
    });
    await page.locator('#hcp-q').pressSequentially('王', { delay: 10 });
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1', 'D2']));
    assert.match(page.url(), /q=%E7%8E%8B/, 'the search is kept in the address');

    searches.length = 0;
    await page.fill('#hcp-q', '');
    await page.locator('#hcp-q').pressSequentially('wangj', { delay: 25 });
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1']));
    await page.waitForTimeout(300);
    assert.ok(searches.length <= 2, `typing is debounced: ${JSON.stringify(searches)}`);
    assert.equal(searches[searches.length - 1], 'wangj');

    await page.fill('#hcp-q', 'wjg');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1']));
    await page.fill('#hcp-q', 'zzz');
    await eventually(async () => assert.match(await text(page.locator('#hcp-table tbody')), /没有符合条件的医生/));

    await page.fill('#hcp-q', '');
    await page.selectOption('#hcp-filters select[name="title"]', 'attending');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D2']));
    assert.match(await text(page.locator('#hcp-count')), /共 1 位医生/);
    await page.click('#hcp-filters button[type="reset"]');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1', 'D2', 'D3']));

    // a row opens the profile; Back returns to the list
    await page.fill('#hcp-q', '刘');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D3']));
    await Promise.all([page.waitForURL(/#\/hcp\/D3$/), page.locator('#hcp-table tr[data-id="D3"] td').nth(2).click()]);
    await page.locator('#hcp-name', { hasText: '刘洋' }).waitFor();
    await page.click('#hcp-back');
    await page.waitForURL(/#\/hcps\?q=/);
    assert.equal(await page.inputValue('#hcp-q'), '刘');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D3']));
  });
});

test('HCP profile for an admin: header, identities in the clear with the audit note, owners by role', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D1');
    assert.equal(await text(page.locator('#hcp-name')), '王建国');
    assert.equal(await text(page.locator('#hcp-pinyin')), 'wang jian guo');
    assert.equal(await text(page.locator('#hcp-title')), '主任医师');
    assert.equal(await page.getAttribute('#hcp-hco', 'href'), '#/hco/H1');
    assert.equal(await text(page.locator('#hcp-hco')), '上海市第一人民医院');
    const note = page.locator('#hcp-mask-note');
    assert.equal(await note.getAttribute('data-masked'), 'false');
    assert.match(await text(note), /已解密.*本次查看已审计/);
    const phone = page.locator('#identity-table tr[data-kind="phone"]');
    await phone.waitFor();
    assert.equal(await text(phone.locator('.ident-value')), '+8613812345678');
    assert.match(await text(phone), /手机/);
    assert.match(await text(page.locator('#identity-table tr[data-kind="license_no"]')), /110101199001011/);
    assert.match(await text(page.locator('#hcp-attrs [data-field="phone"] dd')), /\+8613812345678/);
    const owner = page.locator('#alignment-table tr[data-rep="R1"]');
    assert.equal(await text(owner.locator('td').first()), '医药代表');
    assert.match(await text(owner), /张伟/);
    assert.match(await text(owner), /GLU/);
    assert.equal(await page.locator('#hcp-edit').count(), 1);
    assert.equal(await page.locator('#hcp-erase').count(), 1);
  });
});

test('an analyst sees the same profile masked, and cannot edit', async () => {
  await withPage(async (page) => {
    await signIn(page, users.analyst.login, users.analyst.password);
    await openProfile(page, 'D1');
    const note = page.locator('#hcp-mask-note');
    assert.equal(await note.getAttribute('data-masked'), 'true');
    assert.match(await text(note), /已脱敏/);
    assert.equal(await text(page.locator('#identity-table tr[data-kind="phone"] .ident-value')), '138****5678');
    assert.doesNotMatch(await text(page.locator('#identity-table')), /13812345678/);
    assert.equal(await page.locator('#hcp-edit').count(), 0);
    assert.equal(await page.locator('#hcp-erase').count(), 0);
    assert.equal(await page.locator('#consent-form').count(), 0);
    assert.equal(await page.locator('#identity-form').count(), 0);
  });
});

test('editing a field: the server\'s error next to the field, then the change in the change history', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D2');
    await page.click('#hcp-edit');
    const form = page.locator('#hcp-edit-form');
    await form.waitFor();
    const phone = await form.locator('input[name="phone"]').inputValue();
    assert.equal(phone, '+8613900001111', 'the admin edits the number in the clear');
    await form.locator('input[name="phone"]').fill('12345');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/hcps/D2') && r.request().method() === 'PATCH'),
      page.click('#hcp-save'),
    ]);
    assert.equal(bad.status(), 400);
    const body = await bad.json();
    assert.equal(body.error.detail.field, 'phone');
    const err = form.locator('.field-error[data-field="phone"]');
    await err.waitFor();
    assert.equal(await text(err), body.error.message, 'the server\'s message, next to the phone field');
    assert.equal(await form.locator('input[name="phone"]').getAttribute('aria-invalid'), 'true');

    await form.locator('input[name="phone"]').fill(phone);
    await form.locator('select[name="title"]').selectOption('assoc_chief');
    await form.locator('input[name="department"]').fill('心血管内科');
    const [ok] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/hcps/D2') && r.request().method() === 'PATCH'),
      page.click('#hcp-save'),
    ]);
    assert.equal(ok.status(), 200);
    assert.deepEqual(Object.keys(JSON.parse(ok.request().postData())).sort(), ['department', 'title'], 'only what changed is sent');
    await page.locator('#hcp-edit-form').waitFor({ state: 'detached' });
    await eventually(async () => assert.equal(await text(page.locator('#hcp-attrs [data-field="title"] dd')), '副主任医师'));
    assert.equal(await text(page.locator('#hcp-attrs [data-field="department"] dd')), '心血管内科');
    assert.equal(await text(page.locator('#hcp-title')), '副主任医师');
    const change = page.locator('#change-table tr[data-field="title"]').first();
    await change.waitFor();
    assert.equal(await text(change.locator('.change-field')), '职称');
    assert.equal(await text(change.locator('.change-old')), '主治医师');
    assert.equal(await text(change.locator('.change-new')), '副主任医师');
    assert.match(await text(change), new RegExp(admin.login));
    const dept = page.locator('#change-table tr[data-field="department"]').first();
    assert.equal(await text(dept.locator('.change-old')), '心内科');
    assert.equal(await text(dept.locator('.change-new')), '心血管内科');
  }, { allow: [{ status: 400, url: /\/api\/v1\/hcps\/D2$/ }] });
});

test('recording consents: the current one wins, the history keeps both', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D1');
    assert.match(await text(page.locator('#consent-table tbody')), /暂无同意书记录/);
    await page.click('#hcp-consents details.subform > summary');
    const form = page.locator('#consent-form');
    await form.locator('select[name="channel"]').selectOption('wechat');
    await form.locator('select[name="purpose"]').selectOption('promotional');
    await form.locator('select[name="status"]').selectOption('opt_in');
    await form.locator('input[name="captured_at"]').fill('2024-02-01T10:00');
    await form.locator('input[name="evidence"]').fill('FORM-1');
    await form.locator('button[type="submit"]').click();
    const rows = page.locator('#consent-table tbody tr[data-channel]');
    await eventually(async () => assert.equal(await rows.count(), 1));
    assert.match(await text(rows.first()), /微信.*产品推广.*同意.*2024\/02\/01 10:00.*FORM-1/);

    await form.locator('select[name="status"]').selectOption('opt_out');
    await form.locator('input[name="evidence"]').fill('WECOM-MSG-9');
    await form.locator('button[type="submit"]').click();
    await eventually(async () => assert.match(await text(rows.first()), /拒绝.*WECOM-MSG-9/));
    assert.equal(await rows.count(), 1, 'only the consent in force');
    await page.check('#consent-history');
    await eventually(async () => assert.equal(await rows.count(), 2));
    assert.equal(await page.getAttribute('#consent-table', 'data-mode'), 'history');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((t) => t.dataset.status)), ['opt_out', 'opt_in']);
    const change = page.locator('#change-table tr[data-field="consent.wechat.promotional"]').first();
    await change.waitFor();
    assert.match(await text(change.locator('.change-field')), /同意书（微信 · 产品推广）/);
  });
});

test('channel identities: add one, see it and its history entry, a taken one is refused, remove it', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D3');
    assert.match(await text(page.locator('#identity-table tbody')), /暂无渠道身份/);
    await page.click('#hcp-identities details.subform > summary');
    const form = page.locator('#identity-form');
    await form.locator('select[name="kind"]').selectOption('wechat_unionid');
    await form.locator('input[name="value"]').fill('oUNION_liuyang01');
    await form.locator('input[name="source"]').fill('wechat_oa');
    await form.locator('input[name="verified"]').check();
    await form.locator('button[type="submit"]').click();
    const row = page.locator('#identity-table tr[data-kind="wechat_unionid"]');
    await row.waitFor();
    assert.equal(await text(row.locator('.ident-value')), 'oUNION_liuyang01');
    assert.match(await text(row), /微信 UnionID.*已验证.*wechat_oa/);
    const change = page.locator('#change-table tr[data-field="wechat_unionid"]').first();
    await change.waitFor();
    assert.match(await text(change.locator('.change-new')), /^oUNI\*{4}.+/, 'the history keeps identities masked');
    assert.doesNotMatch(await text(change.locator('.change-new')), /liuyang/);

    // D1's phone belongs to D1: the server says so next to the value
    await form.locator('select[name="kind"]').selectOption('phone');
    await form.locator('input[name="value"]').fill('13812345678');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/hcps/D3/identities') && r.request().method() === 'POST'),
      form.locator('button[type="submit"]').click(),
    ]);
    assert.equal(res.status(), 409);
    const msg = (await res.json()).error.message;
    assert.match(msg, /D1/);
    const shown = page.locator('#identity-form .field-error[data-field="value"]');
    await shown.waitFor();
    assert.equal(await text(shown), msg, 'the server\'s message, next to the value');

    const remove = row.locator('button');
    await remove.click();
    assert.equal(await text(remove), '确认？', 'removal asks for a second click');
    const [del] = await Promise.all([
      page.waitForResponse((r) => /\/api\/v1\/hcps\/D3\/identities\/\d+$/.test(r.url()) && r.request().method() === 'DELETE'),
      remove.click(),
    ]);
    assert.equal(del.status(), 204);
    await eventually(async () => assert.equal(await page.locator('#identity-table tr[data-kind="wechat_unionid"]').count(), 0));
  }, { allow: [{ status: 409, url: /\/api\/v1\/hcps\/D3\/identities$/ }] });
});

test('a second field owner is refused with the server\'s message naming the first', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D1');
    await page.click('#hcp-alignments details.subform > summary');
    const form = page.locator('#alignment-form');
    await form.locator('input[name="rep"]').fill('R2');
    await form.locator('select[name="role"]').selectOption('field_owner');
    await form.locator('input[name="product"]').fill('GLU');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/alignments') && r.request().method() === 'POST'),
      form.locator('button[type="submit"]').click(),
    ]);
    assert.equal(res.status(), 409);
    const msg = (await res.json()).error.message;
    assert.match(msg, /R1/);
    const shown = form.locator('.field-error');
    await shown.waitFor();
    assert.equal(await text(shown), msg);

    // as inside owner it is fine, and the table labels the two kinds of owner
    await form.locator('select[name="role"]').selectOption('inside_owner');
    await form.locator('button[type="submit"]').click();
    const inside = page.locator('#alignment-table tr[data-rep="R2"]');
    await inside.waitFor();
    assert.equal(await text(inside.locator('td').first()), '线上代表');
    assert.equal(await text(page.locator('#alignment-table tr[data-rep="R1"] td').first()), '医药代表');
    assert.equal(await page.locator('#alignment-table tr[data-id]').count(), 2);
  }, { allow: [{ status: 409, url: /\/api\/v1\/alignments$/ }] });
});

test('a field rep sees only their aligned HCP and is refused another one with the server\'s message', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep.login, users.rep.password);
    assert.equal(await navLink(page, 'hcps').count(), 1);
    assert.equal(await navLink(page, 'hcos').count(), 1);
    assert.equal(await navLink(page, 'import').count(), 0, 'no Import for a rep');
    assert.equal(await navLink(page, 'reps').count(), 0, 'no Reps & territories for a rep');
    await navLink(page, 'hcps').click();
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1']));
    assert.match(await text(page.locator('#hcp-count')), /共 1 位医生/);
    await page.fill('#hcp-q', '王');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D1']));
    await page.click('#hcp-table tr[data-id="D1"] a');
    await page.locator('#hcp-name', { hasText: '王建国' }).waitFor();
    assert.equal(await page.locator('#hcp-edit').count(), 1, 'the owning rep may edit');
    assert.equal(await page.locator('#hcp-erase').count(), 0, 'but not erase');
    assert.equal(await page.locator('#alignment-form').count(), 0, 'nor align');

    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/hcps/D3')),
      page.goto(`${base}/#/hcp/D3`),
    ]);
    assert.equal(res.status(), 403);
    const msg = (await res.json()).error.message;
    const card = page.locator('.error-card');
    await card.waitFor();
    assert.match(await text(card), /无法打开此医生档案/);
    assert.equal(await text(card.locator('.server-message')), msg);
    assert.match(msg, /D3/);
    await page.goto(`${base}/#/import`);
    await page.locator('#no-access').waitFor();
  }, { allow: [{ status: 403, url: /\/api\/v1\/hcps\/D3$/ }] });
});

test('HCOs: the list with level and grade, a hospital with its departments and doctors', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await navLink(page, 'hcos').click();
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hco-table'), ['H1']));
    const row = page.locator('#hco-table tr[data-id="H1"]');
    assert.match(await text(row), /上海市第一人民医院.*三级甲等.*综合医院.*上海.*一线城市.*east/);
    await page.fill('#hco-q', '北京');
    await eventually(async () => assert.match(await text(page.locator('#hco-table tbody')), /没有符合条件的医院/));
    await page.fill('#hco-q', '上海');
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hco-table'), ['H1']));
    await Promise.all([page.waitForURL(/#\/hco\/H1$/), row.locator('td').nth(1).click()]);
    assert.equal(await text(page.locator('#hco-name')), '上海市第一人民医院');
    assert.deepEqual(await page.$$eval('#hco-departments .chip', (els) => els.map((e) => e.textContent)), ['内分泌科', '心内科']);
    assert.match(await text(page.locator('#hco-facts [data-field="address"]')), /虹口区武进路85号/);
    await eventually(async () => assert.ok((await rowIds(page, '#hco-doctors')).includes('D1')));
    assert.ok((await rowIds(page, '#hco-doctors')).length >= 2);
    await page.click('#hco-doctors-card a[href^="#/hcps?hco="]');
    await page.locator('#hcp-chips [data-filter="hco"]').waitFor();
    assert.match(await text(page.locator('#hcp-chips')), /医院：H1/);
  });
});

test('reps and territories: the tree, rep counts, and the reps of a territory', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await navLink(page, 'reps').click();
    const tree = page.locator('#territory-tree');
    await tree.locator('.tree-node[data-id="T-SH"]').waitFor();
    const names = await tree.locator('.tree-node .tree-name').allTextContents();
    assert.deepEqual(names, ['全部区域', '全国', '华东', '上海'], 'each territory under its parent');
    const pad = (id) => tree.locator(`.tree-node[data-id="${id}"]`).evaluate((el) => parseInt(getComputedStyle(el).paddingLeft, 10));
    assert.ok(await pad('T-CN') < await pad('T-EAST') && await pad('T-EAST') < await pad('T-SH'), 'indented by depth');
    assert.equal(await text(tree.locator('.tree-node[data-id="T-CN"] .tree-count')), '2', 'reps below count');
    await tree.locator('.tree-node[data-id="T-SH"]').click();
    assert.match(await text(page.locator('#rep-panel-title')), /上海 的代表/);
    assert.deepEqual(await rowIds(page, '#rep-table'), ['R1', 'R2']);
    assert.match(await text(page.locator('#rep-table tr[data-id="R1"]')), /张伟.*医药代表/);
    assert.match(await text(page.locator('#rep-table tr[data-id="R2"]')), /李娜.*线上代表/);
    await page.selectOption('#rep-filters select[name="type"]', 'inside');
    assert.deepEqual(await rowIds(page, '#rep-table'), ['R2']);
    await page.click('#rep-table tr[data-id="R2"] a');
    await page.waitForURL(/#\/hcps\?rep=R2/);
    await eventually(async () => assert.ok((await rowIds(page, '#hcp-table')).includes('D2')));
    assert.ok(!(await rowIds(page, '#hcp-table')).includes('D3'), 'only the rep\'s HCPs');
    assert.match(await text(page.locator('#hcp-chips')), /代表：R2/);
  });
});

test('import: a CSV with a bad row shows the counts, a chart and the error line; GBK with the encoding picked', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await navLink(page, 'import').click();
    await page.locator('#import-form').waitFor();
    await page.selectOption('#import-entity', 'hcps');
    assert.match(await text(page.locator('#import-columns')), /id,name,pinyin/);
    const csv = 'id,name,title,hco,specialty\r\n'
      + 'D10,孙思邈,chief,H1,endocrinology\r\n'
      + 'D11,华佗,boss,H1,surgery\r\n'
      + 'D12,张仲景,attending,H1,cardiology\r\n';
    await page.setInputFiles('#import-file', { name: 'doctors.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/hcps/import')),
      page.click('#import-submit'),
    ]);
    assert.equal(res.status(), 200);
    assert.equal(res.request().headers()['content-type'], 'text/csv');
    const result = page.locator('#import-result');
    await result.waitFor();
    const stat = async (k) => text(result.locator(`[data-stat="${k}"] .stat-value`));
    assert.equal(await stat('rows'), '3');
    assert.equal(await stat('created'), '2');
    assert.equal(await stat('failed'), '1');
    assert.match(await text(page.locator('#import-outcome')), /医生导入完成，部分行有错误/);
    const errs = page.locator('#import-errors tbody tr[data-line]');
    assert.equal(await errs.count(), 1);
    assert.equal(await errs.first().getAttribute('data-line'), '3');
    const cells = await errs.first().locator('td').allTextContents();
    assert.equal(cells[0], '3');
    assert.equal(cells[1], '3');
    assert.equal(cells[2], 'title');
    assert.match(cells[3], /boss|resident/);
    const drawn = page.locator('#import-chart canvas, #import-chart svg').first();
    await drawn.waitFor({ state: 'visible' });
    const box = await drawn.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `chart has a usable size: ${JSON.stringify(box)}`);

    // the same file again: nothing new
    await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/hcps/import')), page.click('#import-submit')]);
    await eventually(async () => assert.equal(await stat('unchanged'), '2'));
    assert.equal(await stat('created'), '0');

    // a GBK file (as Chinese Excel saves it), the encoding chosen
    const gbk = Buffer.concat([Buffer.from('id,name,title,hco\r\nD20,'), Buffer.from('c5b7d1f4d0de', 'hex'),
      Buffer.from(',chief,H1\r\nD21,'), Buffer.from('d6eeb8f0c1c1', 'hex'), Buffer.from(',resident,H1\r\n')]);
    await page.selectOption('#import-encoding', 'gb18030');
    await page.setInputFiles('#import-file', { name: 'gbk.csv', mimeType: 'text/csv', buffer: gbk });
    const [res2] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/hcps/import')), page.click('#import-submit')]);
    assert.match(res2.url(), /encoding=gb18030/);
    await eventually(async () => assert.equal(await stat('created'), '2'));
    assert.equal(await stat('failed'), '0');
    assert.match(await text(page.locator('#import-errors tbody')), /没有错误/);

    // the imported doctors are searchable
    await page.goto(`${base}/#/hcps?q=${encodeURIComponent('欧阳')}`);
    await eventually(async () => assert.deepEqual(await rowIds(page, '#hcp-table'), ['D20']));
    assert.match(await text(page.locator('#hcp-table tr[data-id="D20"]')), /欧阳修.*主任医师/);
  });
});

test('an import the server refuses as a whole shows its message', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/import`);
    await page.selectOption('#import-entity', 'alignments');
    await page.setInputFiles('#import-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('hcp,rep,colour\r\nD1,R1,red\r\n') });
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/v1/alignments/import')), page.click('#import-submit')]);
    assert.equal(res.status(), 400);
    const msg = (await res.json()).error.message;
    const card = page.locator('#import-result-slot .error-card');
    await card.waitFor();
    assert.match(await text(card), /导入失败/);
    assert.equal(await text(card.locator('.server-message')), msg);
  }, { allow: [{ status: 400, url: /\/api\/v1\/alignments\/import$/ }] });
});

test('the profile in English, and a switch back keeps the page', async () => {
  await withPage(async (page) => {
    await signIn(page, users.inside.login, users.inside.password);
    await openProfile(page, 'D2');
    await page.selectOption('#lang-switch', 'en');
    await page.locator('#hcp-attrs h2', { hasText: 'Attributes' }).waitFor();
    assert.equal(await text(navLink(page, 'hcps')), 'HCPs');
    assert.match(await text(page.locator('#hcp-title')), /physician/);
    assert.equal(await text(page.locator('#alignment-table tr[data-rep="R2"] td').first()), 'Inside rep (owner)');
    assert.match(await text(page.locator('#hcp-mask-note')), /Unmasked.*audited/);
    assert.match(await text(page.locator('#identity-table thead')), /Kind.*Value/);
    assert.match(await text(page.locator('#hcp-changes h2')), /Change history/);
    await page.selectOption('#lang-switch', 'zh');
    await page.locator('#hcp-attrs h2', { hasText: '基本信息' }).waitFor();
    assert.equal(await text(page.locator('#alignment-table tr[data-rep="R2"] td').first()), '线上代表');
  });
});

test('the HCP list pages with "more" (next_cursor), filters taken from the address', async () => {
  const lines = ['id,name,title,hco,specialty'];
  for (let i = 0; i < 64; i++) lines.push(`P${String(i).padStart(3, '0')},测试医生${i},resident,H1,pagingtest`);
  const res = await srv.api('POST', '/api/v1/hcps/import', {
    token: srv.adminToken, body: `${lines.join('\r\n')}\r\n`, headers: { 'Content-Type': 'text/csv' },
  });
  assert.equal(res.status, 200, res.text);
  const total = lines.length - 1;
  assert.equal(res.json.created, total, res.text);
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await page.goto(`${base}/#/hcps?specialty=pagingtest`);
    assert.equal(await page.inputValue('#hcp-filters input[name="specialty"]'), 'pagingtest', 'the filter comes from the address');
    const rows = page.locator('#hcp-table tbody tr[data-id]');
    await eventually(async () => assert.equal(await rows.count(), 50));
    assert.match(await text(page.locator('#hcp-count')), /已显示 50 位医生，还有更多/);
    assert.equal(await page.locator('#hcp-more').isVisible(), true);
    await page.click('#hcp-more');
    await eventually(async () => assert.equal(await rows.count(), total));
    assert.equal(await page.locator('#hcp-more').isVisible(), false);
    assert.match(await text(page.locator('#hcp-count')), new RegExp(`共 ${total} 位医生`));
    const ids = await rowIds(page, '#hcp-table');
    assert.equal(new Set(ids).size, total, 'every doctor once');
  });
});

test('PIPL erasure: a dialog that needs the ID typed, then the doctor is gone from the list', async () => {
  await withPage(async (page) => {
    await signIn(page, admin.login, admin.password);
    await openProfile(page, 'D3');
    await page.click('#hcp-erase');
    const dialog = page.locator('#erase-dialog');
    await dialog.waitFor();
    assert.match(await text(dialog), /刘洋（D3）/);
    assert.equal(await page.locator('#erase-confirm').isDisabled(), true);
    await page.fill('#erase-id', 'D');
    assert.equal(await page.locator('#erase-confirm').isDisabled(), true);
    await page.fill('#erase-id', 'D3');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/hcps/D3?erase=true') && r.request().method() === 'DELETE'),
      page.click('#erase-confirm'),
    ]);
    assert.equal(res.status(), 204);
    await page.waitForURL(/#\/hcps$/);
    await eventually(async () => assert.ok((await rowIds(page, '#hcp-table')).length > 0));
    assert.ok(!(await rowIds(page, '#hcp-table')).includes('D3'));
  });
});

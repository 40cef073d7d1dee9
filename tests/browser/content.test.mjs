// Browser tests of the Content page in Debian's headless Chromium
// (playwright-core): every role finds it in the navigation; it lists the
// library's items (title, topic, product, status badge, expiry) and narrows
// them by a title search as you type and by topic, product and status (kept
// in the hash); an admin creates an item with the form (a bad value is shown
// next to its field) and changes one; a field rep sees the list read-only;
// the page switches between English and Chinese live. Every test fails on a
// console error, a page error or a missing translation.
//
// The server is a private `medreach serve` (server.mjs), seeded through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
const users = {};

async function seed(method, path, body) {
  const res = await srv.api(method, path, { token: srv.token, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const ITEMS = [
  { id: 'C-01', title: '达格列净指南解读', topic: 'guidelines', product: 'GLU-XR', status: 'approved', expires_at: '2027-03-31' },
  { id: 'C-02', title: '心衰病例分享', topic: 'case_study', product: 'CARDIO-PLUS', status: 'in_review' },
  { id: 'C-03', title: '达格列净安全性数据', topic: 'safety', product: 'GLU-XR', status: 'draft' },
  { id: 'C-04', title: '基层高血压管理', topic: 'guidelines', status: 'withdrawn', expires_at: '2020-01-01' },
];

before(async () => {
  srv = await startServer();
  base = srv.url;
  for (const item of ITEMS) await seed('POST', '/api/v1/content', item);
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '张伟', type: 'field' });
  users.rep = await srv.createUser({ name: '张伟', role: 'field_rep', rep_id: 'R1' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const admin = () => ({ login: srv.login, password: srv.password });
const rowIds = (page) => page.$$eval('#content-table tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
const row = (page, id) => page.locator(`#content-table tbody tr[data-id="${id}"]`);

async function openContent(page) {
  await navLink(page, 'content').click();
  await page.waitForURL(/#\/content/);
  await page.locator('#content-table[data-state="ready"]').waitFor();
}

/** Waits until the table shows exactly ids (in any order). */
async function shows(page, ids) {
  await eventually(async () => {
    await page.locator('#content-table[data-state="ready"]').waitFor();
    assert.deepEqual((await rowIds(page)).sort(), [...ids].sort());
  });
}

test('the Content page lists the library: title, topic, product, status badge and expiry, in Chinese', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    assert.equal(await text(navLink(page, 'content')), '内容库');
    await openContent(page);
    assert.equal(await text(page.locator('.page.content h1')), '内容库');
    assert.deepEqual(await page.locator('#content-table thead th').allTextContents(), ['标题', '主题', '产品', '状态', '有效期至', '操作']);
    await shows(page, ['C-01', 'C-02', 'C-03', 'C-04']);
    const c1 = row(page, 'C-01');
    assert.match(await text(c1.locator('td').nth(0)), /达格列净指南解读.*C-01/);
    assert.equal(await text(c1.locator('td').nth(1)), '指南解读');
    assert.equal(await text(c1.locator('td').nth(2)), 'GLU-XR');
    assert.equal(await text(c1.locator('.badge.content-status')), '已批准');
    assert.equal(await text(c1.locator('td').nth(4)), '2027/03/31');
    assert.equal(await text(row(page, 'C-04').locator('td').nth(2)), '通用医学教育', 'no product: general medical education');
    assert.equal(await text(row(page, 'C-04').locator('.badge.content-status')), '已撤回');
    assert.equal(await text(page.locator('#content-count')), '共 4 条内容');
  });
});

test('search as you type and the topic, product and status filters narrow the list; the filters live in the hash', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openContent(page);
    await page.fill('#content-q', '达格');
    await shows(page, ['C-01', 'C-03']);
    assert.match(page.url(), /#\/content\?q=%E8%BE%BE%E6%A0%BC/);
    await page.fill('#content-filters input[name="product"]', 'GLU-XR');
    await shows(page, ['C-01', 'C-03']);
    await page.selectOption('#content-filters select[name="status"]', 'draft');
    await shows(page, ['C-03']);
    await page.click('#content-filters button[type="reset"]');
    await shows(page, ['C-01', 'C-02', 'C-03', 'C-04']);
    await page.fill('#content-filters input[name="topic"]', 'guidelines');
    await shows(page, ['C-01', 'C-04']);
    await page.fill('#content-q', '没有这样的标题');
    await eventually(async () => assert.equal(await text(page.locator('#content-table tbody tr.empty')), '没有符合条件的内容。'));
    // the filters come back with the page
    await page.goto(`${base}/#/content?status=in_review`);
    await shows(page, ['C-02']);
    assert.equal(await page.inputValue('#content-filters select[name="status"]'), 'in_review');
  });
});

test('an admin creates an item with the form (a bad value shown next to its field) and changes one', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openContent(page);
    await page.click('#content-new');
    const form = page.locator('#content-form');
    await form.waitFor();
    assert.equal(await text(page.locator('#content-form-title')), '新建内容');
    await form.locator('input[name="id"]').fill('C-01');
    await form.locator('input[name="title"]').fill('重复的编号');
    await page.click('#content-save');
    await eventually(async () => assert.match(await text(page.locator('#content-form .field-error[data-field="id"]')), /C-01 already exists/));

    await form.locator('input[name="id"]').fill('C-NEW');
    await form.locator('input[name="title"]').fill('');
    await page.click('#content-save');
    await page.locator('#content-form .field-error[data-field="title"]').waitFor();
    assert.match(await text(page.locator('#content-form .field-error[data-field="title"]')), /title is required/);

    await form.locator('input[name="title"]').fill('胰岛素起始治疗要点');
    await form.locator('input[name="topic"]').fill('dosing');
    await form.locator('input[name="product"]').fill('GLU-XR');
    await form.locator('select[name="status"]').selectOption('in_review');
    await form.locator('input[name="expires_at"]').fill('2027-06-30');
    await page.click('#content-save');
    await row(page, 'C-NEW').waitFor();
    assert.ok(await page.locator('#content-form-card').isHidden(), 'the form closes once saved');
    assert.equal(await text(row(page, 'C-NEW').locator('td').nth(1)), '用法用量');
    assert.equal(await text(row(page, 'C-NEW').locator('.badge.content-status')), '审核中');
    assert.equal(await text(row(page, 'C-NEW').locator('td').nth(4)), '2027/06/30');
    let r = await srv.api('GET', '/api/v1/content/C-NEW', { token: srv.token });
    assert.deepEqual([r.json.title, r.json.topic, r.json.product, r.json.status, r.json.expires_at],
      ['胰岛素起始治疗要点', 'dosing', 'GLU-XR', 'in_review', '2027-06-29T16:00:00Z'], 'the day in the browser\'s zone (Shanghai)');

    await row(page, 'C-NEW').locator('.content-edit').click();
    assert.equal(await text(page.locator('#content-form-title')), '编辑内容 C-NEW');
    assert.equal(await form.locator('input[name="id"]').getAttribute('readonly'), '');
    assert.equal(await form.locator('input[name="expires_at"]').inputValue(), '2027-06-30');
    await form.locator('select[name="status"]').selectOption('approved');
    await form.locator('input[name="product"]').fill('');
    await page.click('#content-save');
    await eventually(async () => assert.equal(await text(row(page, 'C-NEW').locator('.badge.content-status')), '已批准'));
    assert.equal(await text(row(page, 'C-NEW').locator('td').nth(2)), '通用医学教育');
    r = await srv.api('GET', '/api/v1/content/C-NEW/changes', { token: srv.token });
    assert.deepEqual(r.json.items.filter((c) => c.field !== '*').map((c) => c.field).sort(), ['product', 'status'],
      'only what was changed was sent');
  }, { allow: [{ status: 409, url: /\/api\/v1\/content$/ }, { status: 400, url: /\/api\/v1\/content$/ }] });
});

test('a field rep sees the library read-only', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep);
    await openContent(page);
    await shows(page, ['C-01', 'C-02', 'C-03', 'C-04', 'C-NEW']);
    assert.equal(await page.locator('#content-new').count(), 0, 'no New button');
    assert.equal(await page.locator('#content-form').count(), 0, 'no form');
    assert.equal(await page.locator('.content-edit').count(), 0, 'no Edit buttons');
    assert.deepEqual(await page.locator('#content-table thead th').allTextContents(), ['标题', '主题', '产品', '状态', '有效期至']);
    assert.equal(await text(page.locator('#content-read-only')), '您的角色可以查看内容库，但不能修改。');
  });
});

test('the Content page in English, then Chinese labels again after switching back', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openContent(page);
    await page.selectOption('#lang-switch', 'en');
    await page.locator('.page.content h1', { hasText: 'Content library' }).waitFor();
    assert.equal(await text(navLink(page, 'content')), 'Content');
    assert.deepEqual(await page.locator('#content-table thead th').allTextContents(), ['Title', 'Topic', 'Product', 'Status', 'Expires', 'Actions']);
    assert.equal(await text(row(page, 'C-01').locator('.badge.content-status')), 'Approved');
    assert.equal(await text(row(page, 'C-01').locator('td').nth(1)), 'Guidelines');
    assert.equal(await text(row(page, 'C-04').locator('td').nth(2)), 'General medical education');
    assert.equal(await text(page.locator('#content-new')), 'New item');
    assert.equal(await text(page.locator('#content-count')), '5 items');
    assert.equal(await page.getAttribute('#content-q', 'placeholder'), 'Start of the title');

    await page.selectOption('#lang-switch', 'zh');
    await page.locator('.page.content h1', { hasText: '内容库' }).waitFor();
    assert.equal(await text(navLink(page, 'content')), '内容库');
    assert.deepEqual(await page.locator('#content-table thead th').allTextContents(), ['标题', '主题', '产品', '状态', '有效期至', '操作']);
    assert.equal(await text(row(page, 'C-01').locator('.badge.content-status')), '已批准');
    assert.equal(await text(row(page, 'C-01').locator('td').nth(1)), '指南解读');
    assert.equal(await text(page.locator('#content-new')), '新建内容');
    assert.equal(await text(page.locator('#content-count')), '共 5 条内容');
    assert.equal(await text(page.locator('#content-filters select[name="status"] option[value="in_review"]')), '审核中');
  });
});

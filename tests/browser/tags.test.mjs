// Browser tests of the tag catalogue in Debian's headless Chromium
// (playwright-core): the catalogue lists each tag with its type, definition
// and a distribution chart; defining a tag shows an expression's mistake
// inline under the column it points at, fixing it makes it valid, and the
// saved tag appears with its chart, while a bad name is refused next to the
// name field; the labels follow the language both ways; on a doctor's
// profile a field rep sets a manual tag of their doctor and sees who set it.
// Every test fails on a console error, a page error or a missing translation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
let rep = null;

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const HOUR = 3600 * 1000;
const ago = (h) => new Date(Date.now() - h * HOUR).toISOString();

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/hcps', { id: 'D1', name: '王建国', specialty: 'endocrinology' });
  await seed('POST', '/api/v1/hcps', { id: 'D2', name: '李梅', specialty: 'cardiology' });
  await seed('POST', '/api/v1/hcps', { id: 'D3', name: '张磊', specialty: 'endocrinology' });
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '赵倩', type: 'field' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D3', rep: 'R1', role: 'field_owner' });
  await seed('POST', '/api/v1/content', { id: 'C1', title: '指南速览', topic: 'guidelines', status: 'approved' });
  await seed('POST', '/api/v1/content', { id: 'C2', title: '真实世界数据', topic: 'patient_data', status: 'approved' });
  const events = [
    { id: 'tb-1', ts: ago(1), hcp: 'D1', channel: 'wechat', outcome: 'responded' },
    { id: 'tb-2', ts: ago(2), hcp: 'D1', channel: 'wechat', outcome: 'responded' },
    { id: 'tb-3', ts: ago(3), hcp: 'D1', channel: 'wechat', outcome: 'responded' },
    { id: 'tb-4', ts: ago(4), hcp: 'D1', channel: 'content', outcome: 'viewed', content: 'C1' },
    { id: 'tb-5', ts: ago(5), hcp: 'D2', channel: 'content', outcome: 'viewed', content: 'C2' },
    { id: 'tb-6', ts: ago(6), hcp: 'D3', channel: 'phone', outcome: 'effective' },
  ];
  await seed('POST', '/api/v1/events', ndjson(events), { 'content-type': 'application/x-ndjson' });
  await seed('PUT', '/api/v1/tags/wechat_engaged', { expr: 'count(channel = "wechat" and outcome >= "responded", 90d) >= 3', category: 'engagement', description: '近 90 天微信回复至少 3 次' });
  await seed('PUT', '/api/v1/tags/engagement_score', { expr: 'sum(weight, 180d)', category: 'engagement' });
  await seed('PUT', '/api/v1/tags/academic_need', { expr: 'top(content.topic, channel = "content", 180d)', category: 'needs' });
  await seed('PUT', '/api/v1/tags/kol', { type: 'boolean', category: 'profile', description: '关键意见领袖' });
  rep = await srv.createUser({ name: '赵倩', role: 'field_rep', rep_id: 'R1' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const admin = () => ({ login: srv.login, password: srv.password });

async function openTags(page) {
  await navLink(page, 'tags').click();
  await page.waitForURL(/#\/tags/);
  await page.locator('#tag-list[data-state="ready"]').waitFor();
}

test('the catalogue lists each tag with its type, definition and a chart of its values', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openTags(page);
    assert.equal(await text(page.locator('.tags h1')), '标签目录');
    const names = await page.$$eval('.tag-card .tag-name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(names, ['wechat_engaged', 'engagement_score', 'academic_need', 'kol']);
    const card = page.locator('#tag-wechat_engaged');
    assert.equal(await text(card.locator('.tag-type')), '布尔');
    assert.equal(await text(card.locator('.tag-kind')), '自动计算');
    assert.match(await text(card.locator('.tag-def')), /count\(channel = "wechat"/);
    assert.match(await text(card.locator('.tag-counts')), /3 位医生有值/);
    assert.equal(await text(page.locator('#tag-kol .tag-kind')), '手动标注');
    for (const name of ['wechat_engaged', 'engagement_score', 'academic_need']) {
      await page.locator(`#tag-${name} .tag-dist[data-state="ready"] canvas`).first().waitFor();
    }
    // the texts' shares, translated
    await eventually(async () => assert.match(await text(page.locator('#tag-academic_need .tag-figures')), /指南解读 33\.3%/));
    assert.match(await text(page.locator('#tag-engagement_score .tag-figures')), /最大 10/);
    // a category narrows the list, kept in the URL
    await page.selectOption('#tag-category', 'needs');
    await eventually(async () => assert.equal(await page.locator('.tag-card').count(), 1));
    assert.match(page.url(), /category=needs/);
  });
});

test('defining a tag: a mistake is shown inline, fixed, saved; a bad name is refused at its field', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openTags(page);
    await page.click('#tag-new');
    await page.fill('#tag-f-name', 'phone_recent');
    await page.fill('#tag-f-expr', 'count(channel = "pigeon", 30d) >= 1');
    const status = page.locator('#tag-f-status');
    await eventually(async () => {
      assert.equal(await status.getAttribute('data-state'), 'error');
      assert.match(await text(status), /第 17 列/);
      assert.match(await text(status.locator('.expected')), /phone/);
    });
    assert.match(await text(status.locator('.expr-caret')), /\^$/);
    await page.fill('#tag-f-expr', 'count(channel = "phone", 30d) >= 1');
    await eventually(async () => {
      assert.equal(await status.getAttribute('data-state'), 'ok');
      assert.match(await text(status), /表达式有效，结果为布尔/);
    });
    await page.fill('#tag-f-category', 'engagement');
    await page.click('#tag-f-save');
    await page.locator('#tag-phone_recent .tag-dist[data-state="ready"] canvas').first().waitFor();
    assert.match(await text(page.locator('#tag-phone_recent .tag-counts')), /3 位医生有值/);
    // a name the server refuses: its message next to the name field
    await page.click('#tag-new');
    await page.fill('#tag-f-name', 'specialty');
    await page.fill('#tag-f-expr', 'true');
    await page.click('#tag-f-save');
    await eventually(async () => {
      assert.equal(await page.locator('#tag-f-name').getAttribute('aria-invalid'), 'true');
      assert.match(await text(page.locator('.field-error[data-field="name"]')), /profile attribute/);
    });
    // an expression the server refuses on save: shown inline too
    await page.fill('#tag-f-name', 'loop_tag');
    await page.fill('#tag-f-expr', 'exists(channel = "visit", 0d)');
    await page.click('#tag-f-save');
    await eventually(async () => assert.equal(await status.getAttribute('data-state'), 'error'));
    await page.click('#tag-f-cancel');
    assert.equal(await page.locator('#tag-form').count(), 0);
  }, { allow: [{ status: 400, url: /\/api\/v1\/tags\// }] });
});

test('labels switch to English and back to Chinese', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openTags(page);
    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => {
      assert.equal(await text(page.locator('.tags h1')), 'Tag catalogue');
      assert.equal(await text(page.locator('#tag-wechat_engaged .tag-type')), 'Boolean');
      assert.equal(await text(page.locator('#tag-kol .tag-kind')), 'Manual');
      assert.match(await text(page.locator('#tag-wechat_engaged .tag-counts')), /3 doctors have a value/);
      assert.equal(await text(navLink(page, 'tags')), 'Tags');
    });
    await page.selectOption('#lang-switch', 'zh');
    await eventually(async () => {
      assert.equal(await text(page.locator('.tags h1')), '标签目录');
      assert.equal(await text(page.locator('#tag-engagement_score .tag-type')), '数值');
      assert.equal(await text(page.locator('#tag-academic_need .tag-type')), '文本');
      assert.match(await text(page.locator('#tag-wechat_engaged .tag-def-row')), /定义/);
      assert.equal(await text(navLink(page, 'tags')), '标签');
    });
  });
});

test("a field rep sets a manual tag on their doctor's profile and sees who set it", async () => {
  await withPage(async (page) => {
    await signIn(page, rep);
    await page.goto(`${base}/#/hcp/D3`);
    const table = page.locator('#hcp-tags-table[data-state="ready"]');
    await table.waitFor();
    const kol = table.locator('tr[data-tag="kol"]');
    assert.match(await text(kol), /无值/);
    assert.match(await text(table.locator('tr[data-tag="engagement_score"]')), /3/);
    // no defining for a rep
    await navLink(page, 'tags').click();
    await page.locator('#tag-list[data-state="ready"]').waitFor();
    assert.equal(await page.locator('#tag-new').count(), 0);
    await page.goto(`${base}/#/hcp/D3`);
    await table.waitFor();
    await kol.locator('select.tag-value-input').selectOption('true');
    await kol.locator('.tag-set').click();
    await eventually(async () => {
      const row = table.locator('tr[data-tag="kol"]');
      assert.match(await text(row.locator('.tag-value')), /^是/);
      assert.match(await text(row), new RegExp(`手动标注 · ${rep.login}`));
    });
  });
});

// Browser tests of the segment builder in Debian's headless Chromium
// (playwright-core): typing an expression gives its live count; a mistake
// shows, under the column it points at, what was expected there, and fixing
// it brings the count back; an event-function expression counts the events
// posted through the API; the members table lists exactly the doctors and
// links to their profiles; a field rep counts only their aligned doctors; the
// page switches between English and Chinese live. Every test fails on a
// console error, a page error or a missing translation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
const users = {};

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const HCPS = [
  { id: 'D1', name: '王建国', specialty: 'endocrinology', title: 'chief' },
  { id: 'D2', name: '李梅', specialty: 'cardiology', title: 'attending' },
  { id: 'D3', name: '张磊', specialty: 'endocrinology', title: 'resident' },
];

before(async () => {
  srv = await startServer();
  base = srv.url;
  for (const d of HCPS) await seed('POST', '/api/v1/hcps', d);
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '赵倩', type: 'field' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D3', rep: 'R1', role: 'field_owner' });
  const hour = 3600 * 1000;
  const events = [1, 2].map((i) => ({ id: `seg-b-${i}`, ts: new Date(Date.now() - i * hour).toISOString(), hcp: 'D1', channel: 'wechat', outcome: 'responded' }));
  await seed('POST', '/api/v1/events', ndjson(events), { 'content-type': 'application/x-ndjson' });
  users.rep = await srv.createUser({ name: '赵倩', role: 'field_rep', rep_id: 'R1' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const admin = () => ({ login: srv.login, password: srv.password });

async function openSegments(page) {
  await navLink(page, 'segments').click();
  await page.waitForURL(/#\/segments/);
  await page.locator('#seg-expr').waitFor();
}

async function typeExpr(page, expr) {
  await page.fill('#seg-expr', expr);
}

const count = async (page) => Number(await page.locator('#seg-count').getAttribute('data-count'));

test('the count follows the expression as it is typed; a mistake points at its column', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await page.selectOption('#lang-switch', 'en');
    await openSegments(page);
    await typeExpr(page, 'specialty = "endocrinology"');
    await eventually(async () => assert.equal(await count(page), 2));
    await typeExpr(page, 'specialty = "endocrinology" and titel = "chief"');
    await page.locator('#seg-status[data-state="error"]').waitFor();
    const status = await text(page.locator('#seg-status'));
    assert.match(status, /Column 33/);
    assert.match(status, /titel/);
    assert.ok(await page.locator('#seg-count').isHidden(), 'no count for a broken expression');
    const caret = await page.locator('.expr-caret').innerText();
    assert.equal(caret.split('\n')[1].indexOf('^'), 32, 'the caret sits under the column');
    await typeExpr(page, 'specialty = "endocrinology" and title = "chief"');
    await eventually(async () => assert.equal(await count(page), 1));
    // an event function over what the API posted: D1 answered twice on WeChat
    await typeExpr(page, 'count(channel = "wechat" and outcome >= "responded", 7d) >= 2');
    await eventually(async () => assert.equal(await count(page), 1));
    await page.click('#seg-members');
    await page.locator('#seg-table[data-state="ready"]').waitFor();
    const ids = await page.$$eval('#seg-table tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
    assert.deepEqual(ids, ['D1']);
    assert.equal(await page.locator('#seg-table tbody tr[data-id="D1"] a').getAttribute('href'), '#/hcp/D1');
    // a number is not a segment
    await typeExpr(page, 'count(channel = "wechat", 7d)');
    await eventually(async () => assert.match(await text(page.locator('#seg-status')), /true\/false/));
  });
});

test('an example fills the editor; the page speaks Chinese after switching; a rep sees their own doctors', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep);
    await page.selectOption('#lang-switch', 'en');
    await openSegments(page);
    await typeExpr(page, 'specialty = "endocrinology"');
    await eventually(async () => assert.equal(await count(page), 1, 'only D3 is aligned to the rep'));
    await page.click('#seg-examples [data-example="1"]');
    assert.match(await page.inputValue('#seg-expr'), /hco\.city_tier in \(3, 4, 5\)/);
    await eventually(async () => assert.equal(await count(page), 0));
    assert.equal(await text(page.locator('h1')), 'Segments');
    await page.selectOption('#lang-switch', 'zh');
    await eventually(async () => assert.equal(await text(page.locator('h1')), '细分人群'));
    assert.match(await text(page.locator('#seg-show-label, #seg-members')), /查看成员/);
    assert.match(await text(navLink(page, 'segments')), /细分人群/);
  });
});

test('an admin saves the expression as a segment; it is listed with its count and opens again with its daily sizes', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await page.selectOption('#lang-switch', 'en');
    await openSegments(page);
    await page.locator('#seg-saved[data-state="ready"]').waitFor();
    await typeExpr(page, 'specialty = "endocrinology"');
    await eventually(async () => assert.equal(await count(page), 2));
    await page.fill('#seg-name', 'endo-all');
    await page.fill('#seg-desc', '全部内分泌科医生');
    await page.click('#seg-save');
    await eventually(async () => assert.match(await text(page.locator('#seg-save-msg')), /Saved “endo-all”/));
    const row = page.locator('#seg-saved tbody tr[data-name="endo-all"]');
    await eventually(async () => assert.match(await text(row), /endo-all 全部内分泌科医生 2 /));
    // a bad name is refused with the server's words
    await page.fill('#seg-name', 'Bad Name');
    await page.click('#seg-save');
    await eventually(async () => assert.match(await text(page.locator('#seg-save-msg')), /a-z, 0-9/));
    // opening fills the editor and draws the sizes
    await typeExpr(page, 'true');
    await row.locator('.seg-open').click();
    await eventually(async () => assert.equal(await page.inputValue('#seg-expr'), 'specialty = "endocrinology"'));
    await page.locator('#seg-sizes-chart[data-segment="endo-all"] canvas').waitFor();
    await row.locator('.seg-delete').click();
    await eventually(async () => assert.equal(await page.locator('#seg-saved tbody tr[data-name="endo-all"]').count(), 0));
  }, { allow: [{ status: 400, url: /\/api\/v1\/segments\/Bad/ }] });
});

// Browser test of the next-best-action admin page (web/pages/nba.js) in
// Debian's headless Chromium: marketing defines a rule in the editor — its
// condition first with a mistake, shown inline under its column, then fixed
// — saves it, runs a dry run (nothing created: checked through the API),
// then runs it for real and sees the chart of tasks per rep; the inside rep
// then finds the task with the rule's reason on the Today page, and the
// doctor's page shows what is suggested and, expanded, what was blocked and
// why. Switches to English live. Fails on a console error, a page error or
// a missing translation.

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

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/reps', { id: 'RF', name: '赵倩', type: 'field' });
  await seed('POST', '/api/v1/reps', { id: 'RI', name: '孙立', type: 'inside' });
  for (const [id, name, specialty] of [['D1', '王建国', 'endocrinology'], ['D2', '李梅', 'cardiology']]) {
    await seed('POST', '/api/v1/hcps', { id, name, specialty });
    await seed('POST', '/api/v1/alignments', { hcp: id, rep: 'RF', role: 'field_owner' });
    await seed('POST', '/api/v1/alignments', { hcp: id, rep: 'RI', role: 'inside_owner' });
    for (const channel of ['phone', 'email']) {
      await seed('POST', '/api/v1/consents', { hcp: id, channel, purpose: 'promotional', status: 'opt_in', captured_at: '2025-01-01' });
    }
  }
  // a second rule whose content is a draft: the doctor's page explains the block
  await seed('POST', '/api/v1/content', { id: 'C2', title: '草稿', topic: 'guidelines', status: 'draft' });
  await seed('PUT', '/api/v1/rules/draft-push', { condition: 'true', priority: 5,
    action: { action: 'send_content', channel: 'email', content: { id: 'C2' } } });
  users.mk = await srv.createUser({ name: '市场部', role: 'marketing' });
  users.ri = await srv.createUser({ name: '孙立', role: 'inside_rep', rep_id: 'RI' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const ruleTasks = async () => (await srv.api('GET', '/api/v1/tasks?source=rule', { token: srv.token })).json.items;

test('marketing defines a rule (an inline error first), dry-runs it, runs it and sees tasks per rep', async () => {
  await withPage(async (page) => {
    await signIn(page, users.mk);
    await navLink(page, 'nba').click();
    await page.waitForURL(/#\/nba/);
    await page.locator('#nba-rules-table[data-state="ready"]').waitFor();
    await page.click('#nba-new');
    await page.fill('#nba-f-name', 'endo-call');
    await page.fill('#nba-f-condition', 'specialty = ');
    const status = page.locator('#nba-f-cond-status');
    await eventually(async () => assert.equal(await status.getAttribute('data-state'), 'error'));
    assert.match(await text(status), /第 13 列/);
    await page.fill('#nba-f-condition', 'count(channel = "phone", 90d)');
    await eventually(async () => assert.match(await text(status), /布尔表达式/));
    await page.fill('#nba-f-condition', 'specialty = "endocrinology"');
    await eventually(async () => assert.equal(await status.getAttribute('data-state'), 'ok'));
    await page.selectOption('#nba-f-action', 'call');
    assert.equal(await page.inputValue('#nba-f-channel'), 'phone');
    // the consent purpose the contact is for: promotional unless said otherwise
    assert.equal(await page.inputValue('#nba-f-purpose'), 'promotional');
    assert.deepEqual(await page.locator('#nba-f-purpose option').allInnerTexts(), ['推广', '医学信息', '会议邀请', '调研']);
    await page.selectOption('#nba-f-priority', '1');
    await page.fill('#nba-f-description', '内分泌科医生电话跟进');
    await page.click('#nba-f-save');
    const row = page.locator('#nba-rules-table tr[data-rule="endo-call"]');
    await row.waitFor();
    assert.match(await text(row), /电话/);
    const saved = await srv.api('GET', '/api/v1/rules/endo-call', { token: srv.token });
    assert.deepEqual([saved.json.condition, saved.json.priority, saved.json.action.action, saved.json.action.purpose],
      ['specialty = "endocrinology"', 1, 'call', 'promotional']);

    // a dry run creates nothing
    assert.equal(await page.locator('#nba-run-now').isDisabled(), true);
    await page.click('#nba-dry-run');
    await page.locator('#nba-run-result[data-state="dry"]').waitFor();
    assert.match(await text(page.locator('.nba-run-summary')), /试运行：考察 2 位医生/);
    assert.equal((await ruleTasks()).length, 0);
    // then for real: D1 (endocrinology) gets the call, for its inside owner
    await page.click('#nba-run-now');
    await page.locator('#nba-run-result[data-state="done"]').waitFor();
    assert.match(await text(page.locator('.nba-run-summary')), /生成 1 个任务/);
    await page.locator('#nba-chart-reps canvas').first().waitFor();
    const tasks = await ruleTasks();
    assert.deepEqual(tasks.map((t) => [t.hcp, t.type, t.assignee, t.source_ref]), [['D1', 'call', 'RI', 'endo-call']]);

    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => assert.match(await text(page.locator('.nba-run-summary')), /1 tasks created/));
    assert.match(await text(page.locator('#nba-rules h2')), /Rules/);
  });
});

test('the inside rep sees the task with its reason on Today; the doctor\'s page explains what was blocked', async () => {
  await withPage(async (page) => {
    await signIn(page, users.ri);
    await navLink(page, 'today').click();
    await page.waitForURL(/#\/today/);
    await page.locator('#today-lists[data-state="ready"]').waitFor();
    const card = page.locator('li.task-card').filter({ hasText: '王建国' });
    await card.first().waitFor();
    assert.match(await text(card.first().locator('.task-reason')), /内分泌科医生电话跟进/);

    await page.goto(`${base}/#/hcp/D2`);
    const recs = page.locator('#hcp-recs[data-state="ready"]');
    await recs.waitFor();
    // D2 is a cardiologist: the call rule does not apply; the draft content is blocked, with its reason
    assert.match(await text(page.locator('#hcp-recs-list')), /目前没有建议/);
    await page.click('#hcp-recs-blocked summary');
    const blocked = page.locator('#hcp-recs-blocked tr[data-code="content_unapproved"]');
    assert.match(await text(blocked), /draft-push/);
    assert.match(await text(blocked), /内容未批准/);
    assert.match(await text(blocked), /C2 is draft/);

    // D1 (endocrinology): the call rule's suggestion, marked as a rule's, with its reasons
    await page.goto(`${base}/#/hcp/D1`);
    await page.locator('#hcp-recs[data-state="ready"]').waitFor();
    const call = page.locator('#hcp-recs-list li.nba-rec[data-rule="endo-call"]');
    assert.equal(await call.getAttribute('data-source'), 'rule');
    assert.match(await text(call), /规则建议/);
    assert.match(await text(call.locator('.nba-reasons')), /endo-call/);
  });
});

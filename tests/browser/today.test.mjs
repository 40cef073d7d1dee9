// Browser tests of the rep's Today page and the manager's team view in
// Debian's headless Chromium (playwright-core): a field rep signs in and sees
// their overdue task first, then today's, then the coming one, each with the
// doctor's link and the reason; marks one done and dismisses one with a reason
// from the list (both checked in the store through the API); another rep's
// task never shows. The manager's team view shows, per rep, the same counts
// the summary API gives, as a table and a chart, and reassigns a task. The
// pages switch between Chinese and English live. Every test fails on a
// console error, a page error or a missing translation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
const users = {};
const tasks = {};
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const iso = (ms) => new Date(ms).toISOString();

async function seed(method, path, body) {
  const res = await srv.api(method, path, { token: srv.token, body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/reps', { id: 'M1', name: '陈经理', type: 'field' });
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '赵倩', type: 'field', manager: 'M1' });
  await seed('POST', '/api/v1/reps', { id: 'R2', name: '孙立', type: 'inside', manager: 'M1' });
  for (const [id, name] of [['D1', '王建国'], ['D2', '李梅'], ['D3', '张磊']]) await seed('POST', '/api/v1/hcps', { id, name });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'R1', role: 'field_owner' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D2', rep: 'R1', role: 'field_owner' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D2', rep: 'R2', role: 'inside_owner' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D3', rep: 'R2', role: 'inside_owner' });
  const now = Date.now();
  tasks.overdue = await seed('POST', '/api/v1/tasks', { type: 'call', hcp: 'D1', assignee: 'R1', priority: 1,
    due_from: iso(now - 2 * DAY), due_to: iso(now - HOUR), reason: '三个月没有联系，请尽快电话回访' });
  tasks.today = await seed('POST', '/api/v1/tasks', { type: 'visit', hcp: 'D2', assignee: 'R1',
    due_from: iso(now - HOUR), due_to: iso(now + 2 * HOUR), reason: '新指南发布后的拜访' });
  tasks.later = await seed('POST', '/api/v1/tasks', { type: 'send_content', hcp: 'D1', assignee: 'R1', source: 'model',
    due_from: iso(now + 3 * DAY), due_to: iso(now + 4 * DAY), reason: '对临床试验数据感兴趣' });
  tasks.other = await seed('POST', '/api/v1/tasks', { type: 'wechat', hcp: 'D3', assignee: 'R2',
    due_from: iso(now - HOUR), due_to: iso(now + DAY), reason: '别人的任务' });
  users.rep = await srv.createUser({ name: '赵倩', role: 'field_rep', rep_id: 'R1' });
  users.mgr = await srv.createUser({ name: '陈经理', role: 'manager', rep_id: 'M1' });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const card = (page, t) => page.locator(`li.task-card[data-task="${t.id}"]`);
const taskOf = async (t) => (await srv.api('GET', `/api/v1/tasks/${t.id}`, { token: srv.token })).json;

test('a rep sees overdue first, then today, then what is coming; marks one done and dismisses one', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep);
    assert.equal(await navLink(page, 'team').count(), 0, 'a rep has no team view');
    await navLink(page, 'today').click();
    await page.waitForURL(/#\/today/);
    await page.locator('#today-lists[data-state="ready"]').waitFor();
    assert.equal(await page.locator('#today-overdue li.task-card').count(), 1);
    assert.equal(await page.locator('#today-today li.task-card').count(), 1);
    assert.equal(await page.locator('#today-later li.task-card').count(), 1);
    assert.equal(await page.locator('#today-overdue li.task-card').getAttribute('data-task'), String(tasks.overdue.id));
    assert.equal(await page.locator('#today-today li.task-card').getAttribute('data-task'), String(tasks.today.id));
    assert.equal(await card(page, tasks.other).count(), 0, 'another rep\'s task never shows');
    // the order on the page: overdue, today, later
    const order = await page.locator('li.task-card').evaluateAll((els) => els.map((e) => e.dataset.task));
    assert.deepEqual(order, [tasks.overdue.id, tasks.today.id, tasks.later.id].map(String));
    const first = card(page, tasks.overdue);
    assert.equal(await first.locator('a.task-hcp').getAttribute('href'), '#/hcp/D1');
    assert.equal(await text(first.locator('a.task-hcp')), '王建国');
    assert.equal(await text(first.locator('.task-reason')), '三个月没有联系，请尽快电话回访');
    assert.match(await text(first.locator('.task-type')), /电话/);
    assert.match(await text(page.locator('#today-summary')), /逾期 1 项，今天到期 1 项/);

    // done
    await card(page, tasks.today).locator('button.task-done').click();
    await eventually(async () => assert.equal(await card(page, tasks.today).count(), 0));
    assert.equal((await taskOf(tasks.today)).status, 'done');

    // dismiss with a reason from the list
    const later = card(page, tasks.later);
    await later.locator('button.task-dismiss-open').click();
    await later.locator('select.task-dismiss-reason').selectOption('not_relevant');
    await later.locator('button.task-dismiss-ok').click();
    await eventually(async () => assert.equal(await card(page, tasks.later).count(), 0));
    const d = await taskOf(tasks.later);
    assert.deepEqual([d.status, d.dismiss_reason], ['cancelled', 'not_relevant']);

    // start the overdue one: it stays, now in progress
    await card(page, tasks.overdue).locator('button.task-start').click();
    await eventually(async () => assert.equal(await card(page, tasks.overdue).getAttribute('data-status'), 'in_progress'));
    assert.equal((await taskOf(tasks.overdue)).status, 'in_progress');

    // English, live
    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => assert.match(await text(page.locator('#today-summary')), /1 overdue, 0 due today/));
    assert.match(await text(page.locator('#today-overdue h2')), /Overdue/);
    assert.match(await text(card(page, tasks.overdue).locator('.task-type')), /Call/);
  });
});

test('the manager\'s team view shows each rep\'s counts as the API does, as a chart and a table, and reassigns', async () => {
  await withPage(async (page) => {
    await signIn(page, users.mgr);
    await navLink(page, 'team').click();
    await page.waitForURL(/#\/team/);
    await page.locator('#team-summary[data-state="ready"]').waitFor();
    const api = await srv.api('GET', '/api/v1/tasks/summary', { token: await srvToken(users.mgr) });
    assert.equal(api.status, 200, api.text);
    const byRep = Object.fromEntries(api.json.items.map((x) => [x.assignee, x]));
    // R1: the overdue call (in progress) open and overdue, the visit done this week; R2: the wechat open, due today
    assert.deepEqual([byRep.R1.open, byRep.R1.overdue, byRep.R1.done_week], [1, 1, 1]);
    assert.deepEqual([byRep.R2.open, byRep.R2.due_today], [1, 1]);
    for (const rep of ['R1', 'R2']) {
      const row = page.locator(`#team-summary tr[data-rep="${rep}"]`);
      for (const k of ['open', 'due_today', 'overdue', 'done_week']) {
        assert.equal(await text(row.locator(`td.team-${k}`)), String(byRep[rep][k]), `${rep} ${k}`);
      }
    }
    await page.locator('#team-chart[data-state="ready"] canvas').first().waitFor();
    // reassign R2's wechat task to R1: R1 is not aligned to D3, so the server says so; forced, it goes
    const row = page.locator(`#team-tasks tr[data-task="${tasks.other.id}"]`);
    await row.locator('input.task-reassign-rep').fill('R1');
    await row.locator('button.task-reassign').click();
    await eventually(async () => assert.match(await text(row.locator('.field-error')), /not aligned/));
    await row.locator('input.task-reassign-force').check();
    await row.locator('button.task-reassign').click();
    await eventually(async () => assert.match(await text(page.locator(`#team-tasks tr[data-task="${tasks.other.id}"] td.task-assignee`)), /R1/));
    assert.equal((await taskOf(tasks.other)).assignee, 'R1');
    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => assert.match(await text(page.locator('#team-summary thead')), /Done this week/));
  }, { allow: [{ status: 422, url: /\/api\/v1\/tasks\/\d+$/ }] });
});

const tokens = new Map();
/** An API token for a user (made once, by logging in through the API's token route). */
async function srvToken(who) {
  if (tokens.has(who.login)) return tokens.get(who.login);
  const login = await srv.api('POST', '/api/v1/auth/login', { body: { login: who.login, password: who.password } });
  assert.equal(login.status, 200, login.text);
  const cookie = [].concat(login.headers['set-cookie'])[0].split(';')[0];
  const tok = await srv.api('POST', '/api/v1/tokens', { headers: { Cookie: cookie, 'X-CSRF-Token': login.json.csrf_token }, body: { name: 'test' } });
  assert.equal(tok.status, 201, tok.text);
  tokens.set(who.login, tok.json.token);
  return tok.json.token;
}

// Browser tests of the HCP profile's interactions in Debian's headless
// Chromium (playwright-core): the timeline of seeded events newest first with
// who (rep and type, or the source), what (channel, type), when (relative and
// exact, in the user's zone), the outcome badge by rung, duration and
// content/meeting; the monthly chart; filters by channel and rep type; "load
// more"; an event posted through the API appearing on an open profile without
// a reload; a rep filing a call report through the form (the outcome list
// following the channel's ladder, chips), the report in the list and its
// event on the timeline, then amending it; validation errors next to their
// field (our own checks, and the server's when the browser's clock is off);
// English and Chinese. Every test fails on a console error, a page error or
// a missing translation other than the HTTP errors it provokes on purpose.
//
// The server is a private `medreach serve` (server.mjs), seeded through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, eventually, text, cst, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
const users = {};
const NOW = Date.now();
const DAY = 86400000;

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const postEvents = (events) => seed('POST', '/api/v1/events', ndjson(events), { 'Content-Type': 'application/x-ndjson' });

// D1's history, newest first: e5, e1, e2, e3, e4
const fiveDaysAgo = new Date(NOW - 5 * DAY + 8 * 3600 * 1000).toISOString().slice(0, 10); // a date in China
const EVENTS = [
  { id: 'tl-e1', ts: cst(NOW - 2 * DAY), hcp: 'D1', channel: 'phone', type: 'call', outcome: 'effective', rep: 'R2', duration_s: 320 },
  { id: 'tl-e2', ts: `${fiveDaysAgo}T10:30:00+08:00`, hcp: 'D1', channel: 'visit', outcome: 'completed', rep: 'R1', duration_s: 1800 },
  { id: 'tl-e3', ts: cst(NOW - 40 * DAY), hcp: 'D1', channel: 'wechat', outcome: 'read', content: 'C12' },
  { id: 'tl-e4', ts: cst(NOW - 70 * DAY), hcp: 'D1', channel: 'meeting_online', outcome: 'attended', rep: 'R3', meeting: 'M77' },
  { id: 'tl-e5', ts: cst(NOW - 3 * 3600 * 1000), hcp: 'D1', channel: 'email', outcome: 'sent', campaign: 'K01' },
  { id: 'tl-d2', ts: cst(NOW - DAY), hcp: 'D2', channel: 'phone', outcome: 'answered', rep: 'R2' },
];

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/territories', { id: 'T-SH', name: '上海' });
  await seed('POST', '/api/v1/hcos', { id: 'H1', name: '上海市第一人民医院', level: 3, grade: '甲', city: '上海', province: '上海', city_tier: 1 });
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '张伟', type: 'field', territory: 'T-SH' });
  await seed('POST', '/api/v1/reps', { id: 'R2', name: '李娜', type: 'inside', territory: 'T-SH' });
  await seed('POST', '/api/v1/reps', { id: 'R3', name: '陈静', type: 'msl', territory: 'T-SH' });
  await seed('POST', '/api/v1/hcps', { id: 'D1', name: '王建国', title: 'chief', specialty: 'endocrinology', department: '内分泌科', hco: 'H1' });
  await seed('POST', '/api/v1/hcps', { id: 'D2', name: '王丽', title: 'attending', hco: 'H1' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'R1', role: 'field_owner', valid_from: '2024-01-01' });
  await seed('POST', '/api/v1/alignments', { hcp: 'D1', rep: 'R2', role: 'inside_owner', valid_from: '2024-01-01' });
  users.rep = await srv.createUser({ name: '张伟', role: 'field_rep', rep_id: 'R1' });
  const rep2 = await srv.createUser({ name: '李娜', role: 'inside_rep', rep_id: 'R2' });
  users.inside = rep2;
  const res = await postEvents(EVENTS);
  assert.equal(res.accepted, EVENTS.length, JSON.stringify(res));
  // D2 has a longer history: 30 SMS, to page through
  const sms = [];
  for (let i = 0; i < 30; i++) sms.push({ id: `tl-sms-${i}`, ts: cst(NOW - (i + 2) * DAY), hcp: 'D2', channel: 'sms', outcome: 'delivered' });
  assert.equal((await postEvents(sms)).accepted, 30);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

const withPage = (fn, opts) => runPage(browser, fn, opts);
const signIn = (page, who) => signInAt(page, base, who.login, who.password);
const admin = () => ({ login: srv.login, password: srv.password });
const itemIds = (page) => page.$$eval('#timeline-list li.tl-item', (lis) => lis.map((li) => li.dataset.id));
const item = (page, id) => page.locator(`#timeline-list li.tl-item[data-id="${id}"]`);

async function openProfile(page, id, query = '') {
  await page.goto(`${base}/#/hcp/${id}${query}`);
  await page.locator('#hcp-name').waitFor();
  await page.locator('#timeline-list li').first().waitFor();
}

/** Waits until the timeline's long poll is parked on the server (so what is posted next arrives live). */
async function waitForLive(page) {
  await page.locator('#timeline-live[data-state="live"]').waitFor();
  await page.waitForTimeout(300);
}

test('the timeline shows the doctor\'s interactions newest first: who, what, when, outcome, duration, content', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openProfile(page, 'D1');
    assert.equal(await text(page.locator('#hcp-timeline h2')), '互动时间线');
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e5', 'tl-e1', 'tl-e2', 'tl-e3', 'tl-e4']));
    const seqsTs = await page.$$eval('#timeline-list li.tl-item', (lis) => lis.map((li) => Date.parse(li.dataset.ts)));
    assert.deepEqual(seqsTs, [...seqsTs].sort((a, b) => b - a), 'newest first');

    // a call by an inside rep: channel, type, outcome (top rung), duration, rep and type, relative and exact time
    const call = item(page, 'tl-e1');
    assert.match(await text(call.locator('.tl-what')), /^电话 通话 有效沟通 5 分 20 秒$/);
    assert.equal(await call.locator('.badge.outcome').getAttribute('data-rung'), '3');
    assert.match(await call.locator('.badge.outcome').getAttribute('class'), /rung-3/);
    assert.match(await text(call.locator('.tl-meta')), /李娜 线上代表/);
    assert.equal(await text(call.locator('time.rel-time')), '前天');
    assert.equal(Date.parse(await call.locator('time[data-ts]').getAttribute('datetime')), Date.parse(EVENTS[0].ts));

    // a visit by the field rep, at 10:30 in the user's zone (Asia/Shanghai)
    const visit = item(page, 'tl-e2');
    assert.match(await text(visit.locator('.tl-what')), /^拜访 已完成 30 分钟$/, 'no type when it only repeats the channel');
    assert.match(await text(visit.locator('.tl-meta')), /张伟 医药代表/);
    assert.equal(await text(visit.locator('time[data-ts]')), `${fiveDaysAgo.replaceAll('-', '/')} 10:30`);
    assert.match(await text(visit.locator('time.rel-time')), /^\d天前$/);

    // no rep: the source says who; content, meeting and campaign are named; lower rungs in other colours
    const wechat = item(page, 'tl-e3');
    assert.match(await text(wechat.locator('.tl-meta')), /来源：接口 · 内容 C12/);
    assert.match(await text(wechat.locator('.tl-what')), /微信 消息 已读/);
    assert.equal(await wechat.locator('.badge.outcome').getAttribute('data-rung'), '2');
    assert.match(await text(item(page, 'tl-e4')), /线上会议 邀请 已参会.*陈静 医学联络官 · 会议 M77/);
    assert.match(await text(item(page, 'tl-e5')), /邮件 已发送.*来源：接口 · 活动 K01.*3小时前/);
    assert.match(await item(page, 'tl-e5').locator('.badge.outcome').getAttribute('class'), /rung-0/);
    assert.equal(await item(page, 'tl-d2').count(), 0, 'another doctor\'s event is not shown');
    assert.match(await text(page.locator('#timeline-count')), /已显示 5 条/);
    assert.ok(await page.locator('#timeline-more').isHidden());

    // the monthly chart is drawn
    const drawn = page.locator('#timeline-chart canvas').first();
    await drawn.waitFor({ state: 'visible' });
    const box = await drawn.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `chart has a usable size: ${JSON.stringify(box)}`);
    assert.ok(await page.locator('#timeline-chart-empty').isHidden());
  });
});

test('filters by channel and by rep type, kept in the address', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openProfile(page, 'D1');
    await eventually(async () => assert.equal((await itemIds(page)).length, 5));
    const chip = (group, value) => page.locator(`#timeline-filters fieldset[data-group="${group}"] label[data-value="${value}"]`);
    assert.equal(await text(chip('channel', 'phone')), '电话');

    const filtered = page.waitForRequest((r) => r.url().includes('/timeline?') && r.url().includes('channel=phone') && !r.url().includes('after_seq'));
    await chip('channel', 'phone').click();
    await filtered;
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e1']));
    assert.match(page.url(), /#\/hcp\/D1\?channel=phone$/);
    await chip('channel', 'visit').click();
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e1', 'tl-e2']));
    assert.match(decodeURIComponent(page.url()), /channel=phone,visit/);

    await page.click('#timeline-clear');
    await eventually(async () => assert.equal((await itemIds(page)).length, 5));
    await chip('rep_type', 'msl').click();
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e4']));
    await chip('rep_type', 'field').click();
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e2', 'tl-e4']));
    await chip('channel', 'sms').click();
    await eventually(async () => assert.match(await text(page.locator('#timeline-list')), /没有符合筛选条件的互动/));

    // the address brings the filters back
    await page.goto(`${base}/#/home`);
    await page.goto(`${base}/#/hcp/D1?channel=wechat,email`);
    await eventually(async () => assert.deepEqual(await itemIds(page), ['tl-e5', 'tl-e3']));
    assert.ok(await chip('channel', 'wechat').locator('input').isChecked());
  });
});

test('"load more" pages through a long timeline', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openProfile(page, 'D2');
    await eventually(async () => assert.equal((await itemIds(page)).length, 25));
    assert.ok(await page.locator('#timeline-more').isVisible());
    await page.click('#timeline-more');
    await eventually(async () => assert.equal((await itemIds(page)).length, 31));
    const ids = await itemIds(page);
    assert.equal(new Set(ids).size, 31, 'no event twice');
    assert.equal(ids[0], 'tl-d2');
    assert.equal(ids[30], 'tl-sms-29');
    assert.ok(await page.locator('#timeline-more').isHidden());
    assert.match(await text(page.locator('#timeline-count')), /已显示 31 条/);
  });
});

test('an event posted through the API appears on the open profile without a reload', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openProfile(page, 'D1');
    await eventually(async () => assert.ok((await itemIds(page)).length >= 5));
    await waitForLive(page);
    assert.equal(await text(page.locator('#timeline-live')), '实时');
    await page.evaluate(() => { window.__notReloaded = true; });
    const t0 = Date.now();
    await postEvents([{ id: 'tl-live-1', ts: cst(Date.now() - 60000), hcp: 'D1', channel: 'wecom', outcome: 'responded', rep: 'R2' }]);
    const fresh = item(page, 'tl-live-1');
    await fresh.waitFor({ timeout: 5000 });
    const took = Date.now() - t0;
    assert.ok(took < 5000, `arrived in ${took} ms`);
    assert.equal((await itemIds(page))[0], 'tl-live-1', 'the newest on top');
    assert.match(await fresh.getAttribute('class'), /tl-new/, 'highlighted');
    assert.match(await text(fresh), /企业微信 消息 已回复.*李娜 线上代表.*1分钟前/);
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'no reload');
    // an event of another doctor does not show, an older one of this doctor goes in its place
    await postEvents([
      { id: 'tl-live-2', ts: cst(Date.now() - 60000), hcp: 'D2', channel: 'phone', outcome: 'answered' },
      { id: 'tl-live-3', ts: cst(NOW - 4 * DAY), hcp: 'D1', channel: 'phone', outcome: 'no_answer', rep: 'R2' },
    ]);
    await item(page, 'tl-live-3').waitFor({ timeout: 5000 });
    const ids = await itemIds(page);
    assert.ok(!ids.includes('tl-live-2'));
    assert.ok(ids.indexOf('tl-live-3') > ids.indexOf('tl-e1') && ids.indexOf('tl-live-3') < ids.indexOf('tl-e2'), `in time order: ${ids}`);
  });
});

test('the live timeline backs off while the server fails, comes back, and stops polling when the page is left', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    // every long poll fails (503) until the route is removed
    const fail = (route) => route.fulfill({
      status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'unavailable', message: 'try again shortly', detail: {} } }),
    });
    const polls = [];
    page.on('request', (r) => { if (/\/timeline\?.*after_seq=/.test(r.url())) polls.push(Date.now()); });
    await page.route(/\/api\/v1\/hcps\/D1\/timeline\?.*after_seq=/, fail);
    await openProfile(page, 'D1');
    const badge = page.locator('#timeline-live');
    await eventually(async () => assert.match(await text(badge), /^连接中断，\d+ 秒后重试$/));
    await eventually(() => assert.ok(polls.length >= 3), 8000);
    const gaps = [polls[1] - polls[0], polls[2] - polls[1]];
    // the schedule is 1 s, then 2 s, ...: absolute bounds (a busy machine can stretch one gap, not shrink one)
    assert.ok(gaps[0] >= 800 && gaps[1] >= 1800, `retries back off (1 s, 2 s, 4 s …): gaps ${gaps} ms`);
    await page.unroute(/\/api\/v1\/hcps\/D1\/timeline\?.*after_seq=/, fail);
    await page.locator('#timeline-live[data-state="live"]').waitFor({ timeout: 8000 });
    await page.waitForTimeout(300);
    await postEvents([{ id: 'tl-live-4', ts: cst(Date.now() - 30000), hcp: 'D1', channel: 'sms', outcome: 'read' }]);
    await item(page, 'tl-live-4').waitFor({ timeout: 5000 });

    // leaving the page ends the parked poll and starts no other
    const aborted = page.waitForEvent('requestfailed', (r) => /\/timeline\?.*after_seq=/.test(r.url()));
    await page.goto(`${base}/#/hcps`);
    await aborted;
    const n = polls.length;
    await page.waitForTimeout(1500);
    assert.equal(polls.length, n, 'no poll after leaving');
  }, { allow: [{ status: 503, url: /\/api\/v1\/hcps\/D1\/timeline/ }] });
});

test('a rep files a call report: the outcome follows the channel\'s ladder, the report is listed and its event is on the timeline; then amended', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep);
    await openProfile(page, 'D1');
    await waitForLive(page);
    await page.click('#report-new summary');
    const form = page.locator('#report-form');
    await form.waitFor();
    const outcomes = () => form.locator('select[name="outcome"] option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(await outcomes(), ['', 'planned', 'completed'], 'a visit is planned or completed');
    await form.locator('select[name="channel"]').selectOption('phone');
    assert.deepEqual(await outcomes(), ['', 'no_answer', 'answered', 'successful', 'effective']);
    assert.equal(await text(form.locator('select[name="outcome"] option[value="successful"]')), '成功沟通');
    await form.locator('select[name="channel"]').selectOption('meeting_offline');
    assert.deepEqual(await outcomes(), ['', 'invited', 'registered', 'attended']);
    await form.locator('select[name="channel"]').selectOption('phone');
    await form.locator('select[name="outcome"]').selectOption('successful');
    assert.match(await form.locator('input[name="at"]').inputValue(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'defaults to now');
    await form.locator('input[name="duration_min"]').fill('15');
    const products = form.locator('input[name="products"]');
    await products.fill('GLU');
    await products.press('Enter');
    await products.fill('CARDIO，GLU');
    await products.press('Enter');
    assert.deepEqual(await form.locator('[data-chips="products"] .chip').evaluateAll((cs) => cs.map((c) => c.dataset.value)), ['GLU', 'CARDIO']);
    const messages = form.locator('input[name="key_messages"]');
    await messages.fill('降糖疗效数据');
    await messages.press('Enter');
    await messages.fill('安全性');
    await messages.press('Enter');
    await messages.fill('用药依从性x');
    await messages.press('Backspace'); // deletes a character of what is typed, not a chip
    await messages.press('Enter');
    await form.locator('[data-chips="key_messages"] .chip[data-value="安全性"] .chip-x').click();
    assert.deepEqual(await form.locator('[data-chips="key_messages"] .chip').evaluateAll((cs) => cs.map((c) => c.dataset.value)), ['降糖疗效数据', '用药依从性']);
    await form.locator('textarea[name="feedback"]').fill('对新适应症很感兴趣');
    await form.locator('textarea[name="questions"]').fill('老年患者的剂量？');
    await form.locator('textarea[name="next_steps"]').fill('下周送去临床研究资料');
    const due = new Date(Date.now() + 7 * DAY + 8 * 3600 * 1000).toISOString().slice(0, 10);
    await form.locator('input[name="follow_up.at"]').fill(`${due}T09:00`);
    await form.locator('select[name="follow_up.channel"]').selectOption('wechat');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/interactions') && r.request().method() === 'POST'),
      form.locator('button[type="submit"]').click(),
    ]);
    assert.equal(res.status(), 201);
    const report = await res.json();
    assert.equal(report.channel, 'phone');
    assert.equal(report.outcome, 'successful');
    assert.deepEqual(report.products, ['GLU', 'CARDIO']);
    assert.deepEqual(report.key_messages, ['降糖疗效数据', '用药依从性']);
    assert.equal(report.duration_min, 15);
    assert.equal(report.follow_up.channel, 'wechat');

    // in the reports list
    const listed = page.locator(`#report-list article[data-id="${report.id}"]`);
    await listed.waitFor();
    assert.match(await text(listed.locator('.report-head')), /电话 成功沟通 .*15 分钟/);
    assert.match(await text(listed), /GLU CARDIO.*降糖疗效数据 用药依从性.*对新适应症很感兴趣.*老年患者的剂量？.*下周送去临床研究资料/);
    assert.match(await text(listed.locator('[data-field="follow_up"]')), new RegExp(`${due.replaceAll('-', '/')} 09:00 · 微信`));
    assert.match(await text(listed.locator('.report-by')), new RegExp(`填写人 ${users.rep.login} · 代表 R1`));
    assert.equal(await listed.getAttribute('data-amended'), 'false');
    assert.ok(await page.locator('#report-new').evaluate((d) => !d.open), 'the form closes');

    // and its event on the timeline, live
    const ev = item(page, `report:${report.id}`);
    await ev.waitFor({ timeout: 5000 });
    assert.match(await text(ev), /电话 通话 成功沟通 15 分钟.*张伟 医药代表.*报告/);
    // placed by its time (the form's time has minutes only, so events posted this minute may be newer)
    assert.ok((await itemIds(page)).includes(`report:${report.id}`));

    // the author amends it with a reason: marked amended, both versions listed
    await listed.locator('.report-amend').click();
    const amend = page.locator(`#amend-form-${report.id}`);
    await amend.waitFor();
    assert.equal(await amend.locator('select[name="outcome"]').inputValue(), 'successful', 'prefilled');
    await amend.locator('select[name="outcome"]').selectOption('effective');
    await amend.locator('button[type="submit"]').click();
    const reasonError = amend.locator('.field-error[data-field="reason"]');
    await reasonError.waitFor();
    assert.equal(await text(reasonError), '请填写修订理由。');
    await amend.locator('textarea[name="reason"]').fill('结果选错了');
    const [res2] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/interactions/${report.id}/amend`)),
      amend.locator('button[type="submit"]').click(),
    ]);
    assert.equal(res2.status(), 201);
    const latest = await res2.json();
    const amended = page.locator(`#report-list article[data-id="${latest.id}"]`);
    await amended.waitFor();
    assert.equal(await amended.getAttribute('data-amended'), 'true');
    assert.match(await text(amended.locator('.report-head')), /有效沟通.*已修订/);
    assert.match(await text(amended), /GLU CARDIO.*对新适应症很感兴趣/, 'what the amendment left out is kept');
    await amended.locator('.report-versions summary').click();
    assert.match(await text(amended.locator('.report-versions summary')), /版本记录（2）/);
    const versions = await amended.locator('.report-versions li').allTextContents();
    assert.equal(versions.length, 2);
    assert.match(versions[0], new RegExp(`${report.id}.*原始报告`));
    assert.match(versions[1], new RegExp(`${latest.id}.*结果选错了`));
    assert.equal(await page.locator('#report-list article').count(), 1, 'one report, at its latest version');
  }, { allow: [] });

  // another rep of the doctor sees the report, without the amend button
  await withPage(async (page) => {
    await signIn(page, users.inside);
    await openProfile(page, 'D1');
    const listed = page.locator('#report-list article');
    await listed.first().waitFor();
    assert.equal(await listed.count(), 1);
    assert.equal(await listed.locator('.report-amend').count(), 0, 'only the author or an admin may amend');
  });
});

test('the report form shows its problems next to the field: a missing outcome, a future time, the server\'s own error', async () => {
  await withPage(async (page) => {
    await signIn(page, users.rep);
    await openProfile(page, 'D1');
    const posted = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/interactions') && r.method() === 'POST') posted.push(r); });
    await page.click('#report-new summary');
    const form = page.locator('#report-form');
    await form.locator('select[name="channel"]').selectOption('phone');
    await form.locator('button[type="submit"]').click();
    const outcomeError = form.locator('.field-error[data-field="outcome"]');
    await outcomeError.waitFor();
    assert.equal(await text(outcomeError), '请选择本次互动的结果。');
    assert.equal(await form.locator('select[name="outcome"]').getAttribute('aria-invalid'), 'true');
    assert.ok(await form.locator('select[name="outcome"]').evaluate((el) => el === document.activeElement), 'focused');
    assert.equal(await outcomeError.evaluate((el) => el.closest('.field').querySelector('select').name), 'outcome', 'next to its field');

    await form.locator('select[name="outcome"]').selectOption('answered');
    const tomorrow = new Date(Date.now() + DAY + 8 * 3600 * 1000).toISOString().slice(0, 10);
    await form.locator('input[name="at"]').fill(`${tomorrow}T10:00`);
    await form.locator('button[type="submit"]').click();
    const atError = form.locator('.field-error[data-field="at"]');
    await atError.waitFor();
    assert.equal(await text(atError), '报告记录已经发生的互动，时间不能晚于现在。');
    assert.equal(await form.locator('.field-error').count(), 1, 'the earlier error is cleared');
    assert.equal(await form.locator('input[name="at"]').getAttribute('aria-invalid'), 'true');

    const fuError = form.locator('.field-error[data-field="follow_up.at"]');
    await form.locator('input[name="at"]').fill('2024-03-05T10:00');
    await form.locator('select[name="follow_up.channel"]').selectOption('visit');
    await form.locator('button[type="submit"]').click();
    await fuError.waitFor();
    assert.equal(await text(fuError), '请填写跟进时间，或清空跟进渠道。');

    // the messages follow the language
    await page.selectOption('#lang-switch', 'en');
    await eventually(async () => assert.equal(await text(fuError), 'Enter the follow-up date, or clear its channel.'));
    await page.selectOption('#lang-switch', 'zh');
    assert.equal(posted.length, 0, 'nothing was sent while the form had problems');
  });

  // the browser's clock runs two hours ahead of the server's: the form's own check passes, the server
  // refuses 'at' as in the future, and its message is shown next to the field it names
  await withPage(async (page) => {
    await page.clock.setFixedTime(new Date(Date.now() + 2 * 3600 * 1000));
    await signIn(page, users.rep);
    await openProfile(page, 'D1');
    await page.locator('#report-list > *').first().waitFor();
    const before = await page.locator('#report-list article').count();
    await page.click('#report-new summary');
    const form = page.locator('#report-form');
    await form.locator('select[name="channel"]').selectOption('visit');
    await form.locator('select[name="outcome"]').selectOption('completed');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/interactions') && r.request().method() === 'POST'),
      form.locator('button[type="submit"]').click(),
    ]);
    assert.equal(res.status(), 400);
    const error = (await res.json()).error;
    assert.equal(error.detail.field, 'at');
    const shown = form.locator('.field-error[data-field="at"]');
    await shown.waitFor();
    assert.equal(await text(shown), error.message);
    assert.equal(await form.locator('input[name="at"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#report-list article').count(), before, 'nothing filed');
  }, { allow: [{ status: 400, url: /\/api\/v1\/interactions$/ }] });
});

test('the timeline and reports in English, and back in Chinese', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openProfile(page, 'D1');
    await eventually(async () => assert.ok((await itemIds(page)).includes('tl-e1')));
    await page.selectOption('#lang-switch', 'en');
    await page.locator('#hcp-timeline h2', { hasText: 'Interaction timeline' }).waitFor();
    const call = item(page, 'tl-e1');
    assert.match(await text(call.locator('.tl-what')), /^Phone call Effective 5 min 20 s$/);
    assert.match(await text(call.locator('.tl-meta')), /李娜 Inside rep/);
    assert.equal(await text(call.locator('time.rel-time')), '2 days ago');
    assert.match(await text(item(page, 'tl-e3').locator('.tl-meta')), /via API · Content C12/);
    assert.equal(await text(page.locator('#timeline-filters fieldset[data-group="channel"] label[data-value="meeting_offline"]')), 'In-person meeting');
    assert.match(await text(page.locator('#timeline-count')), /\d+ shown/);
    assert.equal(await text(page.locator('#hcp-reports h2')), 'Call reports');
    assert.equal(await text(page.locator('#report-new summary')), 'File a report');
    assert.match(await text(page.locator('#report-list article').first().locator('.report-by')), /^Filed by /);
    assert.equal(await text(page.locator('#hcp-timeline .tl-chart h3')), 'Interactions per month by channel, last 12 months');

    await page.selectOption('#lang-switch', 'zh');
    await page.locator('#hcp-timeline h2', { hasText: '互动时间线' }).waitFor();
    assert.equal(await text(call.locator('time.rel-time')), '前天');
    assert.equal(await text(page.locator('#report-new summary')), '填写报告');
  });
});

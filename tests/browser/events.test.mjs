// Browser tests of the Events page in Debian's headless Chromium
// (playwright-core): admin and marketing find it in the navigation, other
// roles do not; uploading an NDJSON file with one bad line shows the upload's
// progress, then the counts (lines, accepted, duplicates, rejected), a chart
// and the bad line's number, field and reason; uploading it again counts
// duplicates; a gzip file goes up as such; the change feed shows the latest
// events and then new ones live, without a reload; the page in English and
// Chinese. Every test fails on a console error, a page error or a missing
// translation.
//
// The server is a private `medreach serve` (server.mjs), seeded through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startServer } from './server.mjs';
import { launch, withPage as runPage, signIn as signInAt, navLink, eventually, text, cst, ndjson } from './page.mjs';

let srv = null;
let browser = null;
let base = '';
const users = {};

async function seed(method, path, body, headers) {
  const res = await srv.api(method, path, { token: srv.token, body, headers });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

const postEvents = (events) => seed('POST', '/api/v1/events', ndjson(events), { 'Content-Type': 'application/x-ndjson' });

before(async () => {
  srv = await startServer();
  base = srv.url;
  await seed('POST', '/api/v1/reps', { id: 'R1', name: '张伟', type: 'field' });
  await seed('POST', '/api/v1/hcps', { id: 'D1', name: '王建国', title: 'chief' });
  await seed('POST', '/api/v1/hcps', { id: 'D2', name: '王丽', title: 'attending' });
  // some history before the page opens: more than the feed shows
  const old = [];
  for (let i = 0; i < 60; i++) old.push({ id: `old-${i}`, ts: cst(Date.now() - (i + 1) * 3600000), hcp: i % 2 ? 'D1' : 'D2', channel: 'sms', outcome: 'delivered' });
  assert.equal((await postEvents(old)).accepted, 60);
  users.marketing = await srv.createUser({ name: '市场部', role: 'marketing' });
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
const stat = (page, k) => page.locator(`#events-result [data-stat="${k}"] .stat-value`);
const feedIds = (page) => page.$$eval('#feed-table tbody tr[data-seq]', (trs) => trs.map((tr) => tr.dataset.id));

async function openEvents(page) {
  await navLink(page, 'events').click();
  await page.waitForURL(/#\/events$/);
  await page.locator('#events-form').waitFor();
}

/** Records whether the progress indicator was ever shown (an upload of a small file is quick). */
async function watchProgress(page) {
  await page.evaluate(() => {
    window.__progressShown = false;
    const el = document.getElementById('events-busy');
    new MutationObserver(() => { if (!el.hidden) window.__progressShown = true; }).observe(el, { attributes: true });
  });
}

async function upload(page, name, buffer, mimeType = 'application/x-ndjson') {
  await page.setInputFiles('#events-file', { name, mimeType, buffer });
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.request().method() === 'POST'),
    page.click('#events-submit'),
  ]);
  assert.equal(res.status(), 200);
  await page.locator('#events-result').waitFor();
  return { res, report: await res.json() };
}

test('the Events page uploads NDJSON: progress, counts, a chart and the bad line\'s number and reason; again: duplicates', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    assert.equal(await text(navLink(page, 'events')), '事件数据');
    await openEvents(page);
    assert.equal(await text(page.locator('.page.events h1')), '事件数据');
    await watchProgress(page);
    const now = Date.now();
    const file = Buffer.from(ndjson([
      { id: 'up-1', ts: cst(now - 60000), hcp: 'D1', channel: 'phone', type: 'call', outcome: 'effective', rep: 'R1', duration_s: 90 },
      { id: 'up-2', ts: cst(now - 120000), hcp: 'D1', channel: 'phone', outcome: 'read' }, // not on the phone ladder
      { id: 'up-3', ts: cst(now - 180000), hcp: 'D2', channel: 'wechat', outcome: 'responded' },
    ]));
    const { res, report } = await upload(page, 'events.ndjson', file);
    assert.match(res.request().headers()['content-type'], /^application\/x-ndjson/);
    assert.equal(report.accepted, 2);
    assert.equal(report.rejected_total, 1);
    assert.equal(await page.evaluate(() => window.__progressShown), true, 'the progress was shown');
    assert.ok(await page.locator('#events-busy').isHidden(), 'and hidden once done');
    assert.equal(await text(stat(page, 'lines')), '3');
    assert.equal(await text(stat(page, 'accepted')), '2');
    assert.equal(await text(stat(page, 'duplicates')), '0');
    assert.equal(await text(stat(page, 'rejected')), '1');
    assert.match(await text(page.locator('#events-outcome')), /部分行被拒绝/);
    const bad = page.locator('#events-rejected tbody tr[data-line]');
    assert.equal(await bad.count(), 1);
    assert.equal(await bad.getAttribute('data-line'), '2');
    const cells = await bad.locator('td').allTextContents();
    assert.equal(cells[0], '2');
    assert.equal(cells[1], 'outcome');
    assert.equal(cells[3], report.rejected[0].error);
    assert.match(cells[3], /read.*phone ladder/);
    const drawn = page.locator('#events-chart canvas').first();
    await drawn.waitFor({ state: 'visible' });

    // the same file again: its good lines are duplicates now
    const again = await upload(page, 'events.ndjson', file);
    assert.equal(again.report.duplicates, 2);
    await eventually(async () => assert.equal(await text(stat(page, 'duplicates')), '2'));
    assert.equal(await text(stat(page, 'accepted')), '0');
    assert.equal(await text(stat(page, 'rejected')), '1');

    // gzip goes up compressed, whatever it is called
    const gz = gzipSync(Buffer.from(ndjson([{ id: 'up-gz', ts: cst(now - 240000), hcp: 'D2', channel: 'email', outcome: 'delivered' }])));
    const zipped = await upload(page, 'events.ndjson.gz', gz, 'application/gzip');
    assert.equal(zipped.res.request().headers()['content-encoding'], 'gzip');
    assert.equal(zipped.report.accepted, 1);
    assert.match(await text(page.locator('#events-outcome')), /没有被拒绝的行/);
    assert.match(await text(page.locator('#events-rejected tbody')), /没有被拒绝的行/);
  });
});

test('a file the server refuses as a whole shows its message', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openEvents(page);
    await page.setInputFiles('#events-file', { name: 'empty.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from('\n\n') });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/events')),
      page.click('#events-submit'),
    ]);
    assert.equal(res.status(), 400);
    const msg = (await res.json()).error.message;
    const card = page.locator('#events-result-slot .error-card');
    await card.waitFor();
    assert.match(await text(card), /上传失败/);
    assert.equal(await text(card.locator('.server-message')), msg);
  }, { allow: [{ status: 400, url: /\/api\/v1\/events$/ }] });
});

test('the change feed shows the latest events, then new ones as they are written, without a reload', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openEvents(page);
    await page.locator('#feed-table tbody tr[data-seq]').first().waitFor();
    const ids = await feedIds(page);
    assert.equal(ids.length, 50, 'the latest 50');
    const seqs = await page.$$eval('#feed-table tbody tr[data-seq]', (trs) => trs.map((tr) => Number(tr.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest on top');
    assert.ok(!ids.includes('old-0'), 'the oldest are not shown');
    assert.match(await text(page.locator('#feed-count')), /显示最新 50 条/);
    await page.locator('#feed-live[data-state="live"]').waitFor();
    await page.waitForTimeout(300);

    await page.evaluate(() => { window.__notReloaded = true; });
    await postEvents([{ id: 'feed-live-1', ts: cst(Date.now() - 5000), hcp: 'D1', channel: 'visit', outcome: 'completed', rep: 'R1' }]);
    const row = page.locator('#feed-table tr[data-id="feed-live-1"]');
    await row.waitFor({ timeout: 5000 });
    assert.equal((await feedIds(page))[0], 'feed-live-1');
    assert.match(await row.getAttribute('class'), /row-new/);
    assert.match(await text(row), /D1.*拜访.*已完成.*张伟 医药代表.*接口/);
    assert.equal(await row.locator('a[href="#/hcp/D1"]').count(), 1, 'the doctor links to the profile');
    assert.equal(await page.$$eval('#feed-table tbody tr[data-seq]', (trs) => trs.length), 50, 'still the latest 50');

    // an upload on this page shows up in the feed too
    await upload(page, 'more.ndjson', Buffer.from(ndjson([{ id: 'feed-up-1', ts: cst(Date.now() - 5000), hcp: 'D2', channel: 'sms', outcome: 'sent' }])));
    await page.locator('#feed-table tr[data-id="feed-up-1"]').waitFor({ timeout: 5000 });

    // paused, nothing arrives; resumed, it does
    await page.click('#feed-pause');
    assert.equal(await text(page.locator('#feed-live')), '已暂停');
    assert.equal(await text(page.locator('#feed-pause')), '继续');
    await postEvents([{ id: 'feed-live-2', ts: cst(Date.now() - 5000), hcp: 'D2', channel: 'phone', outcome: 'answered' }]);
    await page.waitForTimeout(700);
    assert.equal(await page.locator('#feed-table tr[data-id="feed-live-2"]').count(), 0);
    await page.click('#feed-pause');
    await page.locator('#feed-table tr[data-id="feed-live-2"]').waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'no reload');
  });
});

test('marketing may use the Events page; a field rep neither sees it nor may open it', async () => {
  await withPage(async (page) => {
    await signIn(page, users.marketing);
    assert.equal(await navLink(page, 'events').count(), 1);
    await openEvents(page);
    const { report } = await upload(page, 'mkt.ndjson', Buffer.from(ndjson([{ id: 'mkt-1', ts: cst(Date.now() - 5000), hcp: 'D1', channel: 'wechat', outcome: 'sent', campaign: 'K01' }])));
    assert.equal(report.accepted, 1);
    await page.locator('#feed-table tr[data-id="mkt-1"]').waitFor({ timeout: 5000 });
  });
  await withPage(async (page) => {
    await signIn(page, users.rep);
    assert.equal(await navLink(page, 'events').count(), 0);
    await page.goto(`${base}/#/events`);
    await page.locator('#no-access').waitFor();
  });
});

test('the Events page in English and back in Chinese', async () => {
  await withPage(async (page) => {
    await signIn(page, admin());
    await openEvents(page);
    await upload(page, 'x.ndjson', Buffer.from(ndjson([
      { id: 'lang-1', ts: cst(Date.now() - 5000), hcp: 'D1', channel: 'phone', outcome: 'answered' },
      '{"id":"lang-2","ts":"2024-03-05T09:12:00","hcp":"D1","channel":"phone","outcome":"answered"}',
    ])));
    await page.selectOption('#lang-switch', 'en');
    await page.locator('.page.events h1', { hasText: 'Events' }).waitFor();
    assert.equal(await text(navLink(page, 'events')), 'Events');
    assert.equal(await text(page.locator('#events-submit')), 'Upload');
    assert.equal(await text(page.locator('#events-result [data-stat="accepted"] .stat-label')), 'Accepted');
    assert.equal(await text(page.locator('#events-result [data-stat="rejected"] .stat-label')), 'Rejected');
    assert.deepEqual(await page.locator('#events-rejected thead th').allTextContents(), ['Line', 'Field', 'Column', 'Reason']);
    assert.match(await text(page.locator('#events-outcome')), /some lines were rejected/);
    assert.equal(await text(page.locator('#events-feed h2')), 'Live event feed');
    assert.match(await text(page.locator('#feed-table tr[data-id="lang-1"]')), /Phone.*Answered.*API/);

    await page.selectOption('#lang-switch', 'zh');
    await page.locator('.page.events h1', { hasText: '事件数据' }).waitFor();
    assert.equal(await text(page.locator('#events-result [data-stat="accepted"] .stat-label')), '已接收');
    assert.match(await text(page.locator('#feed-table tr[data-id="lang-1"]')), /电话.*已接通.*接口/);
  });
});

// The next-best-action engine's stage 1 (docs/nba.md) through the API, on
// SQLite and PostgreSQL: rules CRUD and bad input (a condition that does not
// parse: 422 with its column; not boolean: 422 with its type; unknown
// content: 422 naming it), one doctor's recommendations with explain for a
// world built so that each doctor hits one block reason, scope (a rep cannot
// read another rep's doctor), the run creating tasks for the right reps and
// respecting the budget (checked with SQL), a dry run creating none, and the
// recommendation log's rows.
//
// The world: every doctor is an endocrinologist at H1 with a field owner RF
// and an inside owner RI, opted in to phone and wechat, with a WeChat
// identity — except for the one thing each was built to lack:
//   DOK   nothing (the control)      DCON  no wechat consent
//   DUNR  no WeChat identity          DNOO  no inside owner
//   DBUD  3 contacts in 7 days        DCAP  2 wechat messages in 7 days
//   DHLD  in a running experiment's holdout arm (title chief)
// Content: C1 approved (topic guidelines), C2 a draft, C3 approved but expired.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, uniqueLogin, sleep } from './harness.mjs';

let srv;
let admin;
const tok = {};
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const DOCS = ['DOK', 'DCON', 'DUNR', 'DNOO', 'DBUD', 'DCAP', 'DHLD'];

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const iso = (ms) => new Date(ms).toISOString();
const importCsv = async (entity, rows) => {
  const r = await srv.api('POST', `/api/v1/${entity}/import`, { token: admin, body: csv(rows), headers: { 'Content-Type': 'text/csv' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, r.text);
};
const get = (p, token = admin) => srv.api('GET', p, { token });
const put = (p, body, token = admin) => srv.api('PUT', p, { token, body });
const post = (p, body, token = admin) => srv.api('POST', p, { token, body });
const recs = (id, q = 'explain=true&k=20', token = admin) => get(`/api/v1/hcps/${id}/recommendations?${q}`, token);

let evn = 0;
async function events(list) {
  const body = list.map((e) => JSON.stringify({ id: `nba-ev-${++evn}`, ...e })).join('\n') + '\n';
  const r = await srv.api('POST', '/api/v1/events', { token: admin, body, headers: { 'Content-Type': 'application/x-ndjson' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, list.length, r.text);
}

const RULES = {
  wx: { description: '微信推送指南', condition: 'specialty = "endocrinology"', priority: 1,
    action: { action: 'send_content', channel: 'wechat', content: { id: 'C1' } } },
  call: { condition: 'specialty = "endocrinology"', priority: 2, action: { action: 'call' } },
  draft: { condition: 'specialty = "endocrinology"', priority: 3, action: { action: 'send_content', channel: 'wechat', content: { id: 'C2' } } },
  old: { condition: 'specialty = "endocrinology"', priority: 3, action: { action: 'send_content', channel: 'wechat', content: { id: 'C3' } } },
  late: { condition: 'specialty = "endocrinology"', priority: 4, action: { action: 'call', window: { days: 3, hours: [22, 24] } } },
  again: { condition: 'specialty = "endocrinology"', priority: 5, action: { action: 'visit', repeat_days: 30 } },
  msl: { condition: 'specialty = "endocrinology"', priority: 5, owner_role: 'msl', action: { action: 'call' } },
};

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv('hcos', [['id', 'name', 'level', 'city_tier'], ['H1', '上海市第一人民医院', '3', '1']]);
  await importCsv('reps', [['id', 'name', 'type', 'manager'], ['RF', '张伟', 'field', ''], ['RI', '李娜', 'inside', ''],
    ['RX', '王强', 'field', '']]);
  await importCsv('hcps', [['id', 'name', 'specialty', 'title', 'hco'],
    ...DOCS.map((d, i) => [d, `医生${i}`, 'endocrinology', d === 'DHLD' ? 'chief' : 'attending', 'H1'])]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ...DOCS.map((d) => [d, 'RF', 'field_owner', 'GLU', '2024-01-01', '']),
    ...DOCS.filter((d) => d !== 'DNOO').map((d) => [d, 'RI', 'inside_owner', 'GLU', '2024-01-01', ''])]);
  await importCsv('identities', [['hcp', 'kind', 'value'],
    ...DOCS.filter((d) => d !== 'DUNR').map((d) => [d, 'wechat_unionid', `oU_${d}`])]);
  await importCsv('consents', [['hcp', 'channel', 'purpose', 'status', 'captured_at'],
    ...DOCS.map((d) => [d, 'phone', 'promotional', 'opt_in', '2025-01-01']),
    ...DOCS.map((d) => [d, 'wechat', 'promotional', d === 'DCON' ? 'opt_out' : 'opt_in', '2025-01-01'])]);
  for (const [id, status, exp] of [['C1', 'approved', ''], ['C2', 'draft', ''], ['C3', 'approved', '2025-01-01']]) {
    const r = await post('/api/v1/content', { id, title: `内容${id}`, topic: 'guidelines', status, ...(exp ? { expires_at: exp } : {}) });
    assert.equal(r.status, 201, r.text);
  }
  const now = Date.now();
  await events([
    ...[1, 2, 3].map((d) => ({ ts: iso(now - d * DAY), hcp: 'DBUD', channel: 'phone', outcome: 'answered', rep: 'RI' })),
    ...[1, 2].map((d) => ({ ts: iso(now - d * DAY), hcp: 'DCAP', channel: 'wechat', outcome: 'sent', rep: 'RI' })),
    // older than 7 days, or without a rep (the doctor's own view): not contacts
    { ts: iso(now - 9 * DAY), hcp: 'DOK', channel: 'phone', outcome: 'answered', rep: 'RI' },
    { ts: iso(now - DAY), hcp: 'DOK', channel: 'content', outcome: 'viewed' },
  ]);
  for (const [name, role, rep] of [['rf', 'field_rep', 'RF'], ['rx', 'field_rep', 'RX'], ['mk', 'marketing', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(name), role, rep_id: rep || undefined });
    tok[name] = await srv.token(u.login);
  }
  let r = await put('/api/v1/experiments/nba-holdout', { unit: 'hcp', population: 'title = "chief"', metric: 'response_rate',
    arms: [{ name: 'none', kind: 'holdout', allocation: 99.99 }, { name: 'rules', kind: 'rules', allocation: 0.01 }] });
  assert.equal(r.status, 201, r.text);
  r = await post('/api/v1/experiments/nba-holdout/start', {});
  assert.equal(r.status, 200, r.text);
  r = await get('/api/v1/experiments/nba-holdout/assignment?hcp=DHLD');
  assert.equal(r.json.arm.kind, 'holdout', r.text);
  for (const [name, body] of Object.entries(RULES)) {
    r = await put(`/api/v1/rules/${name}`, body, tok.mk);
    assert.equal(r.status, 201, r.text);
  }
  // a visit task rule "again" made for DOK two days ago: the rule may not suggest it again within 30 days
  r = await post('/api/v1/tasks', { type: 'visit', hcp: 'DOK', assignee: 'RF', source: 'rule', source_ref: 'again',
    due_from: iso(now - 2 * DAY), due_to: iso(now + 5 * DAY) });
  assert.equal(r.status, 201, r.text);
});
after(async () => { await srv?.stop(); });

test('rules: create, read, list, replace and delete; the template comes back with its defaults', async () => {
  let r = await get('/api/v1/rules/wx');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.name, r.json.condition, r.json.priority, r.json.enabled, r.json.owner_role],
    ['wx', 'specialty = "endocrinology"', 1, true, 'inside']);
  assert.deepEqual(r.json.action, { action: 'send_content', channel: 'wechat', content: { id: 'C1' },
    window: { days: 7, weekdays: [1, 2, 3, 4, 5, 6, 7], hours: [0, 24] }, repeat_days: 0, purpose: 'promotional' });
  assert.equal((await get('/api/v1/rules/again')).json.owner_role, 'field'); // visits go to the field owner
  r = await get('/api/v1/rules');
  assert.deepEqual(r.json.items.map((x) => x.name), Object.keys(RULES).sort());
  r = await put('/api/v1/rules/tmp', { condition: 'true', action: { action: 'visit' }, valid_from: '2026-01-01', enabled: false });
  assert.equal(r.status, 201, r.text);
  r = await put('/api/v1/rules/tmp', { condition: 'true', action: { action: 'visit' }, priority: 2 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.priority, 2);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM nba_rules WHERE name = 'tmp'"), '1');
  assert.equal((await srv.api('DELETE', '/api/v1/rules/tmp', { token: admin })).status, 204);
  assertError(await get('/api/v1/rules/tmp'), 404);
  assertError(await srv.api('DELETE', '/api/v1/rules/tmp', { token: admin }), 404);
  // a rep may not define rules
  assertError(await put('/api/v1/rules/tmp', RULES.call, tok.rf), 403);
});

test('bad rules: 422 with the column, the type, the unknown content; 400 naming the field; nothing saved', async () => {
  let r = await put('/api/v1/rules/bad', { condition: 'specialty = ', action: { action: 'call' } });
  let e = assertError(r, 422, 'invalid_expression');
  assert.equal(e.detail.field, 'condition');
  assert.equal(e.detail.column, 13); // the end of 'specialty = ' (12 characters) + 1
  assert.ok(e.detail.expected.length > 0);
  r = await put('/api/v1/rules/bad', { condition: 'count(channel = "wechat", 90d)', action: { action: 'call' } });
  e = assertError(r, 422, 'not_boolean');
  assert.equal(e.detail.field, 'condition');
  assert.match(e.message, /number/);
  r = await put('/api/v1/rules/bad', { condition: 'true', action: { action: 'send_content', content: { id: 'C404' } } });
  e = assertError(r, 422, 'unknown_content');
  assert.equal(e.detail.field, 'action.content.id');
  assert.match(e.message, /C404/);
  for (const [body, field] of [
    [{ condition: 'true', action: { action: 'fax' } }, 'action.action'],
    [{ condition: 'true', action: { action: 'visit', channel: 'wechat' } }, 'action.channel'],
    [{ condition: 'true', action: { action: 'send_content' } }, 'action.content'],
    [{ condition: 'true', action: { action: 'call', window: { hours: [18, 9] } } }, 'action.window.hours'],
    [{ condition: 'true', action: { action: 'call' }, priority: 9 }, 'priority'],
    [{ condition: 'true', action: { action: 'call' }, owner_role: 'boss' }, 'owner_role'],
    [{ action: { action: 'call' } }, 'condition'],
  ]) {
    e = assertError(await put('/api/v1/rules/bad', body), 400);
    assert.equal(e.detail.field, field, JSON.stringify(body));
  }
  assertError(await put('/api/v1/rules/Bad%20Name', RULES.call), 400);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM nba_rules WHERE name = 'bad'"), '0');
});

/** The blocked reason codes of a doctor's explanation, by rule. */
const blockedBy = (j) => Object.fromEntries(j.blocked.map((b) => [b.rule, b.reason_code]));

test('recommendations: the control doctor gets the two best actions; the rest are blocked with reasons', async () => {
  const r = await recs('DOK');
  assert.equal(r.status, 200, r.text);
  // budget 3: the open visit task counts 1, so two suggestions fit (wx, then call)
  assert.deepEqual(r.json.items.map((i) => [i.action, i.channel, i.content, i.source]),
    [['send_content', 'wechat', 'C1', 'rule'], ['call', 'phone', null, 'rule']]);
  const wx = r.json.items[0];
  assert.equal(wx.score, 1); // priority 1: (6 - 1) / 5
  assert.equal(r.json.items[1].score, 0.8);
  assert.equal(wx.topic, 'guidelines');
  assert.equal(wx.assignee, 'RI');
  assert.ok(wx.reasons.some((x) => x.includes('微信推送指南')), JSON.stringify(wx.reasons));
  assert.ok(Date.parse(wx.window.end) - Date.parse(wx.window.start) <= 7 * DAY);
  assert.deepEqual(blockedBy(r.json), { draft: 'content_unapproved', old: 'content_expired', late: 'quiet_hours',
    again: 'repeat', msl: 'no_owner' });
  for (const b of r.json.blocked) assert.ok(b.reason.length > 10, b.reason);
  assert.match(r.json.blocked.find((b) => b.rule === 'again').reason, /30 days/);
  // without explain there is no blocked list; k caps the items
  const one = await recs('DOK', 'k=1');
  assert.equal(one.json.items.length, 1);
  assert.equal(one.json.blocked, undefined);
});

test('recommendations: each doctor built to hit a guard is blocked by it', async () => {
  const want = { DCON: 'consent', DUNR: 'unreachable', DNOO: 'no_owner', DBUD: 'budget', DCAP: 'channel_cap', DHLD: 'holdout' };
  for (const [doc, code] of Object.entries(want)) {
    const r = await recs(doc);
    assert.equal(r.status, 200, r.text);
    assert.equal(blockedBy(r.json).wx, code, `${doc}: ${r.text}`);
  }
  // the cap is per channel: DCAP may still be called; DBUD may not be contacted at all; DHLD gets nothing
  assert.deepEqual((await recs('DCAP')).json.items.map((i) => i.action), ['call']);
  assert.deepEqual((await recs('DBUD')).json.items, []);
  const h = (await recs('DHLD')).json;
  assert.deepEqual(h.items, []);
  assert.ok(h.blocked.every((b) => b.reason_code === 'holdout'));
  assert.match(h.blocked[0].reason, /nba-holdout/);
});

test('consent is per purpose: a rule for medical information needs an opt-in for medical information', async () => {
  let r = await put('/api/v1/rules/medinfo', { condition: 'true', priority: 5,
    action: { action: 'send_content', channel: 'wechat', content: { id: 'C1' }, purpose: 'medical_info' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.action.purpose, 'medical_info');
  try {
    // DOK opted in to WeChat for promotion only
    let b = (await recs('DOK')).json.blocked.find((x) => x.rule === 'medinfo');
    assert.equal(b?.reason_code, 'consent', JSON.stringify(b));
    assert.match(b.reason, /not opted in to wechat for medical_info/);
    r = await post('/api/v1/consents', { hcp: 'DOK', channel: 'wechat', purpose: 'medical_info', status: 'opt_in',
      captured_at: '2025-06-01T00:00:00Z' });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    let consentBlock = true;
    for (let i = 0; i < 40 && consentBlock; i++) { // the profile reads the new consent within moments
      b = (await recs('DOK')).json.blocked.find((x) => x.rule === 'medinfo');
      consentBlock = b?.reason_code === 'consent';
      if (consentBlock) await sleep(50);
    }
    assert.ok(!consentBlock, JSON.stringify(b));
    // an unknown purpose: a 400 naming the field, and the rule stays as it was
    r = await put('/api/v1/rules/medinfo', { condition: 'true', action: { action: 'call', purpose: 'marketing' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.detail.field, 'action.purpose', r.text);
    assert.equal((await get('/api/v1/rules/medinfo')).json.action.action, 'send_content');
  } finally {
    assert.equal((await srv.api('DELETE', '/api/v1/rules/medinfo', { token: admin })).status, 204);
  }
});

test('quiet hours move the window: asked at 23:00 Shanghai, the window starts at 08:00 the next morning', async () => {
  const r = await recs('DOK', 'explain=true&as_of=2030-03-06T23:00:00%2B08:00');
  assert.equal(r.status, 200, r.text);
  const wx = r.json.items[0];
  assert.equal(wx.window.start, '2030-03-07T00:00:00Z'); // 08:00 +08:00
  assert.equal(wx.window.end, '2030-03-13T13:00:00Z');   // the last allowed moment before 21:00 on day 7
  assert.ok(wx.reasons.some((x) => /starts at 2030-03-07 08:00 Asia\/Shanghai, moved out of quiet hours/.test(x)), JSON.stringify(wx.reasons));
});

test('scope: a rep reads their own doctor, not another rep\'s', async () => {
  assert.equal((await recs('DOK', 'k=1', tok.rf)).status, 200);
  assertError(await recs('DOK', 'k=1', tok.rx), 403);
  assertError(await recs('NOPE', 'k=1'), 404);
  assertError(await recs('DOK', 'k=0'), 400);
});

test('settings: admin only to change, checked by field, used by the guards', async () => {
  let r = await get('/api/v1/nba/settings');
  assert.deepEqual([r.json.weekly_budget, r.json.channel_caps.wechat, r.json.quiet_hours.from, r.json.quiet_hours.to, r.json.nightly],
    [3, 2, 21, 8, false]);
  assertError(await put('/api/v1/nba/settings', { weekly_budget: 5 }, tok.mk), 403);
  assert.equal(assertError(await put('/api/v1/nba/settings', { channel_caps: { fax: 1 } }), 400).detail.field, 'channel_caps.fax');
  assert.equal(assertError(await put('/api/v1/nba/settings', { quiet_hours: { from: 25 } }), 400).detail.field, 'quiet_hours');
  // a budget of 4 lets DBUD (3 contacts) take one more
  r = await put('/api/v1/nba/settings', { weekly_budget: 4 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((await recs('DBUD')).json.items.map((i) => i.action), ['send_content']);
  r = await put('/api/v1/nba/settings', { weekly_budget: 3 });
  assert.equal(r.json.weekly_budget, 3);
  assert.deepEqual((await recs('DBUD')).json.items, []);
});

test('the recommendation log holds what was served, with propensity 1 for the rules', async () => {
  await get('/api/v1/nba/log?limit=1'); // reading the log writes what was served before
  const before = Number(await srv.sql("SELECT COUNT(*) FROM nba_recommendations WHERE via = 'serve'"));
  await recs('DCAP', 'k=5');
  const r = await get('/api/v1/nba/log?hcp=DCAP&limit=1');
  assert.equal(r.status, 200, r.text);
  const row = r.json.items[0];
  assert.deepEqual([row.hcp, row.rule, row.action, row.channel, row.propensity, row.source, row.via, row.task_id],
    ['DCAP', 'call', 'call', 'phone', 1, 'rule', 'serve', null]);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM nba_recommendations WHERE via = 'serve'")), before + 1);
  assertError(await get('/api/v1/nba/log', tok.rf), 403);
});

test('nba/run: a dry run creates nothing; the run creates tasks for the right reps within the budget, once', async () => {
  const count = async () => Number(await srv.sql("SELECT COUNT(*) FROM tasks WHERE source = 'rule'"));
  const base = await count(); // the visit task of the setup
  assertError(await post('/api/v1/nba/run', { dry_run: true }, tok.rf), 403);
  assert.equal(assertError(await post('/api/v1/nba/run', { segment: 'specialty = ' }), 422).detail.field, 'segment');
  let r = await post('/api/v1/nba/run', { dry_run: true }, tok.mk);
  assert.equal(r.status, 200, r.text);
  const dry = r.json;
  assert.equal(dry.dry_run, true);
  assert.equal(dry.tasks_created, 0);
  assert.equal(await count(), base);
  // DOK → wx (RI), DCAP → call (RI), DNOO → visit rule "again" to RF (no inside owner for the rest);
  // DCON, DUNR: wechat blocked, then call (RI); DBUD: budget; DHLD: holdout
  assert.equal(dry.considered, 7);
  assert.equal(dry.recommended, 5, JSON.stringify(dry));
  assert.deepEqual(dry.per_rep.map((p) => [p.rep, p.tasks]).sort(), [['RF', 1], ['RI', 4]]);
  assert.ok(dry.blocked.budget >= 1 && dry.blocked.holdout >= 1, JSON.stringify(dry.blocked));
  assert.ok(typeof dry.took_ms === 'number');
  // a limit per rep: nobody gets more than one, and the rest are blocked as rep_limit
  r = await post('/api/v1/nba/run', { dry_run: true, limit_per_rep: 1 });
  assert.ok(r.json.per_rep.every((p) => p.tasks === 1), r.text);
  assert.ok(r.json.blocked.rep_limit >= 1, r.text);
  // a segment: only its doctors are considered
  r = await post('/api/v1/nba/run', { dry_run: true, segment: 'title = "chief"' });
  assert.deepEqual([r.json.considered, r.json.recommended], [1, 0]);
  r = await post('/api/v1/nba/run', {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tasks_created, 5);
  const rows = (await srv.sql(`SELECT h.ext_id || ':' || t.type || ':' || r.ext_id || ':' || t.source_ref FROM tasks t
    JOIN hcps h ON h.id = t.hcp_id JOIN reps r ON r.id = t.assignee_id WHERE t.source = 'rule' AND t.id > 1 ORDER BY h.ext_id`)).split('\n');
  assert.deepEqual(rows, ['DCAP:call:RI:call', 'DCON:call:RI:call', 'DNOO:visit:RF:again', 'DOK:send_content:RI:wx', 'DUNR:call:RI:call']);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM tasks t JOIN hcps h ON h.id = t.hcp_id WHERE h.ext_id IN ('DBUD', 'DHLD')"), '0');
  // each task has its log row, with its id
  assert.equal(await srv.sql("SELECT COUNT(*) FROM nba_recommendations l JOIN tasks t ON t.id = l.task_id WHERE l.via = 'run'"), '5');
  // and its "created" change (the run writes them in bulk, with ids it reserves from the table's sequence)
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM tasks t JOIN task_changes c ON c.task_id = t.id
    WHERE t.source = 'rule' AND t.id > 1 AND c.action = 'created' AND c.to_value = 'open'`), '5');
  const byHand = await post('/api/v1/tasks', { type: 'follow_up', hcp: 'DOK', assignee: 'RI',
    due_to: new Date(Date.now() + 86400000).toISOString(), force: true });
  assert.equal(byHand.status, 201, byHand.text);
  assert.ok(byHand.json.id > Number(await srv.sql("SELECT MAX(id) FROM tasks WHERE source = 'rule'")), byHand.text);
  const cancelled = await srv.api('PATCH', `/api/v1/tasks/${byHand.json.id}`, { token: admin, body: { status: 'cancelled' } });
  assert.equal(cancelled.status, 200, cancelled.text);
  // the log shows the task's status as the outcome until one is recorded
  const log = (await get('/api/v1/nba/log?hcp=DOK&limit=1')).json.items[0];
  assert.deepEqual([log.via, log.rule, log.outcome, typeof log.task_id], ['run', 'wx', 'open', 'number']);
  // the reason is in words
  assert.match(await srv.sql("SELECT reason FROM tasks WHERE source_ref = 'wx'"), /微信推送指南/);
  // again: the open tasks count against the budget and no type is duplicated for a doctor
  r = await post('/api/v1/nba/run', {});
  assert.equal(r.status, 200, r.text);
  const dup = await srv.sql(`SELECT COUNT(*) FROM (SELECT hcp_id, type FROM tasks WHERE status = 'open'
    GROUP BY hcp_id, type HAVING COUNT(*) > 1) x`);
  assert.equal(dup, '0');
  const over = await srv.sql(`SELECT COUNT(*) FROM (SELECT hcp_id FROM tasks WHERE status = 'open' GROUP BY hcp_id HAVING COUNT(*) > 3) x`);
  assert.equal(over, '0');
  // the tasks show up in the rep's list
  await sleep(50);
  const list = await get('/api/v1/tasks?assignee=RI&status=open');
  assert.ok(list.json.items.some((t) => t.source === 'rule' && t.source_ref === 'wx' && t.hcp === 'DOK'), list.text);
});

test('medreach nba run --dry-run: the same decisions from the command line, nothing created', async () => {
  const before = await srv.sql('SELECT COUNT(*) FROM tasks');
  let r = await srv.cli(['nba', 'run', '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.dry_run, out.considered, out.tasks_created], [true, 7, 0]);
  // what the API's dry run decides at this moment too
  const api = (await post('/api/v1/nba/run', { dry_run: true })).json;
  assert.deepEqual([out.recommended, out.blocked], [api.recommended, api.blocked]);
  r = await srv.cli(['nba', 'run', '--dry-run', '--segment', 'title = "chief"']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dry run: 1 doctors considered/m);
  assert.match(r.stdout, /blocked holdout/);
  assert.equal(await srv.sql('SELECT COUNT(*) FROM tasks'), before);
  r = await srv.cli(['nba', 'run', '--segment', 'specialty =']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /segment does not parse/);
  r = await srv.cli(['nba', 'run', '--limit-per-rep', 'x']);
  assert.equal(r.code, 2);
});

test('the nightly run: off by default; turned on, the server runs it by itself and a new doctor gets a task', async () => {
  await importCsv('hcps', [['id', 'name', 'specialty', 'title', 'hco'], ['DNEW', '新医生', 'endocrinology', 'attending', 'H1']]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ['DNEW', 'RF', 'field_owner', 'GLU', '2024-01-01', ''], ['DNEW', 'RI', 'inside_owner', 'GLU', '2024-01-01', '']]);
  await importCsv('consents', [['hcp', 'channel', 'purpose', 'status', 'captured_at'], ['DNEW', 'phone', 'promotional', 'opt_in', '2025-01-01']]);
  const tasksOf = () => srv.sql("SELECT COUNT(*) FROM tasks t JOIN hcps h ON h.id = t.hcp_id WHERE h.ext_id = 'DNEW' AND t.source = 'rule'");
  await sleep(600); // a few of the follower's ticks: nothing happens while it is off
  assert.equal(await tasksOf(), '0');
  const r = await put('/api/v1/nba/settings', { nightly: true, nightly_hour: 0 }); // 00:00 Shanghai: due at once
  assert.equal(r.status, 200, r.text);
  const end = Date.now() + 10000;
  while (await tasksOf() === '0' && Date.now() < end) await sleep(100);
  // DNEW has no WeChat identity: the wechat rule is blocked, so the call comes first
  assert.equal(await srv.sql(`SELECT t.type || ':' || r.ext_id FROM tasks t JOIN hcps h ON h.id = t.hcp_id
    JOIN reps r ON r.id = t.assignee_id WHERE h.ext_id = 'DNEW'`), 'call:RI');
  // one night, claimed once (several nodes on one database run it once)
  assert.equal(await srv.sql('SELECT COUNT(*) FROM nba_nights'), '1');
  assert.equal((await put('/api/v1/nba/settings', { nightly: false })).json.nightly, false);
});

test('the budget counts the contacts of the records merged into the doctor', async () => {
  // DMRG and a second record of the same doctor from another source, DMRG-2, called three times this week
  await importCsv('hcps', [['id', 'name', 'specialty', 'title', 'hco'],
    ['DMRG', '医生合并', 'endocrinology', 'attending', 'H1'], ['DMRG-2', '医生合并', 'endocrinology', 'attending', 'H1']]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ['DMRG', 'RF', 'field_owner', 'GLU', '2024-01-01', ''], ['DMRG', 'RI', 'inside_owner', 'GLU', '2024-01-01', '']]);
  await importCsv('identities', [['hcp', 'kind', 'value'], ['DMRG', 'wechat_unionid', 'oU_DMRG']]);
  await importCsv('consents', [['hcp', 'channel', 'purpose', 'status', 'captured_at'],
    ['DMRG', 'phone', 'promotional', 'opt_in', '2025-01-01'], ['DMRG', 'wechat', 'promotional', 'opt_in', '2025-01-01']]);
  const now = Date.now();
  await events([1, 2, 3].map((d) => ({ ts: iso(now - d * DAY - HOUR), hcp: 'DMRG-2', channel: 'phone', outcome: 'answered', rep: 'RI' })));
  const budgetBlocks = async () => (await recs('DMRG')).json.blocked?.filter((b) => b.reason_code === 'budget').length ?? 0;
  let items = [];
  for (let i = 0; i < 40 && !items.length; i++) { // the directory reads the new doctor within moments
    const r = await recs('DMRG');
    items = r.status === 200 ? r.json.items : [];
    if (!items.length) await sleep(50);
  }
  assert.ok(items.length > 0, 'DMRG alone has no contacts this week: suggestions');
  assert.equal(await budgetBlocks(), 0);
  const before = await post('/api/v1/nba/run', { dry_run: true });
  assert.equal(before.status, 200, before.text);
  const m = await post('/api/v1/hcps/DMRG-2/merge', { into: 'DMRG', reason: 'nba budget test' });
  assert.equal(m.status, 200, m.text);
  let blocks = 0;
  for (let i = 0; i < 40 && !blocks; i++) {
    blocks = await budgetBlocks();
    if (!blocks) await sleep(50);
  }
  assert.ok(blocks > 0, 'after the merge the duplicate\'s three calls fill DMRG\'s weekly budget');
  const r = await recs('DMRG');
  assert.deepEqual(r.json.items, [], r.text);
  assert.match(r.json.blocked.find((b) => b.reason_code === 'budget').reason, /3/);
  // the run counts them too: DMRG's suggestions are now blocked by the budget, one record fewer is considered
  const run = await post('/api/v1/nba/run', { dry_run: true });
  assert.equal(run.status, 200, run.text);
  assert.equal(run.json.considered, before.json.considered - 1, run.text);
  assert.ok(run.json.recommended < before.json.recommended, `${before.text} → ${run.text}`);
  assert.ok((run.json.blocked.budget ?? 0) > (before.json.blocked.budget ?? 0), `${before.text} → ${run.text}`);
});

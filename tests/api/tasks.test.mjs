// Tasks (docs/tasks.md) through the API, on SQLite and PostgreSQL: creating
// one, the list's filters and paging, who sees what (a rep their own, the
// manager their team's, read-only roles everything; 403 outside, 404 for
// none), the state machine and its 409, dismissal as feedback, automatic
// fulfilment by a posted event (and not by one before the window, by
// someone else, or on another channel), the chained field visit when an
// invitation is answered, expiry without any event, the team summary
// checked against SQL, reassignment, and bad input named by field.
//
// The world: reps R1 (field) and R2 (inside) under manager M1 in Shanghai,
// R4 (field) in Shanghai reporting to no one, R3 (field) in Beijing; D1
// aligned to R1 (field owner) and R2 (inside owner), D2 to R2 (inside) and
// R4 (field), D3 to R3. A second server on the same database (PostgreSQL: another
// node; SQLite: another process) shows that an event posted to one fulfils a
// task created on the other, once, and chains its visit once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startServer, assertError, createUser, uniqueLogin, sleep, request, freePort, BIN, ROOT } from './harness.mjs';

let srv;
let admin;
const tok = {};
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const iso = (ms) => new Date(ms).toISOString();
const importCsv = (entity, body) => srv.api('POST', `/api/v1/${entity}/import`, {
  token: admin, body, headers: { 'Content-Type': 'text/csv' } });
const get = (p, token = admin) => srv.api('GET', p, { token });
const post = (p, body, token = admin) => srv.api('POST', p, { token, body });
const patch = (p, body, token = admin) => srv.api('PATCH', p, { token, body });

/** Creates a task (201 asserted) and returns it. */
async function task(body, token = admin) {
  const r = await post('/api/v1/tasks', { due_from: iso(Date.now() - HOUR), due_to: iso(Date.now() + DAY), ...body }, token);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function postEvents(lines) {
  const r = await srv.api('POST', '/api/v1/events', {
    token: admin, headers: { 'Content-Type': 'application/x-ndjson' },
    body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, lines.length, r.text);
}

/** Polls task id until pred holds (at most ms: generous, for a loaded machine); returns the last reading. */
async function until(id, pred, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await get(`/api/v1/tasks/${id}`);
    assert.equal(r.status, 200, r.text);
    if (pred(r.json) || Date.now() > end) return r.json;
    await sleep(100);
  }
}

let evn = 0;
const evid = () => `task-ev-${++evn}`;

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  let r = await importCsv('territories', csv([['id', 'name', 'parent'], ['T-SH', '上海', ''], ['T-BJ', '北京', '']]));
  assert.equal(r.status, 200, r.text);
  r = await importCsv('hcos', csv([['id', 'name', 'level', 'city_tier'], ['H1', '上海市第一人民医院', '3', '1']]));
  assert.equal(r.status, 200, r.text);
  r = await importCsv('reps', csv([
    ['id', 'name', 'type', 'manager', 'territory'],
    ['R1', '张伟', 'field', 'M1', 'T-SH'],
    ['R2', '李娜', 'inside', 'M1', 'T-SH'],
    ['R3', '王强', 'field', '', 'T-BJ'],
    ['R4', '周敏', 'field', '', 'T-SH'],
    ['M1', '陈经理', 'field', '', 'T-SH'],
  ]));
  assert.equal(r.json.failed, 0, r.text);
  r = await importCsv('hcps', csv([
    ['id', 'name', 'specialty', 'hco'],
    ['D1', '王建国', 'endocrinology', 'H1'],
    ['D2', '王丽', 'cardiology', 'H1'],
    ['D3', '刘洋', 'ophthalmology', 'H1'],
  ]));
  assert.equal(r.json.failed, 0, r.text);
  r = await importCsv('alignments', csv([
    ['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01', ''],
    ['D1', 'R2', 'inside_owner', 'GLU', '2024-01-01', ''],
    ['D2', 'R2', 'inside_owner', 'GLU', '2024-01-01', ''],
    ['D3', 'R3', 'field_owner', 'GLU', '2024-01-01', ''],
    ['D2', 'R4', 'field_owner', 'GLU', '2024-01-01', ''],
  ]));
  assert.equal(r.json.created, 5, r.text);
  for (const [name, role, rep] of [['r1', 'field_rep', 'R1'], ['r2', 'inside_rep', 'R2'], ['r3', 'field_rep', 'R3'],
    ['mgr', 'manager', 'M1'], ['an', 'analyst', null], ['co', 'compliance', null], ['mk', 'marketing', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(name), role, rep_id: rep || undefined });
    tok[name] = await srv.token(u.login);
  }
});
after(async () => { await srv?.stop(); });

test('a task is created with what the rep needs to act, and its history starts', async () => {
  const t = await task({ type: 'call', hcp: 'D1', assignee: 'R1', priority: 2, source: 'rule', source_ref: 'rule:17',
    reason: '三个月没有拜访', topic: 'GLU launch', channel: 'phone' });
  assert.equal(t.type, 'call');
  assert.deepEqual([t.hcp, t.hcp_name, t.assignee, t.assignee_name], ['D1', '王建国', 'R1', '张伟']);
  assert.deepEqual([t.status, t.priority, t.source, t.source_ref, t.reason], ['open', 2, 'rule', 'rule:17', '三个月没有拜访']);
  assert.match(t.due_from, /^\d{4}-\d\d-\d\dT/);
  assert.equal(t.fulfilled_event, null);
  assert.equal(t.created_by, srv.adminLogin);
  assert.deepEqual(t.history.map((h) => [h.action, h.to, h.by]), [['created', 'open', srv.adminLogin]]);
  const row = await srv.sql(`SELECT t.type || '|' || h.ext_id || '|' || r.ext_id || '|' || t.status || '|' || t.priority
    FROM tasks t JOIN hcps h ON h.id = t.hcp_id JOIN reps r ON r.id = t.assignee_id WHERE t.id = ${t.id}`);
  assert.equal(row, 'call|D1|R1|open|2');
  // a rep creates one for themselves ("me" by default); priority 3 when not given
  const mine = await task({ type: 'wechat', hcp: 'D1' }, tok.r1);
  assert.deepEqual([mine.assignee, mine.priority, mine.source], ['R1', 3, 'person']);
});

test('an assignee must be aligned to the doctor, unless an admin or manager forces it', async () => {
  let r = await post('/api/v1/tasks', { type: 'visit', hcp: 'D3', assignee: 'R1', due_to: iso(Date.now() + DAY) });
  const e = assertError(r, 422, 'unprocessable');
  assert.equal(e.detail.field, 'assignee');
  assert.match(e.message, /not aligned/);
  r = await post('/api/v1/tasks', { type: 'visit', hcp: 'D3', assignee: 'R1', due_to: iso(Date.now() + DAY), force: true });
  assert.equal(r.status, 201, r.text);
  // the manager may force within the team; a rep may not force at all
  r = await post('/api/v1/tasks', { type: 'visit', hcp: 'D2', assignee: 'R1', due_to: iso(Date.now() + DAY), force: true }, tok.mgr);
  assert.equal(r.status, 201, r.text);
  r = await post('/api/v1/tasks', { type: 'visit', hcp: 'D1', due_to: iso(Date.now() + DAY), force: true }, tok.r1);
  assertError(r, 403, 'forbidden');
  // a rep gives tasks to themselves only, for their own doctors
  r = await post('/api/v1/tasks', { type: 'call', hcp: 'D1', assignee: 'R2', due_to: iso(Date.now() + DAY) }, tok.r1);
  assert.equal(assertError(r, 403, 'forbidden').detail.field, 'assignee');
  r = await post('/api/v1/tasks', { type: 'call', hcp: 'D3', due_to: iso(Date.now() + DAY) }, tok.r1);
  assert.equal(assertError(r, 403, 'forbidden').detail.field, 'hcp');
  // the manager's team is R1, R2 (and M1): R3 is not theirs to give work to
  r = await post('/api/v1/tasks', { type: 'call', hcp: 'D1', assignee: 'R3', due_to: iso(Date.now() + DAY), force: true }, tok.mgr);
  assertError(r, 403, 'forbidden');
  // read-only roles cannot create
  r = await post('/api/v1/tasks', { type: 'call', hcp: 'D1', assignee: 'R1', due_to: iso(Date.now() + DAY) }, tok.an);
  assertError(r, 403, 'forbidden');
});

test('bad input is refused with the field named, and nothing is written', async () => {
  const before = await srv.sql('SELECT COUNT(*) FROM tasks');
  const base = { type: 'call', hcp: 'D1', assignee: 'R1', due_from: iso(Date.now()), due_to: iso(Date.now() + DAY) };
  const cases = [
    [{ ...base, hcp: 'D404' }, 'hcp'],
    [{ ...base, assignee: 'R404' }, 'assignee'],
    [{ ...base, type: 'fax' }, 'type'],
    [{ ...base, due_to: iso(Date.now() - DAY) }, 'due_to'],
    [{ ...base, due_to: 'tomorrow' }, 'due_to'],
    [{ ...base, due_to: undefined }, 'due_to'],
    [{ ...base, priority: 9 }, 'priority'],
    [{ ...base, source: 'oracle' }, 'source'],
    [{ ...base, reason: 'x'.repeat(1001) }, 'reason'],
    [{ ...base, colour: 'red' }, 'colour'],
    [{ ...base, force: 'yes' }, 'force'],
  ];
  for (const [body, field] of cases) {
    const r = await post('/api/v1/tasks', body);
    const e = assertError(r, 400, 'bad_request', field);
    assert.equal(e.detail.field, field, r.text);
  }
  // invalid UTF-8 in a string
  const bad = Buffer.concat([Buffer.from('{"type":"call","hcp":"D1","assignee":"R1","due_to":"2030-01-01","reason":"'),
    Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  assertError(await post('/api/v1/tasks', bad), 400, 'bad_request');
  // oversize: past the route's 16 KiB
  assertError(await post('/api/v1/tasks', { ...base, reason: 'x'.repeat(20000) }), 413);
  assertError(await post('/api/v1/tasks', '{"type":'), 400, 'bad_request');
  assert.equal(await srv.sql('SELECT COUNT(*) FROM tasks'), before, 'no task written by a refused request');
  // list filters too
  assert.equal(assertError(await get('/api/v1/tasks?status=late'), 400).detail.field, 'status');
  assert.equal(assertError(await get('/api/v1/tasks?due=someday'), 400).detail.field, 'due');
  assert.equal(assertError(await get('/api/v1/tasks?assignee=R404'), 400).detail.field, 'assignee');
  assert.equal(assertError(await get('/api/v1/tasks?assignee=me'), 400).detail.field, 'assignee', 'admin has no rep');
  assertError(await get('/api/v1/tasks/abc'), 404, 'not_found', 'an id that is not a number names nothing');
});

test('scope: a rep sees their own tasks, the manager the team\'s, read-only roles all; 403 outside, 404 for none', async () => {
  const a = await task({ type: 'call', hcp: 'D1', assignee: 'R1' });
  const b = await task({ type: 'wechat', hcp: 'D2', assignee: 'R2' });
  const c = await task({ type: 'visit', hcp: 'D3', assignee: 'R3' });
  const d = await task({ type: 'visit', hcp: 'D2', assignee: 'R4' });
  const list = async (token, q = '') => {
    const r = await get(`/api/v1/tasks?limit=500${q}`, token);
    assert.equal(r.status, 200, r.text);
    return r.json.items;
  };
  const assignees = (items) => [...new Set(items.map((t) => t.assignee))].sort();
  assert.deepEqual(assignees(await list(tok.r1)), ['R1']);
  assert.deepEqual(assignees(await list(tok.r2)), ['R2']);
  assert.deepEqual(assignees(await list(tok.r3)), ['R3']);
  const mgr = await list(tok.mgr);
  assert.ok(mgr.some((t) => t.id === a.id) && mgr.some((t) => t.id === b.id), 'the manager sees R1 and R2');
  assert.ok(!mgr.some((t) => t.id === c.id), 'not R3 in another territory');
  assert.ok(mgr.some((t) => t.id === d.id), 'R4 works in the manager\'s territory, outside the manager tree');
  assert.ok(!(await list(tok.r1)).some((t) => t.id === d.id));
  const all = Number(await srv.sql('SELECT COUNT(*) FROM tasks'));
  for (const who of ['an', 'co', 'mk']) assert.equal((await list(tok[who])).length, all, who);
  assert.equal((await get(`/api/v1/tasks/${a.id}`, tok.r1)).status, 200);
  assertError(await get(`/api/v1/tasks/${b.id}`, tok.r1), 403, 'forbidden');
  assertError(await get(`/api/v1/tasks/${c.id}`, tok.mgr), 403, 'forbidden');
  assertError(await get('/api/v1/tasks/999999', tok.r1), 404, 'not_found');
  assertError(await patch(`/api/v1/tasks/${b.id}`, { status: 'in_progress' }, tok.r1), 403, 'forbidden');
  assertError(await post(`/api/v1/tasks/${b.id}/dismiss`, { reason: 'not mine' }, tok.r1), 403, 'forbidden');
  assertError(await patch(`/api/v1/tasks/${a.id}`, { status: 'in_progress' }, tok.co), 403, 'forbidden');
  assert.equal((await get(`/api/v1/tasks/${a.id}`)).json.status, 'open', 'refused changes change nothing');
  // "me" is the caller's rep
  assert.deepEqual(assignees(await list(tok.mgr, '&assignee=me')), []);
  assert.deepEqual(assignees(await list(tok.r2, '&assignee=me')), ['R2']);
});

test('list filters: status, hcp, source, due today / overdue / week, and cursor paging', async () => {
  const now = Date.now();
  const overdue = await task({ type: 'call', hcp: 'D2', assignee: 'R2', due_from: iso(now - 2 * DAY), due_to: iso(now - HOUR) });
  const later = await task({ type: 'call', hcp: 'D2', assignee: 'R2', source: 'model', due_from: iso(now + 3 * DAY), due_to: iso(now + 4 * DAY) });
  const far = await task({ type: 'call', hcp: 'D2', assignee: 'R2', due_from: iso(now + 20 * DAY), due_to: iso(now + 21 * DAY) });
  const ids = async (q) => {
    const r = await get(`/api/v1/tasks?assignee=R2&hcp=D2&limit=500${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json.items.map((t) => t.id);
  };
  const od = await ids('&due=overdue');
  assert.ok(od.includes(overdue.id) && !od.includes(later.id) && !od.includes(far.id), JSON.stringify(od));
  assert.equal((await get(`/api/v1/tasks/${overdue.id}`)).json.overdue, true);
  const wk = await ids('&due=week');
  assert.ok(wk.includes(later.id) && !wk.includes(far.id), JSON.stringify(wk));
  const td = await ids('&due=today');
  assert.ok(!td.includes(later.id) && !td.includes(far.id));
  assert.deepEqual(await ids('&source=model'), [later.id]);
  // by SQL: every task of R2 for D2 in status open
  const want = (await srv.sql(`SELECT t.id FROM tasks t JOIN reps r ON r.id = t.assignee_id JOIN hcps h ON h.id = t.hcp_id
    WHERE r.ext_id = 'R2' AND h.ext_id = 'D2' AND t.status IN ('open', 'in_progress') ORDER BY t.id`)).split('\n').map(Number);
  assert.deepEqual(await ids('&status=open,in_progress'), want);
  // paging walks everything once, in id order
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 100; i++) {
    const r = await get(`/api/v1/tasks?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 2);
    seen.push(...r.json.items.map((t) => t.id));
    cursor = r.json.next_cursor;
    if (!cursor) break;
  }
  const every = (await srv.sql('SELECT id FROM tasks ORDER BY id')).split('\n').map(Number);
  assert.deepEqual(seen, every);
});

test('the state machine: open → in_progress → done, and nothing leaves done (409 from what to what)', async () => {
  const t = await task({ type: 'visit', hcp: 'D1', assignee: 'R1' });
  let r = await patch(`/api/v1/tasks/${t.id}`, { status: 'in_progress' }, tok.r1);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'in_progress');
  r = await patch(`/api/v1/tasks/${t.id}`, { status: 'open' }, tok.r1);
  let e = assertError(r, 409);
  assert.match(e.message, /from in_progress to open/);
  r = await patch(`/api/v1/tasks/${t.id}`, { status: 'done', event: 'paper-visit-1' }, tok.r1);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.status, r.json.fulfilled_event], ['done', 'paper-visit-1']);
  assert.ok(r.json.closed_at);
  for (const to of ['open', 'in_progress', 'cancelled']) {
    e = assertError(await patch(`/api/v1/tasks/${t.id}`, { status: to }), 409);
    assert.match(e.message, new RegExp(`from done to ${to}`));
  }
  e = assertError(await patch(`/api/v1/tasks/${t.id}`, { priority: 1 }), 409);
  assert.match(e.message, /is done/);
  assertError(await patch(`/api/v1/tasks/${t.id}`, { status: 'expired' }), 400);
  assertError(await patch(`/api/v1/tasks/${t.id}`, { status: 'finished' }), 400);
  // the rep changes status only
  const u = await task({ type: 'visit', hcp: 'D1', assignee: 'R1' });
  assertError(await patch(`/api/v1/tasks/${u.id}`, { priority: 1 }, tok.r1), 403);
  // open → done directly, and the history tells each step
  r = await patch(`/api/v1/tasks/${u.id}`, { status: 'done' }, tok.r1);
  assert.equal(r.status, 200, r.text);
  const h = (await get(`/api/v1/tasks/${t.id}`)).json.history;
  assert.deepEqual(h.map((x) => [x.action, x.from, x.to]),
    [['created', null, 'open'], ['status', 'open', 'in_progress'], ['fulfilled', 'in_progress', 'done']]);
  assert.equal(h[2].note, 'paper-visit-1');
});

test('reassignment, rescheduling and priority by the manager, recorded in the history', async () => {
  const t = await task({ type: 'call', hcp: 'D1', assignee: 'R1' });
  let r = await patch(`/api/v1/tasks/${t.id}`, { assignee: 'R2', priority: 1,
    due_from: '2030-01-02', due_to: '2030-01-03T18:00:00+08:00' }, tok.mgr);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.assignee, r.json.priority], ['R2', 1]);
  assert.equal(r.json.due_from, '2030-01-01T16:00:00Z', 'a date is midnight in Shanghai');
  assert.equal(r.json.due_to, '2030-01-03T10:00:00Z');
  const h = r.json.history.map((x) => [x.action, x.from, x.to]);
  assert.deepEqual(h.find((x) => x[0] === 'assignee'), ['assignee', 'R1', 'R2']);
  assert.deepEqual(h.find((x) => x[0] === 'priority'), ['priority', '3', '1']);
  assert.deepEqual(h.find((x) => x[0] === 'due')[2], '2030-01-01T16:00:00Z/2030-01-03T10:00:00Z');
  r = await patch(`/api/v1/tasks/${t.id}`, { due_to: '2029-01-01' }, tok.mgr);
  assert.equal(assertError(r, 400).detail.field, 'due_to');
  // R3 is outside the manager's team; the admin may, but only forced (R3 is not aligned to D1)
  assertError(await patch(`/api/v1/tasks/${t.id}`, { assignee: 'R3' }, tok.mgr), 403);
  assertError(await patch(`/api/v1/tasks/${t.id}`, { assignee: 'R3' }), 422);
  r = await patch(`/api/v1/tasks/${t.id}`, { assignee: 'R3', force: true });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.assignee, 'R3');
  assertError(await get(`/api/v1/tasks/${t.id}`, tok.r1), 403, 'forbidden', 'R1 no longer sees it');
  assert.equal((await get(`/api/v1/tasks/${t.id}`, tok.r3)).status, 200);
});

test('a dismissal cancels the task with its reason, kept as feedback', async () => {
  const t = await task({ type: 'send_content', hcp: 'D1', assignee: 'R1', source: 'model', source_ref: 'propensity:v3', content: 'C9' });
  assert.equal(assertError(await post(`/api/v1/tasks/${t.id}/dismiss`, {}, tok.r1), 400).detail.field, 'reason');
  let r = await post(`/api/v1/tasks/${t.id}/dismiss`, { reason: '医生已退休' }, tok.r1);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.status, r.json.dismiss_reason], ['cancelled', '医生已退休']);
  assert.deepEqual(r.json.history.at(-1).action, 'dismissed');
  const fb = await srv.sql(`SELECT source || '|' || source_ref || '|' || type || '|' || content || '|' || reason FROM task_feedback WHERE task_id = ${t.id}`);
  assert.equal(fb, 'model|propensity:v3|send_content|C9|医生已退休');
  r = await post(`/api/v1/tasks/${t.id}/dismiss`, { reason: 'again' }, tok.r1);
  assert.match(assertError(r, 409).message, /from cancelled to cancelled|cancelled/);
});

test('a posted event fulfils the task it does: right channel, right rep, inside the window', async () => {
  const now = Date.now();
  const call = await task({ type: 'call', hcp: 'D2', assignee: 'R2' });
  const early = await task({ type: 'wechat', hcp: 'D2', assignee: 'R2', due_from: iso(now + HOUR), due_to: iso(now + DAY) });
  const content = await task({ type: 'send_content', hcp: 'D2', assignee: 'R2', content: 'C7' });
  // not these: a call nobody answered, a call by someone else, a message before the wechat task's window,
  // content other than the task's
  await postEvents([
    { id: evid(), ts: iso(now - 60000), hcp: 'D2', channel: 'phone', outcome: 'no_answer', rep: 'R2' },
    { id: evid(), ts: iso(now - 50000), hcp: 'D2', channel: 'phone', outcome: 'effective', rep: 'R1' },
    { id: evid(), ts: iso(now - 40000), hcp: 'D2', channel: 'wechat', outcome: 'read', rep: 'R2' },
    { id: evid(), ts: iso(now - 30000), hcp: 'D2', channel: 'email', outcome: 'sent', rep: 'R2', content: 'C8' },
  ]);
  await sleep(1500);
  for (const t of [call, early, content]) assert.equal((await get(`/api/v1/tasks/${t.id}`)).json.status, 'open', t.type);
  // these do it
  const id1 = evid();
  const id2 = evid();
  await postEvents([
    { id: id1, ts: iso(now), hcp: 'D2', channel: 'phone', outcome: 'answered', rep: 'R2' },
    { id: id2, ts: iso(now + 1000), hcp: 'D2', channel: 'wecom', outcome: 'delivered', rep: 'R2', content: 'C7' },
  ]);
  const done = await until(call.id, (t) => t.status === 'done');
  assert.equal(done.status, 'done');
  assert.equal(done.fulfilled_event, id1);
  const seq = Number(await srv.sql(`SELECT seq FROM events WHERE eid = '${id1}'`));
  assert.equal(done.fulfilled_seq, seq);
  assert.deepEqual(done.history.at(-1), { ...done.history.at(-1), action: 'fulfilled', by: null, from: 'open', to: 'done', note: id1 });
  const c = await until(content.id, (t) => t.status === 'done');
  assert.equal(c.fulfilled_event, id2);
  assert.equal((await get(`/api/v1/tasks/${early.id}`)).json.status, 'open', 'the message was before its window');
});

test('an answered invitation chains a visit for the doctor\'s field owner within 7 days', async () => {
  const inv = await task({ type: 'meeting_invite', hcp: 'D1', assignee: 'R2', reason: 'GLU webinar' });
  const id = evid();
  await postEvents([{ id, ts: iso(Date.now()), hcp: 'D1', channel: 'meeting_online', outcome: 'registered', rep: 'R2', meeting: 'M77' }]);
  const done = await until(inv.id, (t) => t.status === 'done');
  assert.equal(done.status, 'done');
  let visit;
  for (let i = 0; i < 150 && !visit; i++) {
    const r = await get(`/api/v1/tasks?hcp=D1&source=rule&limit=500`);
    visit = r.json.items.find((t) => t.source_ref === `chain:${inv.id}`);
    if (!visit) await sleep(100);
  }
  assert.ok(visit, 'a chained task');
  assert.deepEqual([visit.type, visit.assignee, visit.status, visit.source], ['visit', 'R1', 'open', 'rule']);
  assert.match(visit.reason, /registered/);
  const days = (Date.parse(visit.due_to) - Date.parse(visit.due_from)) / DAY;
  assert.ok(Math.abs(days - 7) < 0.01, `due within 7 days, not ${days}`);
  // a plain delivered message does not chain
  const wx = await task({ type: 'wechat', hcp: 'D1', assignee: 'R2' });
  await postEvents([{ id: evid(), ts: iso(Date.now()), hcp: 'D1', channel: 'wechat', outcome: 'delivered', rep: 'R2' }]);
  assert.equal((await until(wx.id, (t) => t.status === 'done')).status, 'done');
  await sleep(500);
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM tasks WHERE source_ref = 'chain:${wx.id}'`), '0');
});

test('a task left overdue past the grace expires without any event', async () => {
  const now = Date.now();
  const old = await task({ type: 'call', hcp: 'D3', assignee: 'R3', due_from: iso(now - 10 * DAY), due_to: iso(now - 4 * DAY) });
  const recent = await task({ type: 'call', hcp: 'D3', assignee: 'R3', due_from: iso(now - 2 * DAY), due_to: iso(now - DAY) });
  const t = await until(old.id, (x) => x.status === 'expired');
  assert.equal(t.status, 'expired');
  assert.deepEqual([t.history.at(-1).action, t.history.at(-1).by], ['expired', null]);
  const r = (await get(`/api/v1/tasks/${recent.id}`)).json;
  assert.deepEqual([r.status, r.overdue], ['open', true], 'overdue for a day: still open, shown as overdue');
});

test('the team summary per rep equals the same counts in SQL', async () => {
  const r = await get('/api/v1/tasks/summary', tok.mgr);
  assert.equal(r.status, 200, r.text);
  const nowUs = BigInt(Date.parse(r.json.as_of)) * 1000n;
  const dayUs = BigInt(Date.parse(r.json.day_start)) * 1000n;
  const weekUs = BigInt(Date.parse(r.json.week_start)) * 1000n;
  assert.equal(new Date(r.json.day_start).getUTCHours(), 16, 'a Shanghai day starts at 16:00 UTC');
  const act = "t.status IN ('open', 'in_progress')";
  const want = (await srv.sql(`SELECT r.ext_id, SUM(CASE WHEN ${act} THEN 1 ELSE 0 END),
    SUM(CASE WHEN ${act} AND t.due_from < ${dayUs + 86400000000n} AND t.due_to >= ${dayUs} THEN 1 ELSE 0 END),
    SUM(CASE WHEN ${act} AND t.due_to < ${nowUs} THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.status = 'done' AND t.closed_at >= ${weekUs} THEN 1 ELSE 0 END)
    FROM tasks t JOIN reps r ON r.id = t.assignee_id WHERE r.ext_id IN ('R1', 'R2', 'M1', 'R4')
      OR t.hcp_id IN (SELECT hcp_id FROM alignments a JOIN reps x ON x.id = a.rep_id WHERE x.ext_id IN ('R1', 'R2', 'M1'))
    GROUP BY r.ext_id ORDER BY r.ext_id`)).split('\n').map((l) => l.split('|'));
  const got = r.json.items.map((x) => [x.assignee, String(x.open), String(x.due_today), String(x.overdue), String(x.done_week)]);
  assert.deepEqual(got, want);
  assert.ok(got.some((x) => Number(x[4]) > 0), 'some done this week');
  // a rep's summary is their own row only
  const mine = await get('/api/v1/tasks/summary', tok.r1);
  assert.deepEqual(mine.json.items.map((x) => x.assignee), ['R1']);
});

test('medreach tasks list prints the tasks, filtered by assignee and status', async () => {
  const r = await srv.cli(['tasks', 'list', '--assignee', 'R1', '--status', 'open,in_progress']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^id\s+type\s+hcp\s+assignee\s+status/);
  const got = lines.slice(1).map((l) => Number(l.split(/\s+/)[0]));
  const want = (await srv.sql(`SELECT t.id FROM tasks t JOIN reps r ON r.id = t.assignee_id WHERE r.ext_id = 'R1'
    AND t.status IN ('open', 'in_progress') ORDER BY t.id`)).split('\n').map(Number);
  assert.deepEqual(got, want);
  assert.ok(lines.slice(1).every((l) => / R1 /.test(l) && /\b(open|in_progress)\b/.test(l)));
  const bad = await srv.cli(['tasks', 'list', '--status', 'late']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--status is open, in_progress/);
  const unknown = await srv.cli(['tasks', 'list', '--assignee', 'R404']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /rep R404 does not exist/);
});

test('two servers on one database: an event posted to one fulfils a task made on the other, once, chaining once', async () => {
  const port = await freePort();
  const env = { ...process.env, MEDREACH_KEY_FILE: path.join(srv.dir, 'key'), MEDREACH_LOG_LEVEL: 'warn' };
  const proc = spawn(BIN, ['serve', '--db', srv.db, '--listen', `127.0.0.1:${port}`, '--web', path.join(ROOT, 'web')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const b = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await request(b, 'GET', '/healthz')).status === 200) break;
      } catch { /* not yet */ }
      assert.ok(i < 300, `node B did not start:\n${log}`);
      await sleep(100);
    }
    const inv = await task({ type: 'meeting_invite', hcp: 'D1', assignee: 'R2', reason: 'two nodes' });
    await sleep(1200); // B has followed the tasks table by now, so both nodes hold the task
    const id = evid();
    const r = await request(b, 'POST', '/api/v1/events', {
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/x-ndjson' },
      body: `${JSON.stringify({ id, ts: iso(Date.now()), hcp: 'D1', channel: 'meeting_offline', outcome: 'attended', rep: 'R2', meeting: 'M9' })}\n`,
    });
    assert.equal(r.status, 200, r.text);
    const done = await until(inv.id, (t) => t.status === 'done');
    assert.equal(done.fulfilled_event, id);
    await sleep(1500); // both nodes have heard the event by now
    assert.equal(await srv.sql(`SELECT COUNT(*) FROM task_changes WHERE task_id = ${inv.id} AND action = 'fulfilled'`), '1');
    assert.equal(await srv.sql(`SELECT COUNT(*) FROM tasks WHERE source_ref = 'chain:${inv.id}'`), '1', 'one chained visit, not one per node');
    // and B answers for the task too
    const viaB = await request(b, 'GET', `/api/v1/tasks/${inv.id}`, { headers: { Authorization: `Bearer ${admin}` } });
    assert.equal(viaB.json.status, 'done');
  } finally {
    const exited = new Promise((res) => proc.once('exit', res));
    proc.kill('SIGTERM');
    await exited;
  }
});

// Reps' call and visit reports (POST /api/v1/interactions): filed by a rep
// for an aligned doctor, locked once filed, their event on the doctor's
// timeline for every rep aligned to the doctor; the doctor's words shown to
// the roles that may see them and sealed at rest; refusals naming the field;
// amendments by the author or an admin that keep the original and carry over
// what they leave out; and every read and write in the audit trail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, uniqueLogin, BACKEND } from './harness.mjs';

let srv;
let admin;
const tok = {};
const login = {};

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const AT = '2024-03-05T10:00:00+08:00';
const AT_UTC = '2024-03-05T02:00:00Z';

async function importCsv(entity, rows) {
  const r = await srv.api('POST', `/api/v1/${entity}/import`, { token: admin, body: csv(rows), headers: { 'Content-Type': 'text/csv' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, `${entity}: ${r.text}`);
}

const file = (token, body) => srv.api('POST', '/api/v1/interactions', { token, body });
const amend = (token, id, body) => srv.api('POST', `/api/v1/interactions/${id}/amend`, { token, body });
const get = (token, id) => srv.api('GET', `/api/v1/interactions/${id}`, { token });

/** Files a report as token and asserts 201; returns the report. */
async function fileOk(token, body) {
  const r = await file(token, body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const visit = (hcp, over = {}) => ({
  hcp, channel: 'visit', outcome: 'completed', at: AT, duration_min: 20, products: ['GLU'], key_messages: ['efficacy', 'safety'],
  feedback: '担心低血糖风险', questions: '老年患者剂量如何调整？', next_steps: '下周送指南', ...over,
});

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv('reps', [['id', 'name', 'type', 'manager'], ['M1', '陈经理', 'field', ''], ['R1', '张伟', 'field', 'M1'],
    ['R2', '李娜', 'inside', ''], ['R3', '王强', 'field', '']]);
  await importCsv('hcps', [['id', 'name'], ['D1', '王建国'], ['D2', '王丽'], ['D3', '刘洋'], ['D4', '赵敏'], ['D5', '孙磊']]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from'],
    ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01'], ['D1', 'R2', 'inside_owner', 'GLU', '2024-01-01'],
    ['D3', 'R3', 'field_owner', 'GLU', '2024-01-01'], ['D4', 'R1', 'field_owner', 'GLU', '2024-01-01'],
    ['D5', 'R1', 'field_owner', 'GLU', '2024-01-01'], ['D5', 'R2', 'inside_owner', 'GLU', '2024-01-01']]);
  for (const [name, role, rep] of [['r1', 'field_rep', 'R1'], ['r2', 'inside_rep', 'R2'], ['r3', 'field_rep', 'R3'],
    ['mgr', 'manager', 'M1'], ['an', 'analyst', null], ['co', 'compliance', null], ['mkt', 'marketing', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(name), role, rep_id: rep || undefined });
    tok[name] = await srv.token(u.login);
    login[name] = u.login;
  }
});
after(async () => { await srv?.stop(); });

test("a field rep files a report for an aligned doctor: 201, locked, and its event is on the doctor's timeline for the inside owner too", async () => {
  const rep = await fileOk(tok.r1, visit('D1', { follow_up: { at: '2030-01-02T10:00:00+08:00', channel: 'phone' } }));
  assert.match(rep.id, /^IR-[0-9a-f]{12}$/);
  assert.deepEqual(
    [rep.hcp, rep.rep, rep.author, rep.channel, rep.outcome, rep.at, rep.duration_min, rep.products, rep.key_messages],
    ['D1', 'R1', login.r1, 'visit', 'completed', AT_UTC, 20, ['GLU'], ['efficacy', 'safety']]);
  assert.deepEqual([rep.feedback, rep.questions, rep.next_steps], ['担心低血糖风险', '老年患者剂量如何调整？', '下周送指南']);
  assert.deepEqual(rep.follow_up, { at: '2030-01-02T02:00:00Z', channel: 'phone' });
  assert.deepEqual([rep.amends, rep.reason, rep.amended, rep.event], [null, null, false, `report:${rep.id}`]);
  assert.deepEqual(rep.versions, [{ id: rep.id, author: login.r1, created_at: rep.created_at, reason: null }]);

  // on the timeline at once, for the field owner and for the inside owner
  for (const t of [tok.r1, tok.r2]) {
    const tl = await srv.api('GET', '/api/v1/hcps/D1/timeline', { token: t });
    assert.equal(tl.status, 200, tl.text);
    const e = tl.json.items.find((i) => i.id === `report:${rep.id}`);
    assert.ok(e, `the report's event is on the timeline: ${tl.text}`);
    assert.deepEqual([e.channel, e.type, e.outcome, e.ts, e.duration_s, e.source], ['visit', 'visit', 'completed', AT_UTC, 1200, 'report']);
    assert.deepEqual(e.rep, { id: 'R1', name: '张伟', type: 'field' });
    assert.equal(e.props.report, rep.id);
  }
  const list = await srv.api('GET', '/api/v1/hcps/D1/interactions', { token: tok.r2 });
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.items.some((i) => i.id === rep.id));

  // locked: no route changes or removes a filed report
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    const r = await srv.api(method, `/api/v1/interactions/${rep.id}`, { token: admin, body: method === 'DELETE' ? undefined : { outcome: 'planned' } });
    assertError(r, 405, 'method_not_allowed', method);
    assert.equal(r.headers.allow, 'GET');
  }
  assert.equal((await get(tok.r1, rep.id)).json.outcome, 'completed');
});

test("the doctor's words are shown to the rep, admin and compliance, never to a masked role, and sealed at rest", async () => {
  const rep = await fileOk(tok.r1, visit('D1', { feedback: 'SEALED-FEEDBACK-7731' }));
  for (const name of ['r1', 'r2', 'co']) {
    const r = await get(tok[name], rep.id);
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    assert.deepEqual([r.json.feedback, r.json.questions, r.json.next_steps], ['SEALED-FEEDBACK-7731', '老年患者剂量如何调整？', '下周送指南'], name);
  }
  assert.equal((await get(admin, rep.id)).json.feedback, 'SEALED-FEEDBACK-7731');
  const masked = await get(tok.an, rep.id);
  assert.equal(masked.status, 200, masked.text);
  for (const k of ['feedback', 'questions', 'next_steps']) assert.ok(!(k in masked.json), `an analyst gets no ${k}: ${masked.text}`);
  assert.deepEqual([masked.json.outcome, masked.json.products], ['completed', ['GLU']], 'but the rest of the report');
  const list = await srv.api('GET', '/api/v1/hcps/D1/interactions', { token: tok.an });
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.items.length >= 2);
  for (const it of list.json.items) assert.ok(!('feedback' in it) && !('questions' in it) && !('next_steps' in it), JSON.stringify(it));

  const hex = Buffer.from('SEALED-FEEDBACK-7731').toString('hex');
  const asHex = BACKEND === 'sqlite' ? 'lower(hex(notes_enc))' : "encode(notes_enc, 'hex')";
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM interactions WHERE notes_enc IS NOT NULL AND ext_id = '${rep.id}'`), '1');
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM interactions WHERE ${asHex} LIKE '%${hex}%'`), '0', 'no clear text at rest');
});

test('filing is for reps on their own doctors: not aligned → 403, unknown doctor → 404, other roles → 403', async () => {
  const before = await srv.sql('SELECT COUNT(*) FROM interactions');
  let e = assertError(await file(tok.r1, visit('D3')), 403, 'forbidden');
  assert.match(e.message, /D3 is not aligned to you/);
  assertError(await file(tok.r3, visit('D1')), 403, 'forbidden');
  assertError(await file(tok.r2, visit('D2')), 403, 'forbidden', 'an inside rep, D2 aligned to nobody');
  e = assertError(await file(tok.r1, visit('D404')), 404, 'not_found');
  assert.match(e.message, /D404/);
  for (const name of ['an', 'co', 'mkt']) assertError(await file(tok[name], visit('D1')), 403, 'forbidden', name);
  assert.equal(await srv.sql('SELECT COUNT(*) FROM interactions'), before, 'nothing filed');
  // a manager files for the team's doctors
  const m = await fileOk(tok.mgr, visit('D4', { channel: 'phone', outcome: 'successful' }));
  assert.deepEqual([m.rep, m.author], ['M1', login.mgr]);
  // a rep who cannot see the report cannot read it
  assertError(await get(tok.r3, m.id), 403, 'forbidden');
  assertError(await get(tok.r1, 'IR-000000000000'), 404, 'not_found');
  assertError(await srv.api('GET', '/api/v1/hcps/D1/interactions', { token: tok.r3 }), 403, 'forbidden', "another rep's doctor's reports");
});

test('bad bodies → 400 naming the field, and nothing is filed', async () => {
  const before = await srv.sql('SELECT COUNT(*) FROM interactions');
  const events = await srv.sql("SELECT COUNT(*) FROM events WHERE source = 'report'");
  const cases = [
    [{ channel: 'fax' }, 'channel', /a report is of a visit, phone, wechat, wecom, meeting_online, meeting_offline or email/],
    [{ channel: 'sms', outcome: 'sent' }, 'channel', /a report is of a visit/],
    [{ channel: 'phone', outcome: 'read' }, 'outcome', /outcome 'read' is not on the phone ladder/],
    [{ outcome: 'attended' }, 'outcome', /not on the visit ladder/],
    [{ at: '2099-01-01T10:00:00+08:00' }, 'at', /future/],
    [{ at: '2024-03-05T10:00:00' }, 'at', /zone/],
    [{ at: '1999-12-31T10:00:00Z' }, 'at', /before 2000/],
    [{ products: 'GLU' }, 'products', /list/],
    [{ products: ['GLU;CARDIO'] }, 'products', /products\[0\]/],
    [{ products: [42] }, 'products', /products\[0\]/],
    [{ key_messages: Array.from({ length: 21 }, (_, i) => `m${i}`) }, 'key_messages', /at most 20/],
    [{ colour: 'red' }, 'colour', /unknown field 'colour'/],
    [{ hcp: undefined }, 'hcp', /required/],
    [{ at: undefined }, 'at', /required/],
    [{ duration_min: 2000 }, 'duration_min', /./],
    [{ duration_min: '20' }, 'duration_min', /./],
    [{ feedback: 'x'.repeat(4001) }, 'feedback', /./],
    [{ id: 'has space' }, 'id', /A-Z a-z 0-9/],
    [{ follow_up: { at: '2020-01-01T10:00:00Z' } }, 'follow_up.at', /future/],
    [{ follow_up: { at: '2030-01-01T10:00:00Z', channel: 'sms' } }, 'follow_up.channel', /./],
    [{ follow_up: { at: '2030-01-01T10:00:00Z', when: 'soon' } }, 'follow_up.when', /./],
    [{ follow_up: 'tomorrow' }, 'follow_up', /./],
    [{ reason: 'not an amendment' }, null, null],
  ];
  for (const [over, field, message] of cases) {
    const body = visit('D1', over);
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete body[k];
    const r = await file(tok.r1, body);
    const what = JSON.stringify(over).slice(0, 80);
    if (field === null) { // a reason on a new report is simply recorded: no error to name
      assert.equal(r.status, 201, `${what}: ${r.text}`);
      continue;
    }
    const e = assertError(r, 400, 'bad_request', what);
    assert.equal(e.detail.field, field, `${what}: ${r.text}`);
    assert.match(e.message, message, what);
  }
  assertError(await srv.api('POST', '/api/v1/interactions', { token: tok.r1, body: '{"hcp":"D1",' }), 400, 'bad_request', 'malformed');
  assertError(await srv.api('POST', '/api/v1/interactions', { token: tok.r1, body: '[]' }), 400, 'bad_request', 'not an object');
  assert.equal(Number(await srv.sql('SELECT COUNT(*) FROM interactions')), Number(before) + 1, 'only the one good body was filed');
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM events WHERE source = 'report'")), Number(events) + 1);
});

test('amend: the author or an admin only, a reason required; the original is kept and the report shows its versions', async () => {
  const orig = await fileOk(tok.r1, visit('D5', { follow_up: { at: '2030-01-02T10:00:00+08:00' } }));
  let e = assertError(await amend(tok.r2, orig.id, { reason: '我来改', outcome: 'planned' }), 403, 'forbidden', 'an aligned rep who is not the author');
  assert.match(e.message, /only the report's author \(or an admin\)/);
  assertError(await amend(tok.r3, orig.id, { reason: 'x', outcome: 'planned' }), 403, 'forbidden', 'a rep not aligned');
  assertError(await amend(tok.an, orig.id, { reason: 'x', outcome: 'planned' }), 403, 'forbidden', 'an analyst');
  e = assertError(await amend(tok.r1, orig.id, { outcome: 'planned' }), 400, 'bad_request', 'no reason');
  assert.equal(e.detail.field, 'reason');
  e = assertError(await amend(tok.r1, orig.id, { reason: 'x', hcp: 'D1' }), 400, 'bad_request', 'another doctor');
  assert.equal(e.detail.field, 'hcp');
  e = assertError(await amend(tok.r1, orig.id, { reason: 'x', outcome: 'effective' }), 400, 'bad_request', 'off the ladder');
  assert.equal(e.detail.field, 'outcome');
  assert.match(e.message, /not on the visit ladder/);
  e = assertError(await amend(tok.r1, orig.id, { reason: 'x', channel: 'phone' }), 400, 'bad_request', "the old outcome is not on the new channel's ladder");
  assert.equal(e.detail.field, 'outcome');
  assertError(await amend(tok.r1, 'IR-000000000000', { reason: 'x' }), 404, 'not_found');

  // the author corrects the outcome and duration: the rest carries over, notes included
  let r = await amend(tok.r1, orig.id, { reason: '拜访改期，实际未完成', outcome: 'planned', duration_min: 5 });
  assert.equal(r.status, 201, r.text);
  const v2 = r.json;
  assert.notEqual(v2.id, orig.id);
  assert.deepEqual([v2.amends, v2.reason, v2.author, v2.amended], [orig.id, '拜访改期，实际未完成', login.r1, true]);
  assert.deepEqual([v2.hcp, v2.rep, v2.channel, v2.outcome, v2.at, v2.duration_min], ['D5', 'R1', 'visit', 'planned', AT_UTC, 5]);
  assert.deepEqual([v2.products, v2.key_messages, v2.follow_up], [orig.products, orig.key_messages, orig.follow_up], 'carried over');
  assert.deepEqual([v2.feedback, v2.questions, v2.next_steps], [orig.feedback, orig.questions, orig.next_steps], 'notes carried over');
  assert.equal(v2.event, null, 'an amendment puts no second event in the log');

  // an admin amends with new notes
  r = await amend(admin, v2.id, { reason: 'compliance: wording', feedback: '已更正', products: ['GLU', 'CARDIO'] });
  assert.equal(r.status, 201, r.text);
  const v3 = r.json;
  assert.deepEqual([v3.author, v3.amends, v3.feedback, v3.products, v3.outcome, v3.duration_min], ['admin', v2.id, '已更正', ['GLU', 'CARDIO'], 'planned', 5]);
  assert.deepEqual([v3.questions, v3.next_steps], [orig.questions, orig.next_steps], 'the notes it left out carry over, one by one');

  // the admin's correction does not take the report over: its author may still amend it, others still not
  assertError(await amend(tok.r2, v3.id, { reason: 'x', outcome: 'completed' }), 403, 'forbidden', 'still not another rep');
  r = await amend(tok.r1, v3.id, { reason: '补记时长', duration_min: 15 });
  assert.equal(r.status, 201, `the author amends after an admin did: ${r.text}`);
  const v4 = r.json;
  assert.deepEqual([v4.author, v4.amends, v4.duration_min, v4.feedback, v4.products], [login.r1, v3.id, 15, '已更正', ['GLU', 'CARDIO']]);

  // reading any version shows the whole chain: the latest values, versions oldest first
  for (const id of [orig.id, v2.id, v3.id, v4.id]) {
    r = await get(tok.r2, id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, v4.id, `GET ${id} shows the latest version`);
    assert.equal(r.json.amended, true);
    assert.deepEqual(r.json.versions.map((v) => [v.id, v.author, v.reason]),
      [[orig.id, login.r1, null], [v2.id, login.r1, '拜访改期，实际未完成'], [v3.id, 'admin', 'compliance: wording'], [v4.id, login.r1, '补记时长']]);
    assert.equal(r.json.versions[0].created_at, orig.created_at, 'the original is kept as it was filed');
  }
  const list = await srv.api('GET', '/api/v1/hcps/D5/interactions', { token: tok.r1 });
  assert.deepEqual(list.json.items.map((i) => i.id), [v4.id], 'one report, amendments folded in');
  const rows = await srv.sql(`SELECT ext_id, outcome, duration_min FROM interactions WHERE hcp_id = (SELECT id FROM hcps WHERE ext_id = 'D5') ORDER BY id`);
  assert.deepEqual(rows.split('\n'), [`${orig.id}|completed|20`, `${v2.id}|planned|5`, `${v3.id}|planned|5`, `${v4.id}|planned|15`],
    'every version stored, the original unchanged');
  const tl = await srv.api('GET', '/api/v1/hcps/D5/timeline', { token: tok.r2 });
  assert.deepEqual(tl.json.items.map((i) => [i.id, i.outcome]), [[`report:${orig.id}`, 'completed']], 'the event counted stays as filed');
});

test('amending a superseded version amends the latest one', async () => {
  const orig = await fileOk(tok.r1, visit('D4', { channel: 'phone', outcome: 'answered', feedback: '第一次' }));
  const v2 = (await amend(tok.r1, orig.id, { reason: '补充', outcome: 'successful' })).json;
  assert.equal(v2.amends, orig.id);
  const r = await amend(tok.r1, orig.id, { reason: '再次更正', outcome: 'effective' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.amends, v2.id, 'the chain grows at its head, it does not fork');
  assert.equal(r.json.outcome, 'effective');
  assert.equal(r.json.feedback, '第一次');
  assert.deepEqual(r.json.versions.map((v) => v.id), [orig.id, v2.id, r.json.id]);
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM interactions WHERE amends_id = (SELECT id FROM interactions WHERE ext_id = '${orig.id}')`), '1');
});

test('a report id given twice → 409, and the first report stands', async () => {
  const first = await fileOk(tok.r1, visit('D1', { id: 'CRM-2024-0001', outcome: 'completed' }));
  assert.equal(first.id, 'CRM-2024-0001');
  assert.equal(first.event, 'report:CRM-2024-0001');
  const e = assertError(await file(tok.r1, visit('D1', { id: 'CRM-2024-0001', outcome: 'planned' })), 409, 'conflict');
  assert.match(e.message, /CRM-2024-0001 exists already/);
  assertError(await file(tok.r2, visit('D1', { id: 'CRM-2024-0001', channel: 'phone', outcome: 'answered' })), 409, 'conflict', 'by another rep');
  assert.equal((await get(tok.r1, 'CRM-2024-0001')).json.outcome, 'completed');
  assert.equal(await srv.sql("SELECT COUNT(*) FROM interactions WHERE ext_id = 'CRM-2024-0001'"), '1');
  assert.equal(await srv.sql("SELECT COUNT(*) FROM events WHERE eid = 'report:CRM-2024-0001'"), '1');
});

test('every filing, amendment and read of a report is in the audit trail, with who and which report', async () => {
  const created = await file(tok.r1, visit('D1', { id: 'AUD-1' }));
  assert.equal(created.status, 201, created.text);
  const amended = await amend(tok.r1, 'AUD-1', { reason: 'typo', outcome: 'planned' });
  assert.equal(amended.status, 201, amended.text);
  const readCo = await get(tok.co, 'AUD-1');
  const readAn = await get(tok.an, 'AUD-1');
  const listed = await srv.api('GET', '/api/v1/hcps/D1/interactions', { token: tok.r2 });
  for (const res of [readCo, readAn, listed]) assert.equal(res.status, 200, res.text);
  const refused = await amend(tok.r2, 'AUD-1', { reason: 'x', outcome: 'completed' });
  assertError(refused, 403, 'forbidden');

  const r = await srv.api('GET', '/api/v1/audit?action=interaction.&limit=500', { token: tok.co });
  assert.equal(r.status, 200, r.text);
  const recs = r.json.items;
  assert.ok(recs.length >= 5 && recs.every((x) => x.action.startsWith('interaction.')), 'the prefix filter');
  const of = (res) => recs.filter((x) => x.request_id === res.headers['x-request-id']);
  const want = [
    [created, 'interaction.create', login.r1, 'field_rep', 'interaction', 'AUD-1', 201],
    [amended, 'interaction.amend', login.r1, 'field_rep', 'interaction', amended.json.id, 201],
    [readCo, 'interaction.read', login.co, 'compliance', 'interaction', 'AUD-1', 200],
    [readAn, 'interaction.read', login.an, 'analyst', 'interaction', 'AUD-1', 200],
    [listed, 'interaction.list', login.r2, 'inside_rep', 'hcp', 'D1', 200],
  ];
  for (const [res, action, user, role, entity, entityId, status] of want) {
    const found = of(res);
    assert.equal(found.length, 1, `${action}: one record for request ${res.headers['x-request-id']}: ${JSON.stringify(found)}`);
    const a = found[0];
    assert.deepEqual([a.action, a.user, a.role, a.entity, a.entity_id, a.status], [action, user, role, entity, entityId, status]);
  }
  assert.deepEqual(of(refused), [], 'a refused amendment writes nothing');
});

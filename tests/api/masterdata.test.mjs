// Master data through the API: HCOs, reps, territories and HCPs; search by
// name, pinyin and initials; visibility by role and alignment; the
// one-field-owner rule; identities sealed, masked and resolved; consents
// with history; the change history; CSV import with a row-level report,
// GBK input and idempotent re-import; PIPL erasure.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import iconv from './gbk.mjs';
import { startServer, assertError, createUser, uniqueLogin } from './harness.mjs';

let srv;
let admin;
const tok = {};

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

async function importCsv(entity, body, { token = admin, query = '', contentType = 'text/csv' } = {}) {
  return srv.api('POST', `/api/v1/${entity}/import${query}`, { token, body, headers: { 'Content-Type': contentType } });
}

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  let r = await importCsv('territories', csv([
    ['id', 'name', 'parent'],
    ['T-CN', '全国', ''],
    ['T-EAST', '华东', 'T-CN'],
    ['T-SH', '上海', 'T-EAST'],
    ['T-BJ', '北京', 'T-CN'],
  ]));
  assert.equal(r.status, 200, r.text);
  r = await importCsv('hcos', csv([
    ['id', 'name', 'level', 'grade', 'type', 'province', 'city', 'city_tier', 'region', 'address', 'departments', 'beds'],
    ['H1', '上海市第一人民医院', '3', '甲', 'general', '上海', '上海', '1', 'east', '虹口区武进路85号', '内分泌科;心内科', '2000'],
    ['H2', '北京协和医院', '3', '甲', 'general', '北京', '北京', '1', 'north', '东城区帅府园1号', '眼科', '1800'],
  ]));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, 2, r.text);
  // the manager comes after his reps in the file: set once the whole file is in
  r = await importCsv('reps', csv([
    ['id', 'name', 'type', 'manager', 'territory', 'user'],
    ['R1', '张伟', 'field', 'M1', 'T-SH', 'rep.zhang'],
    ['R2', '李娜', 'inside', 'M1', 'T-SH', 'rep.li'],
    ['R3', '王强', 'field', '', 'T-BJ', 'rep.wang'],
    ['M1', '陈经理', 'field', '', 'T-EAST', 'mgr.chen'],
  ]));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, r.text);
  r = await importCsv('hcps', csv([
    ['id', 'name', 'pinyin', 'gender', 'title', 'specialty', 'department', 'hco', 'license_no', 'phone', 'email', 'status'],
    ['D1', '王建国', 'wang jian guo', 'M', 'chief', 'endocrinology', '内分泌科', 'H1', '110101199001011', '13812345678', 'WJG@Example.com', 'active'],
    ['D2', '王丽', '', '女', '主治医师', 'cardiology', '心内科', 'H1', '', '+86 139 0000 1111', '', ''],
    ['D3', '刘洋', 'liu yang', 'M', 'attending', 'ophthalmology', '眼科', 'H2', '', '', '', 'active'],
  ]));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.created, r.json.failed], [3, 0], r.text);
  r = await importCsv('alignments', csv([
    ['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01', ''],
    ['D1', 'R2', 'inside_owner', 'GLU', '2024-01-01', ''],
    ['D2', 'R2', 'inside_owner', 'GLU', '2024-01-01', ''],
    ['D3', 'R3', 'field_owner', 'GLU', '2024-01-01', ''],
  ]));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, 4, r.text);
  for (const [login, role, rep] of [['rep.zhang', 'field_rep', 'R1'], ['rep.li', 'inside_rep', 'R2'],
    ['rep.wang', 'field_rep', 'R3'], ['mgr.chen', 'manager', 'M1'], ['an', 'analyst', null], ['co', 'compliance', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(login.replace('.', '')), role, rep_id: rep || undefined });
    tok[login] = await srv.token(u.login);
  }
});
after(async () => { await srv?.stop(); });

const ids = (res) => res.json.items.map((x) => x.id).sort();

test('the HCP carries its fields, normalised: E.164 phone, lower-case email, canonical title and gender', async () => {
  const d2 = await srv.api('GET', '/api/v1/hcps/D2', { token: admin });
  assert.equal(d2.status, 200, d2.text);
  assert.equal(d2.json.title, 'attending');
  assert.equal(d2.json.gender, 'F');
  assert.equal(d2.json.hco, 'H1');
  assert.equal(d2.json.hco_name, '上海市第一人民医院');
  assert.equal(d2.json.pinyin, 'wang li', 'pinyin transliterated from the name when not given');
  assert.equal(d2.json.phone, '+8613900001111', 'admin sees it in the clear');
  assert.equal(d2.json.masked, false);
  const d1 = await srv.api('GET', '/api/v1/hcps/D1', { token: admin });
  assert.equal(d1.json.email, 'wjg@example.com');
  assert.equal(d1.json.license_no, '110101199001011');
  const kinds = d1.json.identities.map((i) => i.kind).sort();
  assert.deepEqual(kinds, ['email', 'license_no', 'phone']);
});

test('personal data is sealed at rest: no clear phone in the database', async () => {
  const rows = await srv.sql("SELECT masked FROM hcp_identities WHERE kind = 'phone' ORDER BY id");
  assert.match(rows, /138\*\*\*\*5678/);
  const dump = await srv.sql("SELECT COUNT(*) FROM hcp_identities WHERE masked LIKE '%13812345678%'");
  assert.equal(dump, '0');
});

test('search finds doctors by name prefix, pinyin prefix and initials; lists are masked', async () => {
  let r = await srv.api('GET', '/api/v1/hcps?q=' + encodeURIComponent('王'), { token: admin });
  assert.deepEqual(ids(r), ['D1', 'D2']);
  r = await srv.api('GET', '/api/v1/hcps?q=wangj', { token: admin });
  assert.deepEqual(ids(r), ['D1']);
  r = await srv.api('GET', '/api/v1/hcps?q=wjg', { token: admin });
  assert.deepEqual(ids(r), ['D1']);
  r = await srv.api('GET', '/api/v1/hcps?q=LIU', { token: admin });
  assert.deepEqual(ids(r), ['D3']);
  const d1 = r.json.items[0];
  assert.equal(d1.phone, null);
  r = await srv.api('GET', '/api/v1/hcps?q=wang', { token: admin });
  assert.equal(r.json.items.find((x) => x.id === 'D1').phone, '138****5678', 'lists show phones masked');
  r = await srv.api('GET', '/api/v1/hcps?city_tier=1&specialty=ophthalmology', { token: admin });
  assert.deepEqual(ids(r), ['D3']);
  r = await srv.api('GET', '/api/v1/hcps?territory=T-EAST', { token: admin });
  assert.deepEqual(ids(r), ['D1', 'D2'], 'territory covers the territories below it');
});

test('cursor paging walks every HCP once', async () => {
  const seen = [];
  let cursor = 0;
  for (let i = 0; i < 5; i++) {
    const r = await srv.api('GET', `/api/v1/hcps?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
    assert.equal(r.status, 200, r.text);
    seen.push(...r.json.items.map((x) => x.id));
    cursor = r.json.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen.sort(), ['D1', 'D2', 'D3']);
});

test('visibility follows alignments: reps see theirs, the manager his team, analysts all masked', async () => {
  assert.deepEqual(ids(await srv.api('GET', '/api/v1/hcps', { token: tok['rep.zhang'] })), ['D1']);
  assert.deepEqual(ids(await srv.api('GET', '/api/v1/hcps', { token: tok['rep.li'] })), ['D1', 'D2']);
  assert.deepEqual(ids(await srv.api('GET', '/api/v1/hcps', { token: tok['rep.wang'] })), ['D3']);
  assert.deepEqual(ids(await srv.api('GET', '/api/v1/hcps', { token: tok['mgr.chen'] })), ['D1', 'D2']);
  assert.deepEqual(ids(await srv.api('GET', '/api/v1/hcps', { token: tok.an })), ['D1', 'D2', 'D3']);
  const own = await srv.api('GET', '/api/v1/hcps/D1', { token: tok['rep.zhang'] });
  assert.equal(own.status, 200);
  assert.equal(own.json.phone, '+8613812345678', 'the owning rep may call the doctor');
  const other = await srv.api('GET', '/api/v1/hcps/D3', { token: tok['rep.zhang'] });
  assertError(other, 403, 'forbidden');
  const an = await srv.api('GET', '/api/v1/hcps/D1', { token: tok.an });
  assert.equal(an.json.phone, '138****5678');
  assert.equal(an.json.masked, true);
  assert.ok(an.json.identities.every((i) => i.value.includes('*')), JSON.stringify(an.json.identities));
});

test('reads are audited, unmasked ones as such', async () => {
  const rows = await srv.sql("SELECT action FROM audit_log WHERE entity = 'hcp' AND entity_id = 'D1' ORDER BY seq");
  assert.match(rows, /hcp\.read\.unmasked/);
  assert.match(rows, /hcp\.read\n|hcp\.read$/m);
});

test('a rep changes their aligned HCP, not others (403); the change history says who, what, from, to', async () => {
  let r = await srv.api('PATCH', '/api/v1/hcps/D1', { token: tok['rep.zhang'], body: { department: '内分泌代谢科', title: 'assoc_chief' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.title, 'assoc_chief');
  r = await srv.api('PATCH', '/api/v1/hcps/D3', { token: tok['rep.zhang'], body: { department: 'x' } });
  assertError(r, 403, 'forbidden');
  r = await srv.api('PATCH', '/api/v1/hcps/D1', { token: tok.an, body: { department: 'x' } });
  assertError(r, 403, 'forbidden');
  r = await srv.api('GET', '/api/v1/hcps/D1/changes', { token: admin });
  const title = r.json.items.find((c) => c.field === 'title');
  assert.deepEqual([title.old, title.new, title.source], ['chief', 'assoc_chief', 'api']);
  assert.ok(title.by.startsWith('repzhang'), title.by);
  r = await srv.api('PATCH', '/api/v1/hcps/D1', { token: admin, body: { phone: '13800000000' } });
  assert.equal(r.status, 200, r.text);
  r = await srv.api('GET', '/api/v1/hcps/D1/changes', { token: admin });
  const phone = r.json.items.find((c) => c.field === 'phone');
  assert.deepEqual([phone.old, phone.new], ['138****5678', '138****0000'], 'history keeps phones masked');
});

test('bad input: a clear 400 naming the field', async () => {
  let r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D9', name: '赵六', phone: '12345' } });
  assertError(r, 400, 'bad_request');
  assert.equal(r.json.error.detail.field, 'phone');
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D9', name: '赵六', title: 'professor' } });
  assert.equal(r.json.error.detail.field, 'title');
  assert.match(r.json.error.message, /resident, attending, assoc_chief, chief/);
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D9', name: '赵六', hco: 'H404' } });
  assert.equal(r.json.error.detail.field, 'hco');
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D9', name: '赵六', colour: 'red' } });
  assert.equal(r.json.error.detail.field, 'colour');
  r = await srv.api('POST', '/api/v1/hcos', { token: admin, body: { id: 'H9', name: 'x', level: 4 } });
  assert.equal(r.json.error.detail.field, 'level');
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D1', name: '重复' } });
  assertError(r, 409, 'conflict');
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D9', name: '赵六', phone: '13812345678x' } });
  assertError(r, 400, 'bad_request');
  r = await srv.api('POST', '/api/v1/hcps', { token: tok['rep.zhang'], body: { id: 'D9', name: '赵六' } });
  assertError(r, 403, 'forbidden');
});

test('one field owner per HCP and product: a second is a 409 naming the first', async () => {
  let r = await srv.api('POST', '/api/v1/alignments', { token: admin, body: { hcp: 'D1', rep: 'R3', role: 'field_owner', product: 'GLU' } });
  assertError(r, 409, 'alignment_conflict');
  assert.match(r.json.error.message, /R1/);
  r = await srv.api('POST', '/api/v1/alignments', { token: admin, body: { hcp: 'D1', rep: 'R3', role: 'field_owner', product: 'CARDIO' } });
  assert.equal(r.status, 201, r.text);
  r = await srv.api('POST', '/api/v1/alignments', { token: tok['mgr.chen'], body: { hcp: 'D3', rep: 'R3', role: 'msl', product: '' } });
  assertError(r, 403, 'forbidden');
  r = await srv.api('GET', '/api/v1/alignments?hcp=D1', { token: admin });
  assert.equal(r.json.items.length, 3);
});

test('identities: one HCP per identity (409), resolution by identity, removal', async () => {
  let r = await srv.api('POST', '/api/v1/hcps/D1/identities', { token: admin, body: { kind: 'wechat_unionid', value: 'oUNION_abc123', verified: true, source: 'wechat_oa' } });
  assert.equal(r.status, 201, r.text);
  r = await srv.api('POST', '/api/v1/hcps/D2/identities', { token: admin, body: { kind: 'wechat_unionid', value: 'oUNION_abc123' } });
  assertError(r, 409, 'identity_taken');
  assert.match(r.json.error.message, /D1/);
  r = await srv.api('POST', '/api/v1/hcps/D2/identities', { token: admin, body: { kind: 'phone', value: '+8613812345678' } });
  assert.equal(r.status, 201, 'D1 changed phone above, so the old number is free');
  r = await srv.api('GET', '/api/v1/identities/resolve?kind=wechat_unionid&value=oUNION_abc123', { token: admin });
  assert.equal(r.json.hcp, 'D1');
  r = await srv.api('GET', '/api/v1/identities/resolve?kind=phone&value=' + encodeURIComponent('138-1234-5678'), { token: admin });
  assert.equal(r.json.hcp, 'D2', 'the phone is normalised before lookup');
  r = await srv.api('GET', '/api/v1/identities/resolve?kind=phone&value=13812345678', { token: tok['rep.wang'] });
  assertError(r, 404, 'not_found', 'D2 is not aligned to R3: a rep cannot find out who holds a number');
  r = await srv.api('GET', '/api/v1/hcps/D1/identities', { token: admin });
  const wx = r.json.items.find((i) => i.kind === 'wechat_unionid');
  assert.equal(wx.value, 'oUNION_abc123');
  r = await srv.api('DELETE', `/api/v1/hcps/D1/identities/${wx.id}`, { token: admin });
  assert.equal(r.status, 204, r.text);
  r = await srv.api('GET', '/api/v1/identities/resolve?kind=wechat_unionid&value=oUNION_abc123', { token: admin });
  assertError(r, 404, 'not_found');
});

test('consents: newest wins, history kept, re-sending the same consent is idempotent', async () => {
  const base = { hcp: 'D1', channel: 'wechat', purpose: 'promotional', source: 'web_form', evidence: 'FORM-1', version: 'v1' };
  let r = await srv.api('POST', '/api/v1/consents', { token: tok['rep.zhang'], body: { ...base, status: 'opt_in', captured_at: '2024-02-01T10:00:00+08:00' } });
  assert.equal(r.status, 201, r.text);
  r = await srv.api('POST', '/api/v1/consents', { token: tok['rep.zhang'], body: { ...base, status: 'opt_in', captured_at: '2024-02-01T10:00:00+08:00' } });
  assert.equal(r.status, 200, 'the same consent again is not a second one');
  r = await srv.api('POST', '/api/v1/consents', { token: tok['rep.zhang'], body: { ...base, status: 'opt_out', captured_at: '2024-05-01T10:00:00+08:00', evidence: 'WECOM-MSG-9' } });
  assert.equal(r.status, 201, r.text);
  r = await srv.api('GET', '/api/v1/hcps/D1/consents', { token: admin });
  const wx = r.json.items.filter((c) => c.channel === 'wechat');
  assert.equal(wx.length, 1);
  assert.equal(wx[0].status, 'opt_out');
  r = await srv.api('GET', '/api/v1/hcps/D1/consents?history=true', { token: admin });
  assert.equal(r.json.items.filter((c) => c.channel === 'wechat').length, 2);
  r = await srv.api('POST', '/api/v1/consents', { token: tok['rep.zhang'], body: { ...base, status: 'maybe' } });
  assert.equal(r.json.error.detail.field, 'status');
  r = await srv.api('POST', '/api/v1/consents', { token: tok['rep.zhang'], body: { ...base, hcp: 'D3', status: 'opt_in' } });
  assertError(r, 403, 'forbidden');
});

test('import: a row-level report with line, column and reason; good rows kept; re-import changes nothing', async () => {
  const file = csv([
    ['id', 'name', 'title', 'hco', 'phone', 'email', 'specialty'],
    ['D10', '孙悟空', 'chief', 'H1', '13711112222', '', 'endocrinology'],
    ['D11', '猪八戒', 'boss', 'H1', '', '', ''],
    ['D12', '沙和尚', 'resident', 'H404', '', '', ''],
    ['D10', '重复', 'chief', 'H1', '', '', ''],
    ['D13', '"唐, 三藏"', 'attending', 'H2', '', 'tang@example.com', ''],
    ['D14', '白龙马', 'resident', 'H2', '123', '', ''],
    ['D15', '太多', 'resident', 'H2', '', '', '', 'extra'],
  ]) + 'D16,"多行\n名字",resident,H2,,,\r\n';
  let r = await importCsv('hcps', file);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, 3, r.text);
  assert.equal(r.json.failed, 5, r.text);
  const byLine = Object.fromEntries(r.json.errors.map((e) => [e.line, e]));
  assert.equal(byLine[3].field, 'title');
  assert.equal(byLine[3].column, 3);
  assert.equal(byLine[4].field, 'hco');
  assert.match(byLine[5].message, /duplicate id 'D10'.*line 2/);
  assert.equal(byLine[7].field, 'phone');
  assert.match(byLine[8].message, /8 fields; the header has 7/);
  const d13 = await srv.api('GET', '/api/v1/hcps/D13', { token: admin });
  assert.equal(d13.json.name, '唐, 三藏');
  const d16 = await srv.api('GET', '/api/v1/hcps/D16', { token: admin });
  assert.equal(d16.json.name, '多行\n名字');
  r = await importCsv('hcps', file);
  assert.equal(r.json.created, 0);
  assert.equal(r.json.updated, 0);
  assert.equal(r.json.unchanged, 3, 'importing the same file again changes nothing');
});

test('import: GBK (as Chinese Excel saves it) is detected, or declared; a UTF-8 BOM is skipped', async () => {
  const text = 'id,name,title,hco\r\nD20,欧阳修,chief,H1\r\nD21,诸葛亮,resident,H2\r\n';
  let r = await importCsv('hcps', iconv.encode(text));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, 2, r.text);
  assert.equal((await srv.api('GET', '/api/v1/hcps/D20', { token: admin })).json.name, '欧阳修');
  r = await importCsv('hcps', iconv.encode(text.replace(/D2(\d)/g, 'D3$1')), { query: '?encoding=gbk' });
  assert.equal(r.json.created, 2, r.text);
  r = await importCsv('hcps', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\r\nD40,韩愈\r\n')]));
  assert.equal(r.json.created, 1, r.text);
  r = await importCsv('hcps', Buffer.concat([Buffer.from('id,name\r\nD41,'), iconv.encode('韩愈'), Buffer.from('\r\n')]), { query: '?encoding=utf-8' });
  assert.equal(r.json.failed, 1);
  assert.match(r.json.errors[0].message, /UTF-8/);
});

test('import: an empty file, a wrong header, a non-admin, a JSON body are refused clearly', async () => {
  let r = await importCsv('hcps', '');
  assertError(r, 400, 'bad_request');
  assert.match(r.json.error.message, /empty/);
  r = await importCsv('alignments', 'hcp,rep,colour\r\nD1,R1,red\r\n');
  assertError(r, 400, 'bad_request');
  assert.match(r.json.error.message, /colour/);
  r = await importCsv('hcps', 'id,name\r\nD50,x\r\n', { token: tok['mgr.chen'] });
  assertError(r, 403, 'forbidden');
  r = await importCsv('hcps', 'id,name\r\nD50,x\r\n', { contentType: 'application/json' });
  assertError(r, 415, 'unsupported_media_type');
});

test('PIPL erasure removes personal data, keeps the anonymous facts, and is audited', async () => {
  let r = await srv.api('DELETE', '/api/v1/hcps/D2?erase=true', { token: tok['rep.li'] });
  assertError(r, 403, 'forbidden');
  r = await srv.api('DELETE', '/api/v1/hcps/D2?erase=true', { token: tok.co });
  assert.equal(r.status, 204, r.text);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM hcp_identities i JOIN hcps h ON h.id = i.hcp_id WHERE h.ext_id = 'D2'"), '0');
  assert.equal(await srv.sql("SELECT name || '|' || specialty || '|' || COALESCE(pinyin, '') FROM hcps WHERE ext_id = 'D2'"), '[erased]|cardiology|');
  r = await srv.api('GET', '/api/v1/hcps/D2', { token: admin });
  assertError(r, 404, 'not_found');
  r = await srv.api('GET', '/api/v1/hcps?q=wangl', { token: admin });
  assert.deepEqual(ids(r), []);
  assert.equal(await srv.sql("SELECT action FROM audit_log WHERE action = 'hcp.erase'"), 'hcp.erase');
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D2', name: '王丽' } });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /erased/);
});

test('soft delete hides a record; importing it again restores it', async () => {
  let r = await srv.api('DELETE', '/api/v1/hcps/D3', { token: admin });
  assert.equal(r.status, 204, r.text);
  r = await srv.api('GET', '/api/v1/hcps/D3', { token: admin });
  assertError(r, 404, 'not_found');
  r = await importCsv('hcps', 'id,name\r\nD3,刘洋\r\n');
  assert.equal(r.json.updated, 1, r.text);
  r = await srv.api('GET', '/api/v1/hcps/D3/changes', { token: admin });
  assert.deepEqual(r.json.items.slice(0, 2).map((c) => c.new), ['restored', 'deleted']);
});

test('export: CSV in the import columns (re-importing it changes nothing), XLSX, masked unless an admin asks', async () => {
  let r = await srv.api('GET', '/api/v1/hcos/export', { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /text\/csv/);
  const lines = r.text.replace(/^\ufeff/, '').trim().split(/\r?\n/);
  assert.equal(lines[0], 'id,name,level,grade,type,province,city,city_tier,region,address,departments,beds');
  assert.ok(lines.some((l) => l.startsWith('H1,上海市第一人民医院,3,甲,general') && l.endsWith(',2000')), lines.join('\n'));
  const again = await importCsv('hcos', r.text);
  assert.deepEqual([again.json.created, again.json.updated, again.json.failed], [0, 0, 0], again.text);
  r = await srv.api('GET', '/api/v1/hcps/export?q=wang', { token: tok.an });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /138\*\*\*\*0000/, 'an analyst gets masked phones');
  r = await srv.api('GET', '/api/v1/hcps/export?unmask=true', { token: tok['mgr.chen'] });
  assertError(r, 403, 'forbidden');
  r = await srv.api('GET', '/api/v1/hcps/export?unmask=true&q=wang', { token: admin });
  assert.match(r.text, /\+8613800000000/);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'hcp.export.unmasked'"), '1');
  r = await srv.api('GET', '/api/v1/hcps/export', { token: tok['rep.zhang'] });
  assert.deepEqual(r.text.replace(/^\ufeff/, '').trim().split(/\r?\n/).slice(1).map((l) => l.split(',')[0]), ['D1'], 'a rep exports only their HCPs');
  r = await srv.api('GET', '/api/v1/reps/export?format=xlsx', { token: admin });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /spreadsheetml/);
  assert.ok(r.text.startsWith('PK'), 'an XLSX file is a zip');
  r = await srv.api('GET', '/api/v1/reps/export?format=pdf', { token: admin });
  assertError(r, 400, 'bad_request');
});

test('further affiliations: set, update, list on the profile, remove; unknown hospital refused', async () => {
  let r = await srv.api('PUT', '/api/v1/hcps/D1/affiliations/H2', { token: tok['rep.zhang'], body: { department: '内分泌科', role: 'expert_clinic' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.changed, true);
  r = await srv.api('PUT', '/api/v1/hcps/D1/affiliations/H2', { token: tok['rep.zhang'], body: { department: '内分泌科', role: 'expert_clinic' } });
  assert.equal(r.json.changed, false, 'the same affiliation again changes nothing');
  r = await srv.api('GET', '/api/v1/hcps/D1', { token: admin });
  assert.deepEqual(r.json.affiliations, [{ hco: 'H2', hco_name: '北京协和医院', department: '内分泌科', role: 'expert_clinic' }]);
  // the hospital filter finds a doctor by a further affiliation as well as by the primary one
  r = await srv.api('GET', '/api/v1/hcps?hco=H2', { token: admin });
  assert.ok(r.json.items.some((h) => h.id === 'D1'), JSON.stringify(r.json.items.map((h) => h.id)));
  r = await srv.api('PUT', '/api/v1/hcps/D1/affiliations/H404', { token: admin, body: {} });
  assert.equal(r.json.error.detail.field, 'hco');
  r = await srv.api('PUT', '/api/v1/hcps/D3/affiliations/H1', { token: tok['rep.zhang'], body: {} });
  assertError(r, 403, 'forbidden');
  r = await srv.api('DELETE', '/api/v1/hcps/D1/affiliations/H2', { token: admin });
  assert.equal(r.status, 204, r.text);
  r = await srv.api('GET', '/api/v1/hcps?hco=H2', { token: admin });
  assert.ok(!r.json.items.some((h) => h.id === 'D1'), 'no longer there once the affiliation is removed');
  r = await srv.api('DELETE', '/api/v1/hcps/D1/affiliations/H2', { token: admin });
  assertError(r, 404, 'not_found');
});

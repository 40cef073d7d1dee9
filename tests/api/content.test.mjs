// The content library's master data through the API and the CLI: content
// items (id, title, topic, product, status, expires_at) created, read,
// changed and soft-deleted with their change history; filters by topic,
// product and status, a title search and cursor paging; who may write
// (admin, marketing) and who may only read (every other role); CSV import
// with its row-level report (missing title, bad status, bad date, an id
// twice in the file, a wrong column count, a GBK file), export in the
// import's columns, `medreach import content` and `medreach export content`;
// audited writes and unaudited reads; and the demo's catalogue, which every
// content id of the demo history names.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import iconv from './gbk.mjs';
import { startServer, assertError, createUser, uniqueLogin } from './harness.mjs';

let srv;
let admin;
const tok = {};

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const ids = (res) => res.json.items.map((x) => x.id).sort();
const DEMO_TOPICS = ['patient_data', 'guidelines', 'clinical_trial', 'product_info', 'case_study', 'dosing', 'safety', 'conference'];
const DEMO_PRODUCTS = ['GLU-XR', 'CARDIO-PLUS', 'OPTIVIS', 'RESPIRA'];

async function importCsv(body, { token = admin, query = '' } = {}) {
  return srv.api('POST', `/api/v1/content/import${query}`, { token, body, headers: { 'Content-Type': 'text/csv' } });
}

async function create(body, token = admin) {
  const r = await srv.api('POST', '/api/v1/content', { token, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** Lines of a CSV answer, without the BOM. */
const csvLines = (text) => text.replace(/^\ufeff/, '').trim().split(/\r?\n/);

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  for (const role of ['marketing', 'field_rep', 'analyst', 'manager']) {
    const u = await createUser(srv, { login: uniqueLogin(role.replace('_', '')), role });
    tok[role] = await srv.token(u.login);
    tok[`${role}_login`] = u.login;
  }
});
after(async () => { await srv?.stop(); });

test('create and read: defaults to draft; expires_at taken as a date and given back as RFC 3339', async () => {
  const item = await create({ id: 'K-001', title: '达格列净指南解读', topic: 'guidelines', product: 'GLU-XR', expires_at: '2027-03-31' });
  assert.equal(item.id, 'K-001');
  assert.equal(item.status, 'draft', 'status defaults to draft');
  assert.equal(item.expires_at, '2027-03-30T16:00:00Z', 'a date is midnight in Asia/Shanghai, shown in UTC');
  assert.deepEqual(item.attrs, {});
  assert.match(item.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const r = await srv.api('GET', '/api/v1/content/K-001', { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, item);
  const t = await create({ id: 'K-002', title: 'Safety update', topic: 'safety', status: 'in_review', expires_at: '2027-06-30T18:30:00+08:00', attrs: { channel: 'wechat' } });
  assert.equal(t.expires_at, '2027-06-30T10:30:00Z');
  assert.equal(t.product, null);
  assert.deepEqual(t.attrs, { channel: 'wechat' });
  assertError(await srv.api('GET', '/api/v1/content/K-404', { token: admin }), 404, 'not_found');
});

test('patch changes fields (null clears, a cleared status is draft again); the history says who, what, from, to', async () => {
  let r = await srv.api('PATCH', '/api/v1/content/K-001', { token: tok.marketing, body: { status: 'approved', expires_at: '2028-01-01T00:00:00Z' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'approved');
  assert.equal(r.json.expires_at, '2028-01-01T00:00:00Z');
  r = await srv.api('PATCH', '/api/v1/content/K-002', { token: admin, body: { topic: null, status: null, expires_at: null } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.topic, r.json.status, r.json.expires_at], [null, 'draft', null]);
  r = await srv.api('PATCH', '/api/v1/content/K-001', { token: admin, body: { status: 'approved' } });
  assert.equal(r.status, 200, 'the same value again is no change');
  r = await srv.api('GET', '/api/v1/content/K-001/changes', { token: tok.field_rep });
  assert.equal(r.status, 200, r.text);
  const byField = Object.fromEntries(r.json.items.map((c) => [c.field, c]));
  assert.deepEqual([byField.status.old, byField.status.new, byField.status.by, byField.status.source],
    ['draft', 'approved', tok.marketing_login, 'api']);
  assert.deepEqual([byField.expires_at.old, byField.expires_at.new], ['2027-03-30T16:00:00Z', '2028-01-01T00:00:00Z'],
    'times in the history are RFC 3339');
  assert.equal(byField['*'].new, 'created');
  assert.equal(r.json.items.length, 3, 'created, status, expires_at: the repeated status left no row');
  assertError(await srv.api('PATCH', '/api/v1/content/K-404', { token: admin, body: { title: 'x' } }), 404, 'not_found');
});

test('bad input is a 400 naming the field', async () => {
  const bad = async (body, field, message) => {
    const r = await srv.api('POST', '/api/v1/content', { token: admin, body });
    const e = assertError(r, 400, 'bad_request', JSON.stringify(body));
    assert.equal(e.detail.field, field, r.text);
    if (message) assert.match(e.message, message);
  };
  await bad({ id: 'K-9', topic: 'safety' }, 'title', /title is required/);
  await bad({ id: 'K-9', title: '' }, 'title', /title is required/);
  await bad({ id: 'K-9', title: '长'.repeat(201) }, 'title', /longer than 200/);
  await bad({ id: 'K-9', title: 'x', status: 'published' }, 'status', /draft, in_review, approved, expired, withdrawn/);
  await bad({ id: 'K-9', title: 'x', expires_at: '31/03/2027' }, 'expires_at', /^expires_at: expected an ISO 8601 date such as 2027-03-31$/);
  await bad({ id: 'K-9', title: 'x', expires_at: '2027-02-30' }, 'expires_at');
  await bad({ id: 'K-9', title: 'x', expires_at: 20270331 }, 'expires_at');
  await bad({ id: 'K-9', title: 'x', colour: 'red' }, 'colour');
  await bad({ title: 'x' }, 'id');
  assertError(await srv.api('POST', '/api/v1/content', { token: admin, body: { id: 'K-001', title: 'again' } }), 409, 'conflict');
  const r = await srv.api('PATCH', '/api/v1/content/K-001', { token: admin, body: { id: 'K-777' } });
  assert.equal(assertError(r, 400, 'bad_request').detail.field, 'id');
});

test('every role reads; only admin and marketing write (403 for the others)', async () => {
  for (const role of ['field_rep', 'analyst', 'manager']) {
    let r = await srv.api('GET', '/api/v1/content', { token: tok[role] });
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assert.ok(ids(r).includes('K-001'), role);
    r = await srv.api('GET', '/api/v1/content/K-001', { token: tok[role] });
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    r = await srv.api('GET', '/api/v1/content/export', { token: tok[role] });
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assertError(await srv.api('POST', '/api/v1/content', { token: tok[role], body: { id: 'K-X', title: 'x' } }), 403, 'forbidden', role);
    assertError(await srv.api('PATCH', '/api/v1/content/K-001', { token: tok[role], body: { title: 'x' } }), 403, 'forbidden', role);
    assertError(await srv.api('DELETE', '/api/v1/content/K-001', { token: tok[role] }), 403, 'forbidden', role);
    assertError(await importCsv('id,title\r\nK-X,x\r\n', { token: tok[role] }), 403, 'forbidden', role);
  }
  const m = await create({ id: 'K-M1', title: '市场部草稿' }, tok.marketing);
  assert.equal(m.status, 'draft');
  const r = await importCsv('id,title\r\nK-M2,市场部导入\r\n', { token: tok.marketing });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, 1, r.text);
  assert.equal((await srv.api('GET', '/api/v1/content/K-M1')).status, 401, 'no anonymous reads');
});

test('filters by topic, product and status, a title search, and cursor paging', async () => {
  const r = await importCsv(csv([
    ['id', 'title', 'topic', 'product', 'status', 'expires_at'],
    ['F-01', '心血管指南速览', 'guidelines', 'CARDIO-PLUS', 'approved', '2027-12-31'],
    ['F-02', '心衰病例分享', 'case_study', 'CARDIO-PLUS', 'approved', ''],
    ['F-03', '眼科用药安全', 'safety', 'OPTIVIS', 'withdrawn', ''],
    ['F-04', 'Inhaler technique', 'dosing', 'RESPIRA', 'expired', '2024-01-01'],
    ['F-05', 'inhaled steroids: guidelines', 'guidelines', 'RESPIRA', '已批准', ''],
  ]));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.created, r.json.failed], [5, 0], r.text);
  const get = (qs) => srv.api('GET', `/api/v1/content?${qs}`, { token: tok.analyst });
  assert.deepEqual(ids(await get('topic=guidelines')), ['F-01', 'F-05', 'K-001']);
  assert.deepEqual(ids(await get('product=CARDIO-PLUS')), ['F-01', 'F-02']);
  assert.deepEqual(ids(await get('status=approved')), ['F-01', 'F-02', 'F-05', 'K-001'], 'the alias 已批准 was stored as approved');
  assert.deepEqual(ids(await get('status=approved&topic=guidelines&product=RESPIRA')), ['F-05']);
  assert.deepEqual(ids(await get(`q=${encodeURIComponent('心')}`)), ['F-01', 'F-02']);
  assert.deepEqual(ids(await get(`q=${encodeURIComponent('心衰')}`)), ['F-02']);
  assert.deepEqual(ids(await get('q=INHAL')), ['F-04', 'F-05'], 'the title prefix, case folded');
  assert.deepEqual(ids(await get('q=technique')), [], 'a prefix of the title, not a word inside it');
  assert.deepEqual(ids(await get('q=inhal&status=expired')), ['F-04']);
  assert.deepEqual(ids(await get('status=published')), [], 'a status no item has');
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await get(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.json.items.length <= 2);
    seen.push(...page.json.items.map((x) => x.id));
    cursor = page.json.next_cursor;
    if (!cursor) break;
  }
  const all = ids(await get('limit=500'));
  assert.deepEqual([...seen].sort(), all, 'paging walks every item once');
  assert.equal(new Set(seen).size, seen.length);
});

test('soft delete hides an item (marketing may delete); importing it again restores it', async () => {
  let r = await srv.api('DELETE', '/api/v1/content/F-03', { token: tok.marketing });
  assert.equal(r.status, 204, r.text);
  assertError(await srv.api('GET', '/api/v1/content/F-03', { token: admin }), 404, 'not_found');
  assertError(await srv.api('DELETE', '/api/v1/content/F-03', { token: admin }), 404, 'not_found');
  r = await srv.api('GET', '/api/v1/content?product=OPTIVIS', { token: admin });
  assert.deepEqual(ids(r), []);
  r = await srv.api('GET', '/api/v1/content?product=OPTIVIS&include_deleted=true', { token: admin });
  assert.deepEqual(ids(r), ['F-03']);
  assert.ok(r.json.items[0].deleted_at, 'an admin may list deleted items, with when');
  r = await importCsv('id,title\r\nF-03,眼科用药安全\r\n');
  assert.equal(r.json.updated, 1, r.text);
  r = await srv.api('GET', '/api/v1/content/F-03/changes', { token: admin });
  assert.deepEqual(r.json.items.slice(0, 2).map((c) => c.new), ['restored', 'deleted']);
});

test('import: a row-level report (missing title, bad status, bad date, an id twice, a wrong column count); good rows kept; again changes nothing', async () => {
  const file = csv([
    ['id', 'title', 'topic', 'product', 'status', 'expires_at', 'format'],
    ['I-01', '糖尿病患者教育手册', 'patient_data', 'GLU-XR', 'approved', '2027-03-31', 'pdf'],
    ['I-02', '', 'safety', 'GLU-XR', 'draft', '', 'pdf'],
    ['I-03', '用药指导', 'dosing', 'GLU-XR', 'published', '', 'video'],
    ['I-04', '会议速递', 'conference', '', 'approved', 'next year', 'h5'],
    ['I-01', '重复的编号', 'safety', '', 'draft', '', ''],
    ['I-05', '列太多', 'safety', '', 'draft', '', '', 'extra'],
    ['I-06', '"指南, 更新"', 'guidelines', 'GLU-XR', 'in_review', '2027-01-01T09:00:00+08:00', ''],
  ]);
  let r = await importCsv(file);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.entity, 'content');
  assert.deepEqual([r.json.rows, r.json.created, r.json.failed, r.json.errors_total], [7, 2, 5, 5], r.text);
  const byLine = Object.fromEntries(r.json.errors.map((e) => [e.line, e]));
  assert.deepEqual([byLine[3].field, byLine[3].column], ['title', 2]);
  assert.match(byLine[3].message, /title is required/);
  assert.deepEqual([byLine[4].field, byLine[4].column], ['status', 5]);
  assert.match(byLine[4].message, /status 'published' is not one of: draft, in_review, approved, expired, withdrawn/);
  assert.deepEqual([byLine[5].field, byLine[5].column], ['expires_at', 6]);
  assert.equal(byLine[5].message, 'expires_at: expected an ISO 8601 date such as 2027-03-31');
  assert.equal(byLine[6].field, 'id');
  assert.match(byLine[6].message, /duplicate id 'I-01' in this file \(first on line 2\)/);
  assert.match(byLine[7].message, /8 fields; the header has 7/);
  const i1 = (await srv.api('GET', '/api/v1/content/I-01', { token: admin })).json;
  assert.deepEqual([i1.title, i1.topic, i1.product, i1.status, i1.expires_at], ['糖尿病患者教育手册', 'patient_data', 'GLU-XR', 'approved', '2027-03-30T16:00:00Z']);
  assert.deepEqual(i1.attrs, { format: 'pdf' }, 'another column is a custom attribute');
  const i6 = (await srv.api('GET', '/api/v1/content/I-06', { token: admin })).json;
  assert.deepEqual([i6.title, i6.expires_at], ['指南, 更新', '2027-01-01T01:00:00Z']);
  assertError(await srv.api('GET', '/api/v1/content/I-02', { token: admin }), 404, 'not_found');
  r = await importCsv(file);
  assert.deepEqual([r.json.created, r.json.updated, r.json.unchanged, r.json.failed], [0, 0, 2, 5], 'importing the same file again changes nothing');
  r = await importCsv('title,topic\r\nx,y\r\n');
  assertError(r, 400, 'bad_request');
  assert.match(r.json.error.message, /no 'id' column/);
});

test('import: a GBK file (as Chinese Excel saves it) is detected, or declared', async () => {
  const text = 'id,title,topic,product,status\r\nG-01,胰岛素起始治疗要点,dosing,GLU-XR,审核中\r\nG-02,肺功能检查解读,guidelines,RESPIRA,草稿\r\n';
  let r = await importCsv(iconv.encode(text));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.created, r.json.failed], [2, 0], r.text);
  let g = (await srv.api('GET', '/api/v1/content/G-01', { token: admin })).json;
  assert.deepEqual([g.title, g.status], ['胰岛素起始治疗要点', 'in_review']);
  r = await importCsv(iconv.encode(text.replace(/G-0/g, 'G-1')), { query: '?encoding=gb18030' });
  assert.equal(r.json.created, 2, r.text);
  g = (await srv.api('GET', '/api/v1/content/G-12', { token: admin })).json;
  assert.deepEqual([g.title, g.status], ['肺功能检查解读', 'draft']);
});

test('export: CSV in the import columns (times as RFC 3339; importing it back changes nothing) and XLSX', async () => {
  let r = await srv.api('GET', '/api/v1/content/export?topic=patient_data', { token: tok.field_rep });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /text\/csv/);
  const lines = csvLines(r.text);
  assert.equal(lines[0], 'id,title,topic,product,status,expires_at,format');
  assert.ok(lines.includes('I-01,糖尿病患者教育手册,patient_data,GLU-XR,approved,2027-03-30T16:00:00Z,pdf'), lines.join('\n'));
  r = await srv.api('GET', '/api/v1/content/export', { token: admin });
  const again = await importCsv(r.text);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual([again.json.created, again.json.updated, again.json.failed], [0, 0, 0], again.text);
  assert.equal(again.json.unchanged, csvLines(r.text).length - 1);
  r = await srv.api('GET', '/api/v1/content/export?format=xlsx&status=approved', { token: tok.marketing });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /spreadsheetml/);
  assert.ok(r.text.startsWith('PK'), 'an XLSX file is a zip');
});

test('CLI: medreach import content FILE.csv prints the row-level report (GBK detected); export content writes the import columns', async () => {
  const good = path.join(srv.dir, 'content-good.csv');
  writeFileSync(good, iconv.encode('id,title,topic,product,status,expires_at\r\nL-01,基层糖尿病管理路径,guidelines,GLU-XR,approved,2027-09-30\r\n'));
  let r = await srv.cli(['import', 'content', good]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /content: 1 rows: 1 created, 0 updated, 0 unchanged, 0 failed/);
  const l1 = (await srv.api('GET', '/api/v1/content/L-01', { token: admin })).json;
  assert.deepEqual([l1.title, l1.expires_at], ['基层糖尿病管理路径', '2027-09-29T16:00:00Z']);

  const bad = path.join(srv.dir, 'content-bad.csv');
  writeFileSync(bad, 'id,title,status,expires_at\r\nL-02,,draft,\r\nL-03,ok,bogus,\r\nL-04,ok,draft,2027-13-01\r\nL-05,ok,draft,\r\n');
  r = await srv.cli(['import', 'content', bad]);
  assert.equal(r.code, 1, 'a reported row makes the exit status 1');
  assert.match(r.stdout, /content: 4 rows: 1 created, 0 updated, 0 unchanged, 3 failed/);
  assert.match(r.stderr, /line 2, column 2 \(title\): title is required/);
  assert.match(r.stderr, /line 3, column 3 \(status\): status 'bogus' is not one of/);
  assert.match(r.stderr, /line 4, column 4 \(expires_at\): expires_at: expected an ISO 8601 date such as 2027-03-31/);

  const out = path.join(srv.dir, 'content-out.csv');
  r = await srv.cli(['export', 'content', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = csvLines(readFileSync(out, 'utf8'));
  assert.match(lines[0], /^id,title,topic,product,status,expires_at/);
  assert.ok(lines.some((l) => l.startsWith('L-01,基层糖尿病管理路径,guidelines,GLU-XR,approved,2027-09-29T16:00:00Z')), lines.join('\n'));
  r = await srv.cli(['import', 'contents', good]);
  assert.equal(r.code, 2, 'an unknown entity is a usage error');
});

test('writes are audited; reads of content are not (it is not personal data)', async () => {
  const rows = await srv.sql("SELECT action FROM audit_log WHERE entity = 'content' ORDER BY seq");
  const actions = new Set(rows.split('\n'));
  for (const a of ['content.create', 'content.update', 'content.delete', 'content.import']) assert.ok(actions.has(a), `${a} in ${[...actions]}`);
  assert.ok(![...actions].some((a) => /read|list|export/.test(a)), [...actions].join(','));
});

test('the demo creates the catalogue its history names: every content id of an event is an approved item with its topic and product', async () => {
  const dir = path.join(srv.dir, 'demo');
  let r = await srv.cli(['demo', '--csv', dir, '--hcps', '300', '--seed', '5', '--history-days', '90'], { db: false });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const rows = csvLines(readFileSync(path.join(dir, 'content.csv'), 'utf8')).map((l) => l.split(','));
  assert.deepEqual(rows[0], ['id', 'title', 'topic', 'product', 'status', 'expires_at']);
  const catalogue = new Map(rows.slice(1).map((c) => [c[0], c]));
  assert.ok(catalogue.size >= 40, `${catalogue.size} items`);
  const events = readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const named = new Set(events.filter((e) => e.content).map((e) => e.content));
  assert.ok(named.size > 10, `${named.size} content ids in the events`);
  for (const id of named) assert.ok(catalogue.has(id), `${id} of an event is in content.csv`);

  r = await srv.cli(['demo', '--hcps', '300', '--seed', '5', '--history-days', '30']);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`^content\\s+${catalogue.size} rows\\s+${catalogue.size} created\\s+0 failed`, 'm'));
  const list = await srv.api('GET', '/api/v1/content?limit=500&status=approved', { token: tok.field_rep });
  const demo = new Map(list.json.items.filter((x) => /^C\d{5}$/.test(x.id)).map((x) => [x.id, x]));
  assert.equal(demo.size, catalogue.size, 'every item of the catalogue is in the database, approved');
  const now = Date.now();
  for (const [id, c] of catalogue) {
    const item = demo.get(id);
    assert.deepEqual([item.title, item.topic, item.product ?? ''], [c[1], c[2], c[3]], id);
    assert.ok(DEMO_TOPICS.includes(item.topic), item.topic);
    assert.ok(item.product === null || DEMO_PRODUCTS.includes(item.product), item.product);
    const left = Date.parse(item.expires_at) - now;
    assert.ok(left > 360 * 86400e3 && left < 732 * 86400e3, `${id} expires ${item.expires_at}`);
  }
  const stored = await srv.sql("SELECT COUNT(*) FROM (SELECT DISTINCT content FROM events WHERE content LIKE 'C%') e"
    + " WHERE NOT EXISTS (SELECT 1 FROM content c WHERE c.ext_id = e.content AND c.status = 'approved')");
  assert.equal(stored, '0', 'every content id of a stored event is an approved item');
});

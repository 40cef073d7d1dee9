// Identity resolution through the API: a manual merge with lineage and
// survivorship, the refusals (into itself, into a merged record), unmerge
// restoring every row exactly, and the probabilistic run over a demo world
// with its review queue (accept merges, reject needs a reason and is final).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError } from './harness.mjs';

let srv;
let admin;

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const importCsv = (entity, body) => srv.api('POST', `/api/v1/${entity}/import`,
  { token: admin, body, headers: { 'Content-Type': 'text/csv' } });

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  for (const [entity, rows] of [
    ['hcos', [['id', 'name', 'city_tier'], ['H1', '华山医院', '1'], ['H2', '瑞金医院', '1']]],
    ['reps', [['id', 'name', 'type'], ['R1', '张伟', 'field'], ['R2', '李娜', 'inside'], ['R3', '王强', 'field']]],
    ['hcps', [['id', 'name', 'title', 'specialty', 'hco', 'phone', 'license_no'],
      ['D1', '周杰', 'chief', '', 'H1', '13812345678', '110101199001011'],
      ['MTG-1', '周洁', 'attending', 'cardiology', 'H1', '', ''],
      ['D3', '吴敏', 'resident', 'neurology', 'H2', '', '']]],
    ['identities', [['hcp', 'kind', 'value', 'app', 'verified', 'source'],
      ['MTG-1', 'meeting_user_id', 'tm-778899', 'tencent_meeting', '1', 'meeting']]],
    ['alignments', [['hcp', 'rep', 'role', 'product', 'valid_from'],
      ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01'],
      ['MTG-1', 'R3', 'field_owner', 'GLU', '2024-01-01'],
      ['MTG-1', 'R2', 'inside_owner', 'GLU', '2024-01-01']]],
    ['consents', [['hcp', 'channel', 'purpose', 'status', 'captured_at', 'source', 'evidence', 'version'],
      ['D1', 'phone', 'promotional', 'opt_in', '2024-01-05', 'paper', 'F-1', 'v1'],
      ['MTG-1', 'meeting', 'meeting_invite', 'opt_in', '2024-02-05', 'meeting', 'TM-1', 'v1']]],
  ]) {
    const r = await importCsv(entity, csv(rows));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.failed, 0, `${entity}: ${r.text}`);
  }
});
after(async () => { await srv?.stop(); });

/** Every stored row of the two records, as the database has them. */
async function rowsOf(...ext) {
  const list = ext.map((e) => `'${e}'`).join(',');
  const ids = `(SELECT id FROM hcps WHERE ext_id IN (${list}))`;
  return [
    await srv.sql(`SELECT ext_id, name, pinyin, pinyin_key, initials, title, specialty, hco_id, status, merged_into, updated_at, deleted_at FROM hcps WHERE id IN ${ids} ORDER BY id`),
    await srv.sql(`SELECT id, hcp_id, kind, app, is_primary, verified, masked FROM hcp_identities WHERE hcp_id IN ${ids} ORDER BY id`),
    await srv.sql(`SELECT id, hcp_id, rep_id, role, product, valid_from, valid_to, deleted_at FROM alignments WHERE hcp_id IN ${ids} ORDER BY id`),
    await srv.sql(`SELECT id, hcp_id, channel, purpose, status, captured_at FROM consents WHERE hcp_id IN ${ids} ORDER BY id`),
  ];
}

test('a merge moves identities, alignments and consents, fills empty fields, keeps lineage; unmerge restores every row exactly', async () => {
  const before = await rowsOf('D1', 'MTG-1');
  let r = await srv.api('POST', '/api/v1/hcps/MTG-1/merge', { token: admin, body: { into: 'D1', reason: '同一医生，会议平台重复注册' } });
  assert.equal(r.status, 200, r.text);
  const mergeId = r.json.merge;

  const d1 = (await srv.api('GET', '/api/v1/hcps/D1', { token: admin })).json;
  assert.equal(d1.specialty, 'cardiology', 'an empty field is filled from the merged record');
  assert.equal(d1.title, 'chief', 'the survivor keeps its own value by default');
  assert.ok(d1.identities.some((i) => i.kind === 'meeting_user_id' && i.value === 'tm-778899'));
  const roles = d1.alignments.map((a) => `${a.role}:${a.rep}`).sort();
  assert.deepEqual(roles, ['field_owner:R1', 'inside_owner:R2'], 'the second field owner is ended, not moved: one owner still');
  assert.deepEqual(d1.consents.map((c) => c.channel).sort(), ['meeting', 'phone']);
  const gone = (await srv.api('GET', '/api/v1/hcps?q=zhou', { token: admin })).json.items.map((x) => x.id);
  assert.deepEqual(gone, ['D1'], 'a merged record leaves lists and searches');
  const merged = (await srv.api('GET', '/api/v1/hcps/MTG-1', { token: admin })).json;
  assert.equal(merged.merged_into, 'D1');
  r = await srv.api('GET', '/api/v1/merges?hcp=D1', { token: admin });
  const m = r.json.items[0];
  assert.deepEqual([m.survivor, m.merged, m.rule], ['D1', 'MTG-1', 'manual']);
  assert.deepEqual(m.lineage.source_records, ['D1', 'MTG-1']);
  assert.equal(m.lineage.fields_taken.specialty, 'MTG-1');
  assert.equal(m.lineage.reason, '同一医生，会议平台重复注册');
  const resolved = await srv.api('GET', '/api/v1/identities/resolve?kind=meeting_user_id&value=tm-778899&app=tencent_meeting', { token: admin });
  assert.equal(resolved.json.hcp, 'D1', 'events carrying the old identity now reach the survivor');

  r = await srv.api('POST', `/api/v1/merges/${mergeId}/undo`, { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.kept, []);
  assert.deepEqual(await rowsOf('D1', 'MTG-1'), before, 'every row is back as it was');
  r = await srv.api('POST', `/api/v1/merges/${mergeId}/undo`, { token: admin });
  assertError(r, 409, 'conflict');
  const hist = (await srv.api('GET', '/api/v1/hcps/D1/changes', { token: admin })).json.items.map((c) => c.field);
  assert.ok(hist.includes('merge') && hist.includes('unmerge'), hist.join());
  assert.equal(await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action IN ('hcp.merge', 'hcp.unmerge')"), '2');
});

test('a change made after the merge survives the unmerge, and is reported', async () => {
  let r = await srv.api('POST', '/api/v1/hcps/MTG-1/merge', { token: admin, body: { into: 'D1', survivorship: { title: 'merged' } } });
  assert.equal(r.status, 200, r.text);
  const mergeId = r.json.merge;
  assert.equal((await srv.api('GET', '/api/v1/hcps/D1', { token: admin })).json.title, 'attending', 'survivorship: merged wins for title');
  r = await srv.api('PATCH', '/api/v1/hcps/D1', { token: admin, body: { specialty: 'endocrinology' } });
  assert.equal(r.status, 200, r.text);
  r = await srv.api('POST', `/api/v1/merges/${mergeId}/undo`, { token: admin });
  assert.deepEqual(r.json.kept, ['specialty']);
  const d1 = (await srv.api('GET', '/api/v1/hcps/D1', { token: admin })).json;
  assert.equal(d1.specialty, 'endocrinology');
  assert.equal(d1.title, 'chief');
});

test('deterministic first: a new record with a known licence number joins that doctor at once', async () => {
  let r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'WX-9', name: '周杰', phone: '13900009999', license_no: '110101 199001 011' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.merged_into, 'D1');
  r = await srv.api('GET', '/api/v1/merges?hcp=WX-9', { token: admin });
  assert.equal(r.json.items[0].rule, 'deterministic:license_no');
  r = await srv.api('GET', '/api/v1/identities/resolve?kind=phone&value=13900009999', { token: admin });
  assert.equal(r.json.hcp, 'D1', "the new record's other phone now reaches D1 too");
  r = await srv.api('POST', `/api/v1/merges/${(await srv.api('GET', '/api/v1/merges?hcp=WX-9', { token: admin })).json.items[0].id}/undo`, { token: admin });
  assert.equal(r.status, 200, r.text);
  r = await srv.api('POST', '/api/v1/hcps', { token: admin, body: { id: 'D1', name: 'again' } });
  assertError(r, 409, 'conflict');
});

test('bad merges are refused: into itself (422), into a merged record (409), unknown (404), a rep (403), a bad rule (400)', async () => {
  let r = await srv.api('POST', '/api/v1/hcps/D1/merge', { token: admin, body: { into: 'D1' } });
  assertError(r, 422, 'unprocessable');
  r = await srv.api('POST', '/api/v1/hcps/MTG-1/merge', { token: admin, body: { into: 'D3' } });
  assert.equal(r.status, 200, r.text);
  r = await srv.api('POST', '/api/v1/hcps/D1/merge', { token: admin, body: { into: 'MTG-1' } });
  assertError(r, 409, 'conflict');
  assert.match(r.json.error.message, /merged into D3/);
  r = await srv.api('POST', '/api/v1/hcps/MTG-1/merge', { token: admin, body: { into: 'D1' } });
  assertError(r, 409, 'conflict');
  r = await srv.api('POST', '/api/v1/hcps/D1/merge', { token: admin, body: { into: 'D404' } });
  assertError(r, 404, 'not_found');
  r = await srv.api('POST', '/api/v1/hcps/D1/merge', { token: admin, body: { into: 'D3', survivorship: { title: 'loudest' } } });
  assertError(r, 400, 'bad_request');
  const undo = (await srv.api('GET', '/api/v1/merges?hcp=MTG-1', { token: admin })).json.items[0];
  r = await srv.api('POST', `/api/v1/merges/${undo.id}/undo`, { token: admin });
  assert.equal(r.status, 200, r.text);
});

test('the probabilistic run over a demo world merges planted duplicates and queues the doubtful; the queue is worked side by side', async () => {
  const demo = await srv.cli(['demo', '--hcps', '3000', '--seed', '7']);
  assert.equal(demo.code, 0, demo.stderr);
  let r = await srv.api('POST', '/api/v1/identity/run', { token: admin });
  assert.equal(r.status, 200, r.text);
  const planted = Number(await srv.sql("SELECT COUNT(*) FROM hcps WHERE ext_id LIKE 'MTG-0%' OR ext_id LIKE 'WX-0%'"));
  assert.ok(r.json.merged >= planted * 0.85, `merged ${r.json.merged} of ${planted} planted duplicates`);
  const wrong = await srv.sql(`SELECT COUNT(*) FROM hcp_merges m JOIN hcps x ON x.id = m.merged_id
    WHERE m.rule = 'fellegi_sunter' AND x.ext_id NOT LIKE 'MTG-%' AND x.ext_id NOT LIKE 'WX-%'`);
  assert.equal(wrong, '0', 'no real doctor was merged away');
  assert.ok(r.json.model.fields.length === 7 && r.json.model.fields[0].m.length > 2, 'm/u per field are reported');

  r = await srv.api('GET', '/api/v1/identity/reviews', { token: admin });
  assert.equal(r.status, 200, r.text);
  const items = r.json.items;
  assert.ok(items.length >= 2, `review queue: ${items.length}`);
  assert.ok(items[0].a.name && items[0].b.name && items[0].detail.length === 7, JSON.stringify(items[0]).slice(0, 300));
  r = await srv.api('POST', `/api/v1/identity/reviews/${items[0].id}`, { token: admin, body: { decision: 'reject' } });
  assertError(r, 400, 'bad_request');
  r = await srv.api('POST', `/api/v1/identity/reviews/${items[0].id}`, { token: admin, body: { decision: 'reject', reason: '不同科室的两位医生' } });
  assert.equal(r.json.status, 'rejected');
  r = await srv.api('POST', `/api/v1/identity/reviews/${items[1].id}`, { token: admin, body: { decision: 'accept' } });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.merge > 0);
  r = await srv.api('POST', `/api/v1/identity/reviews/${items[1].id}`, { token: admin, body: { decision: 'accept' } });
  assertError(r, 409, 'conflict');

  const rejected = items[0];
  r = await srv.api('POST', '/api/v1/identity/run', { token: admin });
  assert.equal(r.status, 200, r.text);
  const pair = await srv.sql(`SELECT COUNT(*) FROM hcps WHERE ext_id IN ('${rejected.a.id}', '${rejected.b.id}') AND merged_into IS NULL`);
  assert.equal(pair, '2', 'a rejected pair is never merged by a later run');
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM match_reviews WHERE status = 'pending' AND a_id IN
    (SELECT a_id FROM match_reviews WHERE status <> 'pending') AND b_id IN (SELECT b_id FROM match_reviews WHERE status <> 'pending')`), '0',
  'a decided pair is not proposed again');
});

test('stewardship is for admins', async () => {
  const t = await srv.token(srv.adminLogin);
  assert.ok(t);
  const u = await srv.api('POST', '/api/v1/users', { token: admin, body: { login: 'ana1', name: 'A', role: 'analyst', password: 'correct horse battery' } });
  assert.equal(u.status, 201, u.text);
  const tok = await srv.token('ana1');
  assertError(await srv.api('POST', '/api/v1/identity/run', { token: tok }), 403, 'forbidden');
  assertError(await srv.api('GET', '/api/v1/identity/reviews', { token: tok }), 403, 'forbidden');
  assertError(await srv.api('POST', '/api/v1/hcps/D1/merge', { token: tok, body: { into: 'D3' } }), 403, 'forbidden');
});

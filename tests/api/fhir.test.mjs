// FHIR R4 in and out: Practitioner and Organization reads; a Bundle export
// paged within the caller's scope (reps see their aligned doctors, masked
// roles get no telecom or licence); the import of a Bundle into a second,
// fresh server giving the same export back; a re-import changing nothing;
// and the per-entry outcomes of bad entries (wrong resource type, bad
// gender) while the good entries of the same Bundle are stored.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, uniqueLogin } from './harness.mjs';

const SD = 'https://medreach.dev/fhir/StructureDefinition/';
const FHIR_JSON = { 'Content-Type': 'application/fhir+json' };

let srv;
let admin;
const tok = {};
const others = []; // servers started by a test, stopped at the end

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

async function importCsv(s, entity, rows) {
  const r = await s.api('POST', `/api/v1/${entity}/import`, {
    token: s.adminToken, body: csv(rows), headers: { 'Content-Type': 'text/csv' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, r.text);
  return r;
}

async function consent(body) {
  const r = await srv.api('POST', '/api/v1/consents', { token: admin, body });
  assert.equal(r.status, 201, r.text);
}

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv(srv, 'territories', [['id', 'name'], ['T-SH', '上海']]);
  await importCsv(srv, 'hcos', [
    ['id', 'name', 'level', 'grade', 'type', 'province', 'city', 'city_tier', 'region', 'address', 'departments'],
    ['H1', '上海市第一人民医院', '3', '甲', 'general', '上海', '上海', '1', 'east', '虹口区武进路85号', '内分泌科;心内科'],
    ['H2', '社区卫生服务中心', '1', '', 'community', '', '苏州', '2', '', '', ''],
  ]);
  await importCsv(srv, 'reps', [
    ['id', 'name', 'type', 'territory', 'user'],
    ['R1', '张伟', 'field', 'T-SH', 'rep.zhang'],
    ['R3', '王强', 'field', 'T-SH', 'rep.wang'],
  ]);
  await importCsv(srv, 'hcps', [
    ['id', 'name', 'pinyin', 'gender', 'title', 'specialty', 'department', 'hco', 'license_no', 'phone', 'email', 'status'],
    ['D1', '王建国', 'wang jian guo', 'M', 'chief', 'endocrinology', '内分泌科', 'H1', '110101199001011', '13812345678', 'WJG@Example.com', 'active'],
    ['D2', '王丽', '', '女', '主治医师', 'cardiology', '心内科', 'H1', '', '+86 139 0000 1111', '', ''],
    ['D3', '刘洋', 'liu yang', '', '', '', '', 'H2', '', '', '', 'inactive'],
    ['D4', '陈静', '', 'F', '', '', '', '', '', '', '', ''],
  ]);
  await importCsv(srv, 'alignments', [
    ['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ['D1', 'R1', 'field_owner', 'GLU', '2024-01-01', ''],
    ['D3', 'R3', 'field_owner', 'GLU', '2024-01-01', ''],
  ]);
  await consent({ hcp: 'D1', channel: 'wechat', purpose: 'promotional', status: 'opt_in', captured_at: '2024-03-01T10:00:00+08:00', source: 'wecom', evidence: 'msg-1', version: 'v1' });
  await consent({ hcp: 'D1', channel: 'wechat', purpose: 'promotional', status: 'opt_out', captured_at: '2024-06-01T10:00:00+08:00', source: 'wecom', evidence: 'msg-2', version: 'v2' });
  await consent({ hcp: 'D1', channel: 'email', purpose: 'medical_info', status: 'opt_in', captured_at: '2024-04-02T09:30:00.250+08:00', source: 'web_form', evidence: 'F-77', version: 'v1' });
  await consent({ hcp: 'D3', channel: 'phone', purpose: 'survey', status: 'opt_in', captured_at: '2024-05-05' });
  for (const [login, role, rep] of [['rep.zhang', 'field_rep', 'R1'], ['an', 'analyst', null], ['co', 'compliance', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(login.replace('.', '')), role, rep_id: rep || undefined });
    tok[login] = await srv.token(u.login);
  }
});
after(async () => {
  for (const s of others) await s.stop();
  await srv?.stop();
});

/** GET a Bundle and every page after it (following the next links); its entries. */
async function exportAll(s, token, query = '') {
  let url = `/api/v1/fhir/Bundle${query}`;
  const entries = [];
  for (let pages = 0; url; pages++) {
    assert.ok(pages < 100, 'the next links end');
    const r = await s.api('GET', url, { token });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^application\/fhir\+json/);
    assert.equal(r.json.resourceType, 'Bundle');
    assert.equal(r.json.type, 'collection');
    entries.push(...r.json.entry);
    url = (r.json.link || []).find((l) => l.relation === 'next')?.url;
  }
  return entries;
}

/** v without any meta (lastUpdated differs from server to server). */
function stripMeta(v) {
  if (Array.isArray(v)) return v.map(stripMeta);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'meta').map(([k, x]) => [k, stripMeta(x)]));
  }
  return v;
}

const ofType = (entries, t) => entries.map((e) => e.resource).filter((r) => r.resourceType === t);
const ext = (res, name) => (res.extension || []).filter((x) => x.url === SD + name);

async function postBundle(s, bundle, token = s.adminToken) {
  return s.api('POST', '/api/v1/fhir', { token, body: bundle, headers: FHIR_JSON });
}

test('a Practitioner as admin sees it: identifiers, names, telecom, gender', async () => {
  const r = await srv.api('GET', '/api/v1/fhir/Practitioner/D1', { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^application\/fhir\+json/);
  const p = r.json;
  assert.equal(p.resourceType, 'Practitioner');
  assert.equal(p.id, 'D1');
  assert.deepEqual(p.identifier, [
    { system: 'https://medreach.dev/fhir/sid/hcp', value: 'D1' },
    { system: 'https://medreach.dev/fhir/sid/cn-physician-license', value: '110101199001011' },
  ]);
  assert.deepEqual(p.name, [{ use: 'official', text: '王建国' }, { use: 'usual', text: 'wang jian guo' }]);
  assert.deepEqual(p.telecom, [{ system: 'phone', value: '+8613812345678' }, { system: 'email', value: 'wjg@example.com' }]);
  assert.equal(p.gender, 'male');
  assert.equal(p.active, true);
  assert.match(p.meta.lastUpdated, /^\d{4}-\d\d-\d\dT/);
  const d3 = await srv.api('GET', '/api/v1/fhir/Practitioner/D3', { token: admin });
  assert.equal(d3.json.gender, 'unknown');
  assert.equal(d3.json.active, false);
  assertError(await srv.api('GET', '/api/v1/fhir/Practitioner/NOPE', { token: admin }), 404, 'not_found');
});

test('an Organization carries type, address and the extensions of level, grade, tier, region, departments', async () => {
  const r = await srv.api('GET', '/api/v1/fhir/Organization/H1', { token: tok['rep.zhang'] });
  assert.equal(r.status, 200, r.text);
  const o = r.json;
  assert.equal(o.resourceType, 'Organization');
  assert.deepEqual(o.identifier, [{ system: 'https://medreach.dev/fhir/sid/hco', value: 'H1' }]);
  assert.equal(o.name, '上海市第一人民医院');
  assert.equal(o.active, true);
  assert.deepEqual(o.type, [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/hco-type', code: 'general' }] }]);
  assert.deepEqual(o.address, [{ text: '虹口区武进路85号', city: '上海', state: '上海', country: 'CN' }]);
  assert.deepEqual(ext(o, 'level'), [{ url: `${SD}level`, valueInteger: 3 }]);
  assert.deepEqual(ext(o, 'grade'), [{ url: `${SD}grade`, valueString: '甲' }]);
  assert.deepEqual(ext(o, 'city-tier'), [{ url: `${SD}city-tier`, valueInteger: 1 }]);
  assert.deepEqual(ext(o, 'region'), [{ url: `${SD}region`, valueString: 'east' }]);
  assert.deepEqual(ext(o, 'departments').map((x) => x.valueString), ['内分泌科', '心内科']);
  assertError(await srv.api('GET', '/api/v1/fhir/Organization/H9', { token: admin }), 404, 'not_found');
});

test('the Bundle holds Organizations, Practitioners, PractitionerRoles and Consents with fullUrls', async () => {
  const entries = await exportAll(srv, admin);
  for (const e of entries) {
    assert.equal(e.fullUrl, `https://medreach.dev/fhir/${e.resource.resourceType}/${e.resource.id}`);
  }
  assert.deepEqual(ofType(entries, 'Organization').map((o) => o.id), ['H1', 'H2']);
  assert.deepEqual(ofType(entries, 'Practitioner').map((p) => p.id), ['D1', 'D2', 'D3', 'D4']);
  const roles = ofType(entries, 'PractitionerRole');
  assert.deepEqual(roles.map((x) => x.id), ['D1-role', 'D2-role', 'D3-role'], 'D4 has no role to tell');
  assert.deepEqual(stripMeta(roles[0]), {
    resourceType: 'PractitionerRole',
    id: 'D1-role',
    extension: [{ url: `${SD}department`, valueString: '内分泌科' }],
    practitioner: { reference: 'Practitioner/D1' },
    organization: { reference: 'Organization/H1' },
    code: [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/title', code: 'chief', display: '主任医师' }] }],
    specialty: [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/specialty', code: 'endocrinology' }] }],
  });
  const consents = ofType(entries, 'Consent');
  assert.equal(consents.length, 4, 'the whole history');
  const wechat = consents.filter((c) => ext(c, 'consent-channel')[0].valueCode === 'wechat');
  assert.deepEqual(wechat.map((c) => [c.status, c.provision.type, c.dateTime]), [
    ['active', 'deny', '2024-06-01T02:00:00Z'],
    ['inactive', 'permit', '2024-03-01T02:00:00Z'],
  ], 'the newest per channel and purpose is in force');
  assert.deepEqual(stripMeta(wechat[0]), {
    resourceType: 'Consent',
    id: 'D1-wechat-promotional-1717207200000000',
    extension: [
      { url: `${SD}consent-channel`, valueCode: 'wechat' },
      { url: `${SD}consent-source`, valueString: 'wecom' },
      { url: `${SD}consent-evidence`, valueString: 'msg-2' },
      { url: `${SD}consent-version`, valueString: 'v2' },
    ],
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/consent-purpose', code: 'promotional' }] }],
    performer: [{ reference: 'Practitioner/D1' }],
    dateTime: '2024-06-01T02:00:00Z',
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    provision: { type: 'deny' },
  });
  const email = consents.find((c) => ext(c, 'consent-channel')[0].valueCode === 'email');
  assert.equal(email.dateTime, '2024-04-02T01:30:00.250000Z', 'fractions of a second survive');
});

test('pages of a Bundle, followed by their next links, hold the same entries as one page', async () => {
  const all = await exportAll(srv, admin);
  const first = await srv.api('GET', '/api/v1/fhir/Bundle?limit=2', { token: admin });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json.entry.map((e) => e.resource.id), ['H1', 'H2']);
  const next = first.json.link.find((l) => l.relation === 'next').url;
  assert.match(next, /^\/api\/v1\/fhir\/Bundle\?limit=2&cursor=/);
  assert.deepEqual(stripMeta(await exportAll(srv, admin, '?limit=1')), stripMeta(all));
  assert.deepEqual(stripMeta(await exportAll(srv, admin, '?limit=3')), stripMeta(all));
  const bad = await srv.api('GET', '/api/v1/fhir/Bundle?cursor=zz', { token: admin });
  assert.equal(assertError(bad, 400, 'bad_request').detail.field, 'cursor');
  const badType = await srv.api('GET', '/api/v1/fhir/Bundle?type=Patient', { token: admin });
  assert.equal(assertError(badType, 400, 'bad_request').detail.field, 'type');
});

test('filters: type, hcp and hco', async () => {
  let e = await exportAll(srv, admin, '?type=Consent&hcp=D3');
  assert.deepEqual(e.map((x) => x.resource.resourceType), ['Consent']);
  e = await exportAll(srv, admin, '?hcp=D2');
  assert.deepEqual(e.map((x) => x.resource.id), ['H1', 'D2', 'D2-role']);
  e = await exportAll(srv, admin, '?hco=H1&type=Practitioner');
  assert.deepEqual(e.map((x) => x.resource.id), ['D1', 'D2']);
  e = await exportAll(srv, admin, '?type=Organization&limit=1');
  assert.deepEqual(e.map((x) => x.resource.id), ['H1', 'H2']);
  assertError(await srv.api('GET', '/api/v1/fhir/Bundle?hcp=NOPE', { token: admin }), 404, 'not_found');
  assertError(await srv.api('GET', '/api/v1/fhir/Bundle?hco=NOPE', { token: admin }), 404, 'not_found');
});

test('a rep sees only the Practitioners aligned to them, with telecom; others are 403', async () => {
  const e = await exportAll(srv, tok['rep.zhang']);
  assert.deepEqual(ofType(e, 'Practitioner').map((p) => p.id), ['D1']);
  assert.deepEqual(ofType(e, 'Organization').map((o) => o.id), ['H1', 'H2'], 'hospitals are not personal data');
  assert.ok(ofType(e, 'Consent').every((c) => c.performer[0].reference === 'Practitioner/D1'));
  assert.equal(ofType(e, 'Practitioner')[0].telecom.length, 2, 'the owning rep may call the doctor');
  assertError(await srv.api('GET', '/api/v1/fhir/Practitioner/D3', { token: tok['rep.zhang'] }), 403, 'forbidden');
  assertError(await srv.api('GET', '/api/v1/fhir/Bundle?hcp=D3', { token: tok['rep.zhang'] }), 403, 'forbidden');
});

test("an analyst's export has no telecom and no licence; unmasked exports are audited as such", async () => {
  const e = await exportAll(srv, tok.an);
  const ps = ofType(e, 'Practitioner');
  assert.equal(ps.length, 4);
  for (const p of ps) {
    assert.equal(p.telecom, undefined, JSON.stringify(p));
    assert.deepEqual(p.identifier.map((i) => i.system), ['https://medreach.dev/fhir/sid/hcp']);
    assert.ok(!JSON.stringify(p).includes('*'), 'no masked strings either');
  }
  const one = await srv.api('GET', '/api/v1/fhir/Practitioner/D1', { token: tok.an });
  assert.equal(one.json.telecom, undefined);
  await exportAll(srv, tok.co, '?type=Practitioner&hcp=D1');
  const audit = await srv.api('GET', '/api/v1/audit?action=fhir.', { token: admin });
  assert.equal(audit.status, 200, audit.text);
  const actions = audit.json.items.map((x) => `${x.role}:${x.action}`);
  assert.ok(actions.includes('analyst:fhir.export'), actions.join());
  assert.ok(actions.includes('compliance:fhir.export.unmasked'), actions.join());
  assert.ok(!actions.includes('analyst:fhir.export.unmasked'), actions.join());
});

test('round trip: an export imported into a fresh server exports the same; a re-import changes nothing', async () => {
  const exported = await exportAll(srv, admin);
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: exported };

  const srv2 = await startServer();
  others.push(srv2);
  const r = await postBundle(srv2, bundle);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^application\/fhir\+json/);
  assert.equal(r.json.type, 'batch-response');
  assert.equal(r.json.entry.length, exported.length);
  r.json.entry.forEach((x, i) => {
    const t = exported[i].resource.resourceType;
    assert.equal(x.response.status, t === 'PractitionerRole' ? '200 OK' : '201 Created', `${i} ${t}: ${JSON.stringify(x)}`);
    assert.ok(x.response.location.startsWith(`${t}/`), JSON.stringify(x));
  });
  const again = await exportAll(srv2, srv2.adminToken);
  assert.deepEqual(stripMeta(again), stripMeta(exported));
  const d1 = await srv2.api('GET', '/api/v1/hcps/D1', { token: srv2.adminToken });
  assert.deepEqual([d1.json.hco, d1.json.title, d1.json.department, d1.json.phone, d1.json.license_no],
    ['H1', 'chief', '内分泌科', '+8613812345678', '110101199001011'], 'the PractitionerRole set the hospital and title');
  const changes = await srv2.sql("SELECT COUNT(*) FROM md_changes WHERE source = 'fhir'");
  assert.ok(Number(changes) > 0, 'the change history says where the data came from');

  const before1 = await srv.sql('SELECT COUNT(*) FROM md_changes');
  const consents1 = await srv.sql('SELECT COUNT(*) FROM consents');
  const re = await postBundle(srv, { ...bundle, type: 'batch' });
  assert.equal(re.status, 200, re.text);
  assert.ok(re.json.entry.every((x) => x.response.status === '200 OK'), JSON.stringify(re.json.entry.filter((x) => x.response.status !== '200 OK')));
  assert.equal(await srv.sql('SELECT COUNT(*) FROM md_changes'), before1, 'the change history is unchanged');
  assert.equal(await srv.sql('SELECT COUNT(*) FROM consents'), consents1);
  const audit = await srv.api('GET', '/api/v1/audit?action=fhir.import', { token: admin });
  assert.ok(audit.json.items.length >= 1, audit.text);
});

test('a resource of the wrong type is a 400 for its entry; the others are stored', async () => {
  const r = await postBundle(srv, {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: { resourceType: 'Patient', id: 'p1' }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Organization', id: 'H7', name: '第七医院' }, request: { method: 'PUT', url: 'Organization/H7' } },
      { resource: { resourceType: 'Observation', status: 'final' } },
      { request: { method: 'POST', url: 'Practitioner' } },
    ],
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'transaction-response');
  const [patient, org, obs, empty] = r.json.entry.map((x) => x.response);
  assert.equal(patient.status, '400 Bad Request');
  const issue = patient.outcome.issue[0];
  assert.equal(patient.outcome.resourceType, 'OperationOutcome');
  assert.equal(issue.severity, 'error');
  assert.deepEqual(issue.expression, ['Bundle.entry[0].resource.resourceType']);
  assert.match(issue.diagnostics, /resourceType Patient is not accepted here: Practitioner, Organization, PractitionerRole or Consent/);
  assert.deepEqual([org.status, org.location], ['201 Created', 'Organization/H7']);
  assert.equal(obs.status, '400 Bad Request');
  assert.match(obs.outcome.issue[0].diagnostics, /Observation is not accepted here/);
  assert.equal(empty.status, '400 Bad Request');
  assert.deepEqual(empty.outcome.issue[0].expression, ['Bundle.entry[3].resource']);
  const h7 = await srv.api('GET', '/api/v1/hcos/H7', { token: admin });
  assert.equal(h7.json.name, '第七医院');
});

test('a bad gender is a 400 naming Bundle.entry[i].resource.gender; the other entries are stored', async () => {
  const r = await postBundle(srv, {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { fullUrl: 'urn:uuid:0c3a1f62-5a52-4b5e-9a63-6e0d9d2f0a01', resource: { resourceType: 'Practitioner', identifier: [{ system: 'https://medreach.dev/fhir/sid/hcp', value: 'D10' }], name: [{ family: '赵', given: ['敏'] }], gender: 'female' } },
      { resource: { resourceType: 'Consent', status: 'active', category: [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/consent-purpose', code: 'survey' }] }], performer: [{ reference: 'urn:uuid:0c3a1f62-5a52-4b5e-9a63-6e0d9d2f0a01' }], dateTime: '2024-02-02', extension: [{ url: `${SD}consent-channel`, valueCode: 'sms' }], policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] }, provision: { type: 'permit' } } },
      { resource: { resourceType: 'Practitioner', id: 'D11', name: [{ text: '钱多' }], gender: 'x' } },
      { resource: { resourceType: 'PractitionerRole', practitioner: { reference: 'Practitioner/D10' }, organization: { reference: 'Organization/H2' }, code: [{ coding: [{ system: 'https://medreach.dev/fhir/CodeSystem/title', code: 'attending' }] }] } },
      { resource: { resourceType: 'Practitioner', id: 'D12', name: [{ text: '孙立' }], telecom: [{ system: 'phone', value: '12' }] } },
      { resource: { resourceType: 'Organization', id: 'H8', name: '第八医院', extension: [{ url: `${SD}level`, valueInteger: 9 }] } },
    ],
  });
  assert.equal(r.status, 200, r.text);
  const res = r.json.entry.map((x) => x.response);
  assert.deepEqual(res.map((x) => x.status), ['201 Created', '201 Created', '400 Bad Request', '200 OK', '400 Bad Request', '400 Bad Request'], JSON.stringify(res));
  assert.deepEqual(res[2].outcome.issue[0].expression, ['Bundle.entry[2].resource.gender']);
  assert.match(res[2].outcome.issue[0].diagnostics, /^Bundle\.entry\[2\]\.resource\.gender: gender 'x'/);
  assert.deepEqual(res[4].outcome.issue[0].expression, ['Bundle.entry[4].resource.telecom[0].value']);
  assert.deepEqual(res[5].outcome.issue[0].expression, ['Bundle.entry[5].resource.extension[0].valueInteger']);
  const d10 = await srv.api('GET', '/api/v1/hcps/D10', { token: admin });
  assert.deepEqual([d10.json.name, d10.json.gender, d10.json.hco, d10.json.title], ['赵敏', 'F', 'H2', 'attending']);
  assert.equal(d10.json.consents.length, 1, JSON.stringify(d10.json.consents));
  assertError(await srv.api('GET', '/api/v1/hcps/D11', { token: admin }), 404, 'not_found');
  assertError(await srv.api('GET', '/api/v1/hcos/H8', { token: admin }), 404, 'not_found');
});

test('a body that is not a Bundle is a 400 for the whole request; imports are for admins', async () => {
  let r = await postBundle(srv, { resourceType: 'Practitioner', id: 'D99' });
  assert.equal(assertError(r, 400, 'bad_request').detail.field, 'resourceType');
  r = await postBundle(srv, { resourceType: 'Bundle', type: 'searchset', entry: [] });
  assert.equal(assertError(r, 400, 'bad_request').detail.field, 'type');
  r = await postBundle(srv, '[1, 2]');
  assertError(r, 400, 'bad_request');
  r = await srv.api('POST', '/api/v1/fhir', { token: admin, body: { resourceType: 'Bundle', type: 'batch' }, headers: { 'Content-Type': 'text/plain' } });
  assertError(r, 415, 'unsupported_media_type');
  r = await srv.api('POST', '/api/v1/fhir', { token: admin, body: { resourceType: 'Bundle', type: 'batch', entry: [] } });
  assert.equal(r.status, 200, 'application/json is accepted too');
  assert.deepEqual(r.json.entry, []);
  r = await postBundle(srv, { resourceType: 'Bundle', type: 'batch', entry: [] }, tok['rep.zhang']);
  assertError(r, 403, 'forbidden');
  assertError(await srv.api('GET', '/api/v1/hcps/D99', { token: admin }), 404, 'not_found');
});

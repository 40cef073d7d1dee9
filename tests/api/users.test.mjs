// Accounts through the API (admins only) and the role checks every route
// makes: one user of each of the 8 roles, what each may and may not call,
// and the access.denied audit record a refusal leaves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, newPassword, uniqueLogin, ROLES } from './harness.mjs';

let srv;
const byRole = {}; // role → {user, token}

before(async () => {
  srv = await startServer();
  for (const role of ROLES) {
    const user = await createUser(srv, { login: uniqueLogin(role.replace('_', '')), role });
    byRole[role] = { user, token: await srv.token(user.login) };
  }
});
after(async () => { await srv?.stop(); });

const USER_KEYS = ['created_at', 'id', 'last_login_at', 'login', 'name', 'rep_id', 'role', 'status', 'updated_at'];

test('one user of each of the 8 roles was created through POST /api/v1/users', () => {
  for (const role of ROLES) {
    const u = byRole[role].user;
    assert.equal(u.role, role);
    assert.equal(u.status, 'active');
    assert.ok(Number.isInteger(u.id) && u.id > 0);
    assert.deepEqual(Object.keys(u).filter((k) => k !== 'password').sort(), USER_KEYS);
  }
});

test('every role can GET /api/v1/me and sees its own role', async () => {
  for (const role of ROLES) {
    const me = await srv.api('GET', '/api/v1/me', { token: byRole[role].token });
    assert.equal(me.status, 200, `${role}: ${me.text}`);
    assert.equal(me.json.role, role);
    assert.equal(me.json.id, byRole[role].user.id);
  }
});

test('only admins may use /api/v1/users; the 403 names the role', async () => {
  for (const role of ROLES) {
    const res = await srv.api('GET', '/api/v1/users', { token: byRole[role].token });
    if (role === 'admin') {
      assert.equal(res.status, 200, res.text);
      continue;
    }
    const e = assertError(res, 403, 'forbidden', role);
    assert.match(e.message, new RegExp(`\\b${role}\\b`), `the message names the role: ${e.message}`);
    assert.match(e.message, /admin/, 'and the role it needs');
  }
  const rep = byRole.field_rep.token;
  assertError(await srv.api('POST', '/api/v1/users', { token: rep, body: { login: 'x1', name: 'x', role: 'admin' } }), 403, 'forbidden');
  assertError(await srv.api('GET', `/api/v1/users/${byRole.field_rep.user.id}`, { token: rep }), 403, 'forbidden');
  assertError(await srv.api('PATCH', `/api/v1/users/${byRole.field_rep.user.id}`, { token: rep, body: { role: 'admin' } }), 403, 'forbidden');
  const self = await srv.api('GET', '/api/v1/me', { token: rep });
  assert.equal(self.json.role, 'field_rep', 'the refused PATCH changed nothing');
});

test('compliance and admin may read the audit trail; the other roles may not', async () => {
  for (const role of ROLES) {
    for (const p of ['/api/v1/audit', '/api/v1/audit/verify', '/api/v1/audit/summary']) {
      const res = await srv.api('GET', p, { token: byRole[role].token });
      if (role === 'admin' || role === 'compliance') {
        assert.equal(res.status, 200, `${role} ${p}: ${res.text}`);
      } else {
        const e = assertError(res, 403, 'forbidden', `${role} ${p}`);
        assert.match(e.message, new RegExp(`\\b${role}\\b`));
      }
    }
  }
  // Spelled out, as the brief says: compliance can read the audit but not users; analyst cannot read the audit.
  assert.equal((await srv.api('GET', '/api/v1/audit', { token: byRole.compliance.token })).status, 200);
  assertError(await srv.api('GET', '/api/v1/users', { token: byRole.compliance.token }), 403, 'forbidden');
  assertError(await srv.api('GET', '/api/v1/audit', { token: byRole.analyst.token }), 403, 'forbidden');
});

test('a 403 leaves an access.denied audit record naming the user and route', async () => {
  const { user, token } = byRole.marketing;
  const res = await srv.api('GET', '/api/v1/users', { token, headers: { 'X-Request-Id': 'denied-marketing-1' } });
  assertError(res, 403, 'forbidden');
  const audit = await srv.api('GET', '/api/v1/audit?action=access.denied&user=' + user.login, { token: srv.adminToken });
  assert.equal(audit.status, 200);
  const rec = audit.json.items.find((i) => i.request_id === 'denied-marketing-1');
  assert.ok(rec, audit.text);
  assert.equal(rec.user_id, user.id);
  assert.equal(rec.role, 'marketing');
  assert.equal(rec.entity, 'route');
  assert.equal(rec.entity_id, '/api/v1/users');
  assert.equal(rec.status, 403);
});

test('POST /api/v1/users: with a password → 201 and no password in the answer', async () => {
  const login = uniqueLogin('withpw');
  const pw = newPassword();
  const res = await srv.api('POST', '/api/v1/users', { token: srv.adminToken, body: { login, name: 'Dr. Smith', role: 'msl', password: pw, rep_id: 'R0042' } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), USER_KEYS);
  assert.equal(res.json.login, login);
  assert.equal(res.json.name, 'Dr. Smith');
  assert.equal(res.json.role, 'msl');
  assert.equal(res.json.rep_id, 'R0042');
  assert.equal(res.json.last_login_at, null);
  assert.ok(!res.text.includes(pw));
  const got = await srv.api('GET', `/api/v1/users/${res.json.id}`, { token: srv.adminToken });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, res.json);
});

test('POST /api/v1/users without a password → a generated one, returned once, that logs in', async () => {
  const login = uniqueLogin('gen');
  const res = await srv.api('POST', '/api/v1/users', { token: srv.adminToken, body: { login, name: 'Generated', role: 'analyst' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(typeof res.json.password, 'string');
  assert.ok(res.json.password.length >= 10, res.json.password);
  const s = await srv.login(login, res.json.password);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.json.login, login);
  const got = await srv.api('GET', `/api/v1/users/${res.json.id}`, { token: srv.adminToken });
  assert.ok(!('password' in got.json), 'never shown again');
  const list = await srv.api('GET', `/api/v1/users?q=${login}`, { token: srv.adminToken });
  assert.ok(!list.text.includes(res.json.password));
});

test('POST /api/v1/users: login is stored lower-case; a duplicate (any case) is 409 conflict on "login"', async () => {
  const login = uniqueLogin('dup');
  const first = await srv.api('POST', '/api/v1/users', { token: srv.adminToken, body: { login: login.toUpperCase(), name: 'A', role: 'msl', password: newPassword() } });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.login, login);
  for (const l of [login, login.toUpperCase()]) {
    const dup = await srv.api('POST', '/api/v1/users', { token: srv.adminToken, body: { login: l, name: 'B', role: 'msl', password: newPassword() } });
    const e = assertError(dup, 409, 'conflict');
    assert.equal(e.detail.field, 'login');
  }
});

test('POST /api/v1/users input errors name the field', async () => {
  const t = srv.adminToken;
  const post = (body) => srv.api('POST', '/api/v1/users', { token: t, body });
  const field = async (body, f, status = 400) => {
    const e = assertError(await post(body), status, status === 400 ? 'bad_request' : undefined, JSON.stringify(body).slice(0, 80));
    assert.equal(e.detail.field, f, `${JSON.stringify(body).slice(0, 80)}: ${e.message}`);
    return e;
  };
  await field({ login: 'nm1', role: 'msl' }, 'name');
  await field({ name: 'No Login', role: 'msl' }, 'login');
  await field({ login: 'nr1', name: 'x' }, 'role');
  await field({ login: 'nr2', name: 'x', role: 5 }, 'role');
  await field({ login: 'nr3', name: 'x', role: ['admin'] }, 'role');
  await field({ login: 5, name: 'x', role: 'msl' }, 'login');
  await field({ login: 'nr4', name: { first: 'x' }, role: 'msl' }, 'name');
  const unknownField = await field({ login: 'nr5', name: 'x', role: 'msl', is_admin: true }, 'is_admin');
  assert.match(unknownField.message, /is_admin/);
  const unknownRole = await field({ login: 'nr6', name: 'x', role: 'superuser' }, 'role');
  assert.match(unknownRole.message, /superuser/);
  await field({ login: 'has space', name: 'x', role: 'msl' }, 'login');
  await field({ login: 'bad/slash', name: 'x', role: 'msl' }, 'login');
  await field({ login: '医生', name: 'x', role: 'msl' }, 'login');
  await field({ login: 'a', name: 'x', role: 'msl' }, 'login');
  await field({ login: 'nr7', name: '', role: 'msl' }, 'name');
  await field({ login: 'nr8', name: 'tab\there', role: 'msl' }, 'name');
  await field({ login: 'nr9', name: 'x'.repeat(101), role: 'msl' }, 'name');
  await field({ login: 'nr10', name: 'x', role: 'msl', password: 'short' }, 'password');
  await field({ login: 'nr11', name: 'x', role: 'msl', rep_id: 'R 1' }, 'rep_id');
  // None of them made an account.
  const list = await srv.api('GET', '/api/v1/users?q=nr', { token: t });
  assert.ok(!list.json.items.some((u) => /^nr\d+$/.test(u.login)), list.text);
});

test('Chinese names round-trip, and a 100-character name is accepted', async () => {
  const names = ['王医生', '张三丰 (主任医师)', '😀 emoji 名字', '医'.repeat(100)];
  for (const name of names) {
    const u = await createUser(srv, { name, role: 'inside_rep' });
    assert.equal(u.name, name);
    const got = await srv.api('GET', `/api/v1/users/${u.id}`, { token: srv.adminToken });
    assert.equal(got.json.name, name);
  }
  const q = await srv.api('GET', `/api/v1/users?q=${encodeURIComponent('王医')}`, { token: srv.adminToken });
  assert.equal(q.status, 200);
  assert.ok(q.json.items.some((u) => u.name === '王医生'), q.text);
});

test('GET /api/v1/users/{id}: 200, unknown id 404, non-numeric id 404', async () => {
  const id = byRole.msl.user.id;
  const got = await srv.api('GET', `/api/v1/users/${id}`, { token: srv.adminToken });
  assert.equal(got.status, 200);
  assert.equal(got.json.login, byRole.msl.user.login);
  assertError(await srv.api('GET', '/api/v1/users/999999', { token: srv.adminToken }), 404, 'not_found');
  for (const bad of ['abc', '0', '-1', '1.5', '1e3', '99999999999999999999999']) {
    assertError(await srv.api('GET', `/api/v1/users/${bad}`, { token: srv.adminToken }), 404, 'not_found', bad);
  }
  assertError(await srv.api('GET', `/api/v1/users/${id}/extra`, { token: srv.adminToken }), 404, 'not_found');
  // The read was audited as a read of personal data.
  const audit = await srv.api('GET', `/api/v1/audit?action=user.read&entity_id=${id}`, { token: srv.adminToken });
  assert.ok(audit.json.items.length >= 1, audit.text);
  assert.equal(audit.json.items[0].user, srv.adminLogin);
});

test('PATCH /api/v1/users/{id}: name, role, status and password; each change audited with before/after', async () => {
  const u = await createUser(srv, { role: 'field_rep' });
  const t = srv.adminToken;
  let res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { name: '新名字' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.name, '新名字');
  assert.equal(res.json.role, 'field_rep');
  res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { role: 'manager', rep_id: 'M-7' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.role, 'manager');
  assert.equal(res.json.rep_id, 'M-7');
  res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { rep_id: null } });
  assert.equal(res.json.rep_id, null);
  res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { status: 'disabled' } });
  assert.equal(res.json.status, 'disabled');
  res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { status: 'active' } });
  assert.equal(res.json.status, 'active');
  const pw = newPassword();
  res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: t, body: { password: pw } });
  assert.equal(res.status, 200);
  assert.ok(!('password' in res.json));
  const s = await srv.login(u.login, pw);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.json.role, 'manager');
  assert.equal(me.json.name, '新名字');

  const got = await srv.api('GET', `/api/v1/users/${u.id}`, { token: t });
  assert.equal(got.json.name, '新名字');
  assert.ok(Date.parse(got.json.updated_at) >= Date.parse(got.json.created_at));

  const audit = await srv.api('GET', `/api/v1/audit?action=user.update&entity=user&entity_id=${u.id}`, { token: t });
  assert.equal(audit.json.items.length, 6, audit.text);
  for (const i of audit.json.items) {
    assert.equal(i.user, srv.adminLogin);
    assert.equal(i.status, 200);
  }
});

test('PATCH input errors and unknown users', async () => {
  const u = byRole.analyst.user;
  const t = srv.adminToken;
  const patch = (body, id = u.id) => srv.api('PATCH', `/api/v1/users/${id}`, { token: t, body });
  assert.equal(assertError(await patch({ status: 'gone' }), 400, 'bad_request').detail.field, 'status');
  assert.equal(assertError(await patch({ role: 'boss' }), 400, 'bad_request').detail.field, 'role');
  assert.equal(assertError(await patch({ role: 3 }), 400, 'bad_request').detail.field, 'role');
  assert.equal(assertError(await patch({ login: 'renamed' }), 400, 'bad_request').detail.field, 'login');
  assert.equal(assertError(await patch({ password: 'short' }), 400, 'bad_request').detail.field, 'password');
  assert.equal(assertError(await patch({ name: '' }), 400, 'bad_request').detail.field, 'name');
  assertError(await patch({ name: 'Nobody' }, 999999), 404, 'not_found');
  assertError(await patch({ name: 'Nobody' }, 'abc'), 404, 'not_found');
  const still = await srv.api('GET', `/api/v1/users/${u.id}`, { token: t });
  assert.equal(still.json.role, 'analyst');
  assert.equal(still.json.status, 'active');
});

test('an admin cannot disable or demote themself (422); another admin can', async () => {
  const me = (await srv.api('GET', '/api/v1/me', { token: srv.adminToken })).json;
  const dis = await srv.api('PATCH', `/api/v1/users/${me.id}`, { token: srv.adminToken, body: { status: 'disabled' } });
  assertError(dis, 422, 'unprocessable');
  const dem = await srv.api('PATCH', `/api/v1/users/${me.id}`, { token: srv.adminToken, body: { role: 'analyst' } });
  assertError(dem, 422, 'unprocessable');
  // Keeping the admin role, or renaming oneself, is fine.
  const keep = await srv.api('PATCH', `/api/v1/users/${me.id}`, { token: srv.adminToken, body: { role: 'admin', name: 'Chief' } });
  assert.equal(keep.status, 200, keep.text);
  const after = await srv.api('GET', '/api/v1/me', { token: srv.adminToken });
  assert.equal(after.json.role, 'admin');
  assert.equal(after.json.status, 'active');

  // The second admin (from the role set) may demote and restore another admin.
  const other = byRole.admin;
  const a2 = await srv.api('PATCH', `/api/v1/users/${other.user.id}`, { token: srv.adminToken, body: { role: 'analyst' } });
  assert.equal(a2.status, 200);
  assertError(await srv.api('GET', '/api/v1/users', { token: other.token }), 403, 'forbidden');
  const back = await srv.api('PATCH', `/api/v1/users/${other.user.id}`, { token: srv.adminToken, body: { role: 'admin' } });
  assert.equal(back.status, 200);
  assert.equal((await srv.api('GET', '/api/v1/users', { token: other.token })).status, 200);
});

test('list paging: limit=2 walks next_cursor and sees every user exactly once', async () => {
  const all = await srv.api('GET', '/api/v1/users?limit=500', { token: srv.adminToken });
  assert.equal(all.status, 200);
  assert.deepEqual(Object.keys(all.json).sort(), ['items', 'next_cursor']);
  assert.equal(all.json.next_cursor, null);
  const expected = all.json.items.map((u) => u.id);
  assert.ok(expected.length > 10, `more users than pages of 2: ${expected.length}`);
  for (const r of ROLES) assert.ok(expected.includes(byRole[r].user.id));

  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = `/api/v1/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await srv.api('GET', q, { token: srv.adminToken });
    assert.equal(page.status, 200, page.text);
    assert.ok(page.json.items.length <= 2);
    seen.push(...page.json.items.map((u) => u.id));
    cursor = page.json.next_cursor;
    if (cursor !== null) assert.equal(typeof cursor, 'string');
    if (cursor !== null) assert.equal(page.json.items.length, 2, 'only the last page is short');
    pages += 1;
    assert.ok(pages < 200, 'the walk ends');
  } while (cursor !== null);
  assert.equal(new Set(seen).size, seen.length, 'no user twice');
  assert.deepEqual([...seen].sort((a, b) => a - b), [...expected].sort((a, b) => a - b), 'every user once');
  assert.equal(pages, Math.ceil(expected.length / 2), 'no empty last page');
});

test('list filters: role= and q=', async () => {
  const t = srv.adminToken;
  const msl = await srv.api('GET', '/api/v1/users?role=msl&limit=500', { token: t });
  assert.equal(msl.status, 200);
  assert.ok(msl.json.items.length >= 1);
  assert.ok(msl.json.items.every((u) => u.role === 'msl'), msl.text);
  assert.ok(msl.json.items.some((u) => u.id === byRole.msl.user.id));

  const fr = byRole.field_rep.user;
  const q = await srv.api('GET', `/api/v1/users?q=${encodeURIComponent(fr.login.slice(0, 8).toUpperCase())}`, { token: t });
  assert.equal(q.status, 200);
  assert.ok(q.json.items.some((u) => u.id === fr.id), `q is a case-insensitive substring: ${q.text}`);
  assert.ok(q.json.items.every((u) => u.login.includes(fr.login.slice(0, 8)) || u.name.toLowerCase().includes(fr.login.slice(0, 8))));

  const both = await srv.api('GET', `/api/v1/users?role=msl&q=${encodeURIComponent(fr.login)}`, { token: t });
  assert.deepEqual(both.json.items, []);
  // LIKE wildcards in q match literally.
  const pct = await srv.api('GET', '/api/v1/users?q=%25', { token: t });
  assert.deepEqual(pct.json.items, [], pct.text);
  const us = await srv.api('GET', '/api/v1/users?q=_', { token: t });
  assert.ok(us.json.items.every((u) => u.login.includes('_') || u.name.includes('_')), us.text);

  const badRole = await srv.api('GET', '/api/v1/users?role=boss', { token: t });
  assert.equal(assertError(badRole, 400, 'bad_request').detail.field, 'role');
});

test('paging and query errors: limit=0, limit=abc, limit=501, a non-numeric cursor, invalid UTF-8 → 400', async () => {
  const t = srv.adminToken;
  for (const [q, f] of [['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=501', 'limit'], ['limit=-1', 'limit'], ['limit=', 'limit'],
    ['cursor=abc', 'cursor'], ['cursor=0', 'cursor'], ['cursor=-5', 'cursor'], ['cursor=1.5', 'cursor'],
    ['q=%FF', 'q'], ['q=%C3%28', 'q'], ['role=%FF', 'role'], [`q=${'a'.repeat(600)}`, 'q']]) {
    const res = await srv.api('GET', `/api/v1/users?${q}`, { token: t });
    const e = assertError(res, 400, 'bad_request', q.slice(0, 40));
    assert.equal(e.detail.field, f, q.slice(0, 40));
  }
  // The same checks guard the audit list.
  assert.equal(assertError(await srv.api('GET', '/api/v1/audit?limit=0', { token: t }), 400, 'bad_request').detail.field, 'limit');
  assert.equal(assertError(await srv.api('GET', '/api/v1/audit?cursor=x', { token: t }), 400, 'bad_request').detail.field, 'cursor');
  assert.equal(assertError(await srv.api('GET', '/api/v1/audit?action=%FF', { token: t }), 400, 'bad_request').detail.field, 'action');
});

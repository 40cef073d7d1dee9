// Logging in and out, sessions with their CSRF header, API tokens, and
// what /api/v1/me says. Keeps well under the per-address back-off (30
// failed logins per server): throttle.test.mjs has its own servers for that.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, newPassword, uniqueLogin, pastAuthCache } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

const USER_KEYS = ['created_at', 'id', 'last_login_at', 'login', 'name', 'rep_id', 'role', 'status', 'updated_at'];

test('login: 200 with the user and a CSRF token, and a HttpOnly SameSite=Strict session cookie', async () => {
  const res = await srv.api('POST', '/api/v1/auth/login', { body: { login: srv.adminLogin, password: srv.adminPassword } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ['csrf_token', 'user']);
  assert.deepEqual(Object.keys(res.json.user).sort(), USER_KEYS, 'no password or hash in the user');
  assert.equal(res.json.user.login, srv.adminLogin);
  assert.equal(res.json.user.role, 'admin');
  assert.equal(res.json.user.status, 'active');
  assert.ok(res.json.user.last_login_at, 'last_login_at is set');
  assert.match(res.json.csrf_token, /^[0-9a-f]{32}$/);
  const cookies = [].concat(res.headers['set-cookie'] || []);
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  const c = cookies[0];
  assert.match(c, /^mr_session=mrs_[A-Za-z0-9_-]{40,}; /);
  const attrs = c.split(/;\s*/).slice(1);
  assert.ok(attrs.includes('Path=/'), c);
  assert.ok(attrs.includes('HttpOnly'), c);
  assert.ok(attrs.includes('SameSite=Strict'), c);
  assert.ok(!attrs.includes('Secure'), 'no Secure flag without --secure-cookies');
  assert.ok(attrs.includes('Max-Age=43200'), `a 12-hour session by default: ${c}`);
  assert.equal(res.headers['cache-control'], 'no-store');
});

test('login name is case-insensitive', async () => {
  const s = await srv.login(srv.adminLogin.toUpperCase(), srv.adminPassword);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.json.login, srv.adminLogin);
});

test('wrong password, unknown login and disabled account: the same 401 invalid_credentials', async () => {
  const wrong = await srv.api('POST', '/api/v1/auth/login', { body: { login: srv.adminLogin, password: 'not-the-password-1' } });
  const e1 = assertError(wrong, 401, 'invalid_credentials');
  assert.ok(!('set-cookie' in wrong.headers), 'no cookie on failure');

  const unknown = await srv.api('POST', '/api/v1/auth/login', { body: { login: 'no-such-user-x', password: 'whatever-pass-1' } });
  const e2 = assertError(unknown, 401, 'invalid_credentials');
  assert.equal(e2.message, e1.message, 'the message does not tell an unknown login from a wrong password');
  assert.deepEqual(Object.keys(e2.detail).sort(), Object.keys(e1.detail).sort());

  const u = await createUser(srv, { role: 'analyst' });
  const dis = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: srv.adminToken, body: { status: 'disabled' } });
  assert.equal(dis.status, 200, dis.text);
  const disabled = await srv.api('POST', '/api/v1/auth/login', { body: { login: u.login, password: u.password } });
  const e3 = assertError(disabled, 401, 'invalid_credentials');
  assert.equal(e3.message, e1.message);

  // Each failure was audited as auth.login_failed with the login as typed.
  const audit = await srv.api('GET', '/api/v1/audit?action=auth.login_failed', { token: srv.adminToken });
  assert.equal(audit.status, 200);
  const users = audit.json.items.map((i) => i.user);
  for (const l of [srv.adminLogin, 'no-such-user-x', u.login]) assert.ok(users.includes(l), `login_failed for ${l}: ${audit.text}`);
  for (const i of audit.json.items) {
    assert.equal(i.status, 401);
    assert.equal(i.user_id, null, 'a failed login is not attributed to an account');
  }
});

test('login input errors: 400 in the error shape', async () => {
  const miss = await srv.api('POST', '/api/v1/auth/login', { body: { login: srv.adminLogin } });
  assert.equal(assertError(miss, 400, 'bad_request').detail.field, 'password');
  const type = await srv.api('POST', '/api/v1/auth/login', { body: { login: 5, password: 'x-xxxxxxxxx' } });
  assert.equal(assertError(type, 400, 'bad_request').detail.field, 'login');
  const extra = await srv.api('POST', '/api/v1/auth/login', { body: { login: 'a', password: 'b', remember: true } });
  assert.equal(assertError(extra, 400, 'bad_request').detail.field, 'remember');
  const empty = await srv.api('POST', '/api/v1/auth/login', { body: '' });
  assertError(empty, 400, 'bad_request');
});

test('session: /api/v1/me with the cookie says auth "session" and returns the CSRF token', async () => {
  const s = await srv.login(srv.adminLogin, srv.adminPassword);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.auth, 'session');
  assert.equal(me.json.login, srv.adminLogin);
  assert.equal(me.json.role, 'admin');
  assert.equal(me.json.csrf_token, s.csrf);
  assert.ok(me.json.login_at, 'login_at');
  assert.ok(!('password_hash' in me.json) && !('password' in me.json));
});

test('session: the cookie is found among other cookies; an expired session is 401 session_expired', async () => {
  const s = await srv.login(srv.adminLogin, srv.adminPassword);
  const mixed = await srv.api('GET', '/api/v1/me', { headers: { Cookie: `theme=dark; ${s.cookie}; lang=zh-CN` } });
  assert.equal(mixed.status, 200, mixed.text);
  assert.equal(mixed.json.auth, 'session');
  const hash = await srv.sql('SELECT COUNT(*) FROM sessions');
  assert.ok(Number(hash) >= 1);
  // Expire every session of this server (other tests log in afresh).
  await srv.sql('UPDATE sessions SET expires_at = 1');
  await pastAuthCache(); // changed behind the server's back: effective within the cache's lifetime
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assertError(me, 401, 'session_expired');
  assert.equal(me.headers['www-authenticate'], 'Bearer');
});

test('session writes need X-CSRF-Token: 403 csrf_required without it or with a wrong one, 201 with it', async () => {
  const s = await srv.login(srv.adminLogin, srv.adminPassword);
  const none = await srv.api('POST', '/api/v1/tokens', { session: s, body: { name: 'no-csrf' } });
  const e = assertError(none, 403, 'csrf_required');
  assert.match(e.message, /X-CSRF-Token/);
  const wrong = await srv.api('POST', '/api/v1/tokens', { session: s, csrf: 'f'.repeat(32), body: { name: 'bad-csrf' } });
  assertError(wrong, 403, 'csrf_required');
  const short = await srv.api('POST', '/api/v1/tokens', { session: s, csrf: s.csrf.slice(0, 31), body: { name: 'short' } });
  assertError(short, 403, 'csrf_required');
  // Another session's CSRF token is no good either.
  const other = await srv.login(srv.adminLogin, srv.adminPassword);
  const cross = await srv.api('POST', '/api/v1/tokens', { session: s, csrf: other.csrf, body: { name: 'cross' } });
  assertError(cross, 403, 'csrf_required');

  const ok = await srv.api('POST', '/api/v1/tokens', { session: s, csrf: true, body: { name: 'with-csrf' } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.name, 'with-csrf');
  // None of the refused writes happened.
  const list = await srv.api('GET', '/api/v1/tokens', { session: s });
  assert.equal(list.status, 200, 'reads need no CSRF header');
  const names = list.json.items.map((t) => t.name);
  for (const n of ['no-csrf', 'bad-csrf', 'short', 'cross']) assert.ok(!names.includes(n), `${n} was not created`);
  assert.ok(names.includes('with-csrf'));

  // DELETE and PATCH are writes too.
  const del = await srv.api('DELETE', `/api/v1/tokens/${ok.json.id}`, { session: s });
  assertError(del, 403, 'csrf_required');
  const patch = await srv.api('PATCH', '/api/v1/users/1', { session: s, body: { name: 'X' } });
  assertError(patch, 403, 'csrf_required');
});

test('logout: 204, clears the cookie, and the session no longer works', async () => {
  const s = await srv.login(srv.adminLogin, srv.adminPassword);
  const other = await srv.login(srv.adminLogin, srv.adminPassword);
  const noCsrf = await srv.api('POST', '/api/v1/auth/logout', { session: s });
  assertError(noCsrf, 403, 'csrf_required');
  const out = await srv.api('POST', '/api/v1/auth/logout', { session: s, csrf: true });
  assert.equal(out.status, 204, out.text);
  assert.equal(out.text, '');
  const cleared = [].concat(out.headers['set-cookie'] || []);
  assert.ok(cleared.some((c) => /^mr_session=;/.test(c) && /Max-Age=0/.test(c)), JSON.stringify(cleared));
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  const e = assertError(me, 401);
  assert.ok(['session_expired', 'unauthenticated'].includes(e.code), e.code);
  assert.equal(me.headers['www-authenticate'], 'Bearer');
  // Only that session ended.
  assert.equal((await srv.api('GET', '/api/v1/me', { session: other })).status, 200);
  // The logout was audited.
  const audit = await srv.api('GET', '/api/v1/audit?action=auth.logout', { token: srv.adminToken });
  assert.ok(audit.json.items.length >= 1);
  assert.equal(audit.json.items[0].user, srv.adminLogin);
});

test('/api/v1/me with a bearer token says auth "token"; bearer writes need no CSRF header', async () => {
  const me = await srv.api('GET', '/api/v1/me', { token: srv.adminToken });
  assert.equal(me.status, 200);
  assert.equal(me.json.auth, 'token');
  assert.equal(me.json.login, srv.adminLogin);
  assert.ok(!('csrf_token' in me.json), 'no CSRF token for token auth');
  const w = await srv.api('POST', '/api/v1/tokens', { token: srv.adminToken, body: { name: 'bearer-write' } });
  assert.equal(w.status, 201, w.text);
});

test('no credentials: 401 unauthenticated with WWW-Authenticate: Bearer', async () => {
  for (const [m, p] of [['GET', '/api/v1/me'], ['GET', '/api/v1/users'], ['POST', '/api/v1/tokens'], ['GET', '/api/v1/audit']]) {
    const res = await srv.api(m, p, m === 'POST' ? { body: { name: 'x' } } : {});
    assertError(res, 401, 'unauthenticated', `${m} ${p}`);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  }
});

test('bad credentials: garbage bearer, other schemes and garbage cookies are 401', async () => {
  const garbage = await srv.api('GET', '/api/v1/me', { token: 'garbage' });
  assertError(garbage, 401, 'invalid_token');
  assert.equal(garbage.headers['www-authenticate'], 'Bearer');
  assertError(await srv.api('GET', '/api/v1/me', { token: `${srv.adminToken}x` }), 401, 'invalid_token');
  assertError(await srv.api('GET', '/api/v1/me', { token: 'x'.repeat(5000) }), 401, 'invalid_token');
  assertError(await srv.api('GET', '/api/v1/me', { headers: { Authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` } }), 401, 'invalid_token');
  assertError(await srv.api('GET', '/api/v1/me', { headers: { Authorization: `bearer ${srv.adminToken}` } }), 401, 'invalid_token');
  const cookie = await srv.api('GET', '/api/v1/me', { headers: { Cookie: 'mr_session=mrs_nope' } });
  assertError(cookie, 401, 'session_expired');
  // A session secret is not an API token, and an API token is not a session.
  const s = await srv.login(srv.adminLogin, srv.adminPassword);
  const secret = s.cookie.split('=')[1];
  assertError(await srv.api('GET', '/api/v1/me', { token: secret }), 401, 'invalid_token');
  assertError(await srv.api('GET', '/api/v1/me', { headers: { Cookie: `mr_session=${srv.adminToken}` } }), 401, 'session_expired');
});

test('tokens API: create (secret once), list, revoke; revoked is 401; a user cannot revoke another\'s', async () => {
  const created = await srv.api('POST', '/api/v1/tokens', { token: srv.adminToken, body: { name: 'api-made', ttl_days: 30 } });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(Object.keys(created.json).sort(), ['created_at', 'expires_at', 'id', 'name', 'token']);
  assert.match(created.json.token, /^mrt_/);
  const days = (Date.parse(created.json.expires_at) - Date.parse(created.json.created_at)) / 86400e3;
  assert.ok(Math.abs(days - 30) < 0.01, `30 days: ${days}`);
  const tok = created.json.token;
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok })).status, 200);

  const list = await srv.api('GET', '/api/v1/tokens', { token: tok });
  assert.equal(list.status, 200);
  assert.deepEqual(Object.keys(list.json).sort(), ['items', 'next_cursor']);
  const row = list.json.items.find((t) => t.id === created.json.id);
  assert.ok(row);
  assert.equal(row.name, 'api-made');
  assert.ok(!('token' in row) && !list.text.includes(tok), 'secrets are not listed');
  const ids = list.json.items.map((t) => t.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');

  // Another user can neither see nor revoke it.
  const rep = await createUser(srv, { role: 'field_rep' });
  const repTok = await srv.token(rep.login);
  const repList = await srv.api('GET', '/api/v1/tokens', { token: repTok });
  assert.ok(!repList.json.items.some((t) => t.id === created.json.id), 'only your own tokens are listed');
  assertError(await srv.api('DELETE', `/api/v1/tokens/${created.json.id}`, { token: repTok }), 404, 'not_found');
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok })).status, 200, 'still valid');

  const del = await srv.api('DELETE', `/api/v1/tokens/${created.json.id}`, { token: srv.adminToken });
  assert.equal(del.status, 204, del.text);
  assertError(await srv.api('GET', '/api/v1/me', { token: tok }), 401, 'invalid_token');
  assertError(await srv.api('DELETE', `/api/v1/tokens/${created.json.id}`, { token: srv.adminToken }), 404, 'not_found');
  assertError(await srv.api('DELETE', '/api/v1/tokens/abc', { token: srv.adminToken }), 404, 'not_found');
  assertError(await srv.api('DELETE', '/api/v1/tokens/0', { token: srv.adminToken }), 404, 'not_found');

  // An admin may revoke anyone's token.
  const repRow = (await srv.api('GET', '/api/v1/tokens', { token: repTok })).json.items[0];
  assert.equal((await srv.api('DELETE', `/api/v1/tokens/${repRow.id}`, { token: srv.adminToken })).status, 204);
  assertError(await srv.api('GET', '/api/v1/me', { token: repTok }), 401, 'invalid_token');

  // Revocations are audited.
  const audit = await srv.api('GET', `/api/v1/audit?action=token.revoke&entity_id=${created.json.id}`, { token: srv.adminToken });
  assert.equal(audit.json.items.length, 1, audit.text);
  assert.equal(audit.json.items[0].user, srv.adminLogin);
  assert.equal(audit.json.items[0].status, 204);
});

test('tokens API input errors', async () => {
  const t = srv.adminToken;
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: {} }), 400, 'bad_request').detail.field, 'name');
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x', ttl_days: 0 } }), 400, 'bad_request').detail.field, 'ttl_days');
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x', ttl_days: 3651 } }), 400, 'bad_request').detail.field, 'ttl_days');
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x', ttl_days: '7' } }), 400, 'bad_request').detail.field, 'ttl_days');
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x', ttl_days: 1.5 } }), 400, 'bad_request').detail.field, 'ttl_days');
  assert.equal(assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x', scope: 'all' } }), 400, 'bad_request').detail.field, 'scope');
  assertError(await srv.api('POST', '/api/v1/tokens', { token: t, body: { name: 'x'.repeat(5000) } }), 413, 'too_large');
});

test('a disabled user\'s sessions and tokens stop working', async () => {
  const u = await createUser(srv, { role: 'inside_rep' });
  const s = await srv.login(u.login, u.password);
  const tok = await srv.token(u.login);
  assert.equal((await srv.api('GET', '/api/v1/me', { session: s })).status, 200);
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok })).status, 200);
  const dis = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: srv.adminToken, body: { status: 'disabled' } });
  assert.equal(dis.status, 200, dis.text);
  assert.equal(dis.json.status, 'disabled');
  assertError(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'session_expired');
  assertError(await srv.api('GET', '/api/v1/me', { token: tok }), 401, 'invalid_token');
  // Enabling again revives the token (sessions were ended for good).
  const en = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: srv.adminToken, body: { status: 'active' } });
  assert.equal(en.status, 200);
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok })).status, 200);
  assertError(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'session_expired');
});

test('a new password ends the user\'s sessions; the old password stops working', async () => {
  const u = await createUser(srv, { role: 'marketing' });
  const s = await srv.login(u.login, u.password);
  const pw2 = newPassword();
  const res = await srv.api('PATCH', `/api/v1/users/${u.id}`, { token: srv.adminToken, body: { password: pw2 } });
  assert.equal(res.status, 200, res.text);
  assert.ok(!('password' in res.json));
  assertError(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'session_expired');
  assertError(await srv.api('POST', '/api/v1/auth/login', { body: { login: u.login, password: u.password } }), 401, 'invalid_credentials');
  const s2 = await srv.login(u.login, pw2);
  assert.equal((await srv.api('GET', '/api/v1/me', { session: s2 })).json.login, u.login);
});

test('every login (good or bad) is audited with the request id', async () => {
  const login = uniqueLogin('aud');
  const u = await createUser(srv, { login, role: 'msl' });
  const ok = await srv.api('POST', '/api/v1/auth/login', { body: { login, password: u.password }, headers: { 'X-Request-Id': `good-${login}` } });
  assert.equal(ok.status, 200);
  const bad = await srv.api('POST', '/api/v1/auth/login', { body: { login, password: 'wrong-password-9' }, headers: { 'X-Request-Id': `bad-${login}` } });
  assertError(bad, 401, 'invalid_credentials');
  const audit = await srv.api('GET', `/api/v1/audit?user=${login}`, { token: srv.adminToken });
  assert.equal(audit.status, 200);
  const good = audit.json.items.find((i) => i.request_id === `good-${login}`);
  const failed = audit.json.items.find((i) => i.request_id === `bad-${login}`);
  assert.ok(good && failed, audit.text);
  assert.equal(good.action, 'auth.login');
  assert.equal(good.user_id, u.id);
  assert.equal(good.role, 'msl');
  assert.equal(good.entity, 'user');
  assert.equal(good.entity_id, String(u.id));
  assert.equal(good.status, 200);
  assert.equal(good.ip, '127.0.0.1');
  assert.equal(failed.action, 'auth.login_failed');
  assert.equal(failed.status, 401);
});

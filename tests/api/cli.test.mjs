// The command line: user add / list, token create / revoke / expiry,
// version, --help of every command, and the exit status of an unknown one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { startServer, assertError, newPassword, uniqueLogin, ROLES, pastAuthCache } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('user add: password from stdin, then the user can log in', async () => {
  const login = uniqueLogin('cli');
  const pw = newPassword();
  const r = await srv.cli(['user', 'add', login, '--role', 'msl', '--name', '李医生'], { input: `${pw}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`created ${login} \\(id \\d+\\)`));
  assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw), 'the password is never echoed');
  const s = await srv.login(login, pw);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.status, 200);
  assert.equal(me.json.login, login);
  assert.equal(me.json.role, 'msl');
  assert.equal(me.json.name, '李医生');
});

test('user add: a short password is refused with a clear message and a non-zero exit', async () => {
  const login = uniqueLogin('short');
  const r = await srv.cli(['user', 'add', login, '--role', 'analyst'], { input: 'short1\n' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /password is too short: at least 10 characters/);
  const list = await srv.cli(['user', 'list']);
  assert.ok(!list.stdout.includes(login), 'no account was made');
});

test('user add: a password of one repeated character, and an empty stdin, are refused', async () => {
  const r1 = await srv.cli(['user', 'add', uniqueLogin('rep'), '--role', 'analyst'], { input: 'aaaaaaaaaaaaaa\n' });
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /repeats one character/);
  const r2 = await srv.cli(['user', 'add', uniqueLogin('empty'), '--role', 'analyst'], { input: '' });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /password/);
});

test('user add: a duplicate login is refused', async () => {
  const r = await srv.cli(['user', 'add', srv.adminLogin, '--role', 'admin'], { input: `${newPassword()}\n` });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /already taken/);
  // Logins are case-insensitive: ADMIN is the same account.
  const r2 = await srv.cli(['user', 'add', srv.adminLogin.toUpperCase(), '--role', 'admin'], { input: `${newPassword()}\n` });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /already taken/);
});

test('user add: an unknown role, a missing role and a bad login are refused', async () => {
  const r = await srv.cli(['user', 'add', uniqueLogin('role'), '--role', 'superuser'], { input: `${newPassword()}\n` });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown role 'superuser'/);
  const r2 = await srv.cli(['user', 'add', uniqueLogin('norole')], { input: `${newPassword()}\n` });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /--role is required/);
  const r3 = await srv.cli(['user', 'add', 'bad login!', '--role', 'msl'], { input: `${newPassword()}\n` });
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /login/);
});

test('user list shows every user with login, role and status', async () => {
  const made = [];
  for (const role of ['manager', 'compliance']) {
    const login = uniqueLogin(role.slice(0, 3));
    const r = await srv.cli(['user', 'add', login, '--role', role], { input: `${newPassword()}\n` });
    assert.equal(r.code, 0, r.stderr);
    made.push({ login, role });
  }
  const list = await srv.cli(['user', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.match(lines[0], /^ID\s+LOGIN\s+ROLE\s+REP\s+STATUS\s+NAME/);
  const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
  const admin = rows.find((r) => r[1] === srv.adminLogin);
  assert.ok(admin, list.stdout);
  assert.equal(admin[2], 'admin');
  assert.equal(admin[4], 'active');
  for (const m of made) {
    const row = rows.find((r) => r[1] === m.login);
    assert.ok(row, `${m.login} listed:\n${list.stdout}`);
    assert.equal(row[2], m.role);
    assert.equal(row[4], 'active');
  }
});

test('token create prints a token that works as Bearer; token revoke makes it 401 invalid_token', async () => {
  const tok = await srv.token(srv.adminLogin, ['--name', 'ci']);
  const me = await srv.api('GET', '/api/v1/me', { token: tok });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.login, srv.adminLogin);
  assert.equal(me.json.auth, 'token');

  const listed = await srv.api('GET', '/api/v1/tokens', { token: tok });
  assert.equal(listed.status, 200);
  const row = listed.json.items.find((t) => t.name === 'ci');
  assert.ok(row, listed.text);
  assert.ok(!JSON.stringify(listed.json).includes(tok), 'the secret is never listed');
  assert.equal(row.revoked_at, null);

  const rev = await srv.cli(['token', 'revoke', String(row.id)]);
  assert.equal(rev.code, 0, rev.stderr);
  assert.match(rev.stdout, new RegExp(`revoked token ${row.id}`));
  await pastAuthCache(); // the CLI is another process: the server notices within its auth cache's lifetime
  const after = await srv.api('GET', '/api/v1/me', { token: tok });
  assertError(after, 401, 'invalid_token');
  assert.equal(after.headers['www-authenticate'], 'Bearer');

  // Revoking again, or an id that never existed, fails.
  const again = await srv.cli(['token', 'revoke', String(row.id)]);
  assert.notEqual(again.code, 0);
  const none = await srv.cli(['token', 'revoke', '999999']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /does not exist/);
  const bad = await srv.cli(['token', 'revoke', 'abc']);
  assert.notEqual(bad.code, 0);
});

test('token create for an unknown login fails', async () => {
  const r = await srv.cli(['token', 'create', 'nobody-here']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no account 'nobody-here'/);
  assert.equal(r.stdout.trim(), '');
});

test('token create --ttl-days sets an expiry; an expired token is 401', async () => {
  const tok = await srv.token(srv.adminLogin, ['--name', 'short-lived', '--ttl-days', '2']);
  const me = await srv.api('GET', '/api/v1/me', { token: tok });
  assert.equal(me.status, 200);
  const list = await srv.api('GET', '/api/v1/tokens', { token: tok });
  const row = list.json.items.find((t) => t.name === 'short-lived');
  assert.ok(row, list.text);
  const exp = Date.parse(row.expires_at) - Date.parse(row.created_at);
  assert.ok(Math.abs(exp - 2 * 86400e3) < 60e3, `expires two days after creation: ${row.created_at} → ${row.expires_at}`);

  await srv.sql(`UPDATE api_tokens SET expires_at = 1 WHERE id = ${Number(row.id)}`);
  await pastAuthCache();
  const expired = await srv.api('GET', '/api/v1/me', { token: tok });
  assertError(expired, 401, 'invalid_token');

  for (const bad of ['0', '3651', 'x']) {
    const r = await srv.cli(['token', 'create', srv.adminLogin, '--ttl-days', bad]);
    assert.notEqual(r.code, 0, `--ttl-days ${bad}`);
    assert.match(r.stderr, /--ttl-days/);
  }
});

test('token list shows a login\'s tokens without secrets', async () => {
  const tok = await srv.token(srv.adminLogin, ['--name', 'listed-one']);
  const r = await srv.cli(['token', 'list', srv.adminLogin]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /listed-one/);
  assert.ok(!r.stdout.includes(tok));
});

test('user add --rep links a rep id; user passwd sets a new password and ends the sessions', async () => {
  const login = uniqueLogin('pw');
  const pw1 = newPassword();
  const add = await srv.cli(['user', 'add', login, '--role', 'field_rep', '--rep', 'R0042'], { input: `${pw1}\n` });
  assert.equal(add.code, 0, add.stderr);
  const s = await srv.login(login, pw1);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.json.rep_id, 'R0042');
  const pw2 = newPassword();
  const r = await srv.cli(['user', 'passwd', login], { input: `${pw2}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`password changed for ${login}`));
  await pastAuthCache();
  assertError(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'session_expired');
  assertError(await srv.api('POST', '/api/v1/auth/login', { body: { login, password: pw1 } }), 401, 'invalid_credentials');
  await srv.login(login, pw2);
  const none = await srv.cli(['user', 'passwd', 'nobody-here'], { input: `${pw2}\n` });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no account 'nobody-here'/);
  const weak = await srv.cli(['user', 'passwd', login], { input: 'short\n' });
  assert.notEqual(weak.code, 0);
  assert.match(weak.stderr, /too short/);
});

test('migrate on an up-to-date database changes nothing and says the schema version', async () => {
  const r = await srv.cli(['migrate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^schema version \d+ \((sqlite|postgresql)\)$/m);
  const again = await srv.cli(['migrate']);
  assert.equal(again.stdout, r.stdout);
});

test('audit verify with another key fails at seq 1: the chain is keyed', async () => {
  const other = path.join(srv.dir, 'other.key');
  const mk = await srv.cli(['migrate', '--key-file', other]); // creates the (wrong) key
  assert.equal(mk.code, 0, mk.stderr);
  const r = await srv.cli(['audit', 'verify', '--key-file', other]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^BAD seq 1: /);
  const missing = await srv.cli(['audit', 'verify', '--key-file', path.join(srv.dir, 'no-such.key')]);
  assert.notEqual(missing.code, 0);
  assert.ok(!existsSync(path.join(srv.dir, 'no-such.key')), 'verify does not create a key');
  const right = await srv.cli(['audit', 'verify']);
  assert.equal(right.code, 0, right.stdout);
});

test('serve refuses a bad --listen with a message and a non-zero exit', async () => {
  const r = await srv.cli(['serve', '--listen', 'not-an-address', '--web', 'web']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--listen/);
  const opt = await srv.cli(['serve', '--threads', '0']);
  assert.notEqual(opt.code, 0);
  assert.match(opt.stderr, /--threads/);
});

test('version prints the version', async () => {
  const r = await srv.cli(['version'], { db: false });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^medreach \d+\.\d+\.\d+/);
  const r2 = await srv.cli(['--version'], { db: false });
  assert.equal(r2.code, 0);
  assert.match(r2.stdout, /^medreach \d+\.\d+\.\d+/);
});

test('--help of every command exits 0 and prints usage', async () => {
  const top = await srv.cli(['--help'], { db: false });
  assert.equal(top.code, 0);
  const commands = ['serve', 'migrate', 'user', 'token', 'audit', 'version'];
  for (const c of commands) assert.match(top.stdout, new RegExp(`^\\s+${c}\\s`, 'm'), `top-level help lists ${c}`);
  for (const c of commands) {
    const r = await srv.cli([c, '--help'], { db: false });
    assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
    assert.match(r.stdout, /usage: medreach/, `${c} --help prints usage`);
  }
});

test('an unknown command, or no command, exits 2', async () => {
  const r = await srv.cli(['frobnicate'], { db: false });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  const none = await srv.cli([], { db: false });
  assert.equal(none.code, 2);
  const sub = await srv.cli(['user', 'explode', 'x']);
  assert.equal(sub.code, 2);
  const opt = await srv.cli(['token', 'create', 'admin', '--no-such-option']);
  assert.equal(opt.code, 2);
});

test('the CLI\'s writes are audited, and audit verify says OK', async () => {
  const r = await srv.cli(['audit', 'verify']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^OK \d+ records/);
  const audit = await srv.api('GET', '/api/v1/audit?user=cli&action=user.create', { token: srv.adminToken });
  assert.equal(audit.status, 200);
  // The harness's admin plus this file's successful `user add`s.
  assert.ok(audit.json.items.length >= 4, audit.text);
  for (const it of audit.json.items) assert.equal(it.entity, 'user');
  assert.ok(ROLES.length === 8);
});

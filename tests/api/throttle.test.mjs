// Failed logins slow down: per account after 5 failures, per client address
// after 30 (across all logins). Each test has its own server, so the
// address counter of one cannot leak into another test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, sleep } from './harness.mjs';

function login(srv, loginName, password) {
  return srv.api('POST', '/api/v1/auth/login', { body: { login: loginName, password } });
}

test('after 5 failures for one login the next attempt, even with the right password, is 429 too_many_attempts', async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const u = await createUser(srv, { role: 'field_rep' });
  const bystander = await createUser(srv, { role: 'field_rep' });

  for (let i = 1; i <= 5; i++) {
    assertError(await login(srv, u.login, `wrong-password-${i}`), 401, 'invalid_credentials', `failure ${i}`);
  }
  const locked = await login(srv, u.login, u.password);
  const e = assertError(locked, 429, 'too_many_attempts');
  assert.ok(Number.isInteger(e.detail.retry_after_s) && e.detail.retry_after_s >= 1, `retry_after_s: ${locked.text}`);
  assert.match(locked.headers['retry-after'] || '', /^\d+$/);
  assert.equal(Number(locked.headers['retry-after']), e.detail.retry_after_s);
  assert.ok(!('set-cookie' in locked.headers), 'no session while locked');
  // The login is case-folded, so changing its case does not escape the lock.
  assertError(await login(srv, u.login.toUpperCase(), u.password), 429, 'too_many_attempts');

  // Another account from the same address is not locked.
  assert.equal((await login(srv, bystander.login, bystander.password)).status, 200);

  // The refusals are audited as failed logins with status 429.
  const audit = await srv.api('GET', `/api/v1/audit?user=${u.login}&action=auth.login_failed`, { token: srv.adminToken });
  const statuses = audit.json.items.map((i) => i.status);
  assert.equal(statuses.filter((s) => s === 401).length, 5, audit.text);
  assert.ok(statuses.filter((s) => s === 429).length >= 1, audit.text);

  // Once the lock has passed, the right password works again.
  await sleep(e.detail.retry_after_s * 1000 + 100);
  const ok = await login(srv, u.login, u.password);
  assert.equal(ok.status, 200, ok.text);
});

test('after 30 failures from one address (across logins) even a fresh login is 429', async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const u = await createUser(srv, { role: 'analyst' });
  // 29 failures, each for a different (unknown) login, a few at a time ...
  const names = Array.from({ length: 29 }, (_, i) => `nobody-${i}`);
  for (let i = 0; i < names.length; i += 5) {
    const batch = await Promise.all(names.slice(i, i + 5).map((n) => login(srv, n, 'wrong-password-1')));
    for (const r of batch) assertError(r, 401, 'invalid_credentials');
  }
  // ... and the 30th alone, so the lock starts right before the next attempt.
  assertError(await login(srv, 'nobody-last', 'wrong-password-1'), 401, 'invalid_credentials');
  const locked = await login(srv, u.login, u.password);
  const e = assertError(locked, 429, 'too_many_attempts');
  assert.ok(e.detail.retry_after_s >= 1);
  assert.equal(Number(locked.headers['retry-after']), e.detail.retry_after_s);
  // Bearer tokens are not affected by the login back-off.
  assert.equal((await srv.api('GET', '/api/v1/me', { token: srv.adminToken })).status, 200);
});

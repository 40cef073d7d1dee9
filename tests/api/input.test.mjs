// Bad input must be answered well: malformed or hostile JSON, bodies over
// the cap, the wrong content type, oversized headers, bad paths and query
// strings — each a precise status in the one error shape, and the server
// still healthy afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

const post = (path, body, opts = {}) => srv.api('POST', path, { token: srv.adminToken, body, ...opts });

test('malformed JSON → 400 with detail.line and detail.column', async () => {
  const res = await post('/api/v1/users', '{"login": "x",\n "name": }');
  const e = assertError(res, 400, 'bad_request');
  assert.match(e.message, /malformed JSON/);
  assert.equal(e.detail.line, 2);
  assert.equal(e.detail.column, 10);

  const trunc = assertError(await post('/api/v1/users', '{"login": "x"'), 400, 'bad_request');
  assert.equal(trunc.detail.line, 1);
  assert.ok(Number.isInteger(trunc.detail.column) && trunc.detail.column >= 1);
  const third = assertError(await post('/api/v1/users', '{\n"a": 1,\n"b": tru\n}'), 400, 'bad_request');
  assert.equal(third.detail.line, 3);
  assertError(await post('/api/v1/users', '{"login":"a","login":"b","name":"x","role":"msl"}'), 400, 'bad_request', 'duplicate keys');
  assertError(await post('/api/v1/users', "{'login':'x'}"), 400, 'bad_request');
  assertError(await post('/api/v1/users', '{"login":"x"} trailing'), 400, 'bad_request');
  const empty = assertError(await post('/api/v1/users', ''), 400, 'bad_request');
  assert.match(empty.message, /empty/);
});

test('a body that is not a JSON object → 400', async () => {
  for (const b of ['[]', '[{"login":"x","name":"y","role":"msl"}]', '"just a string"', '42', 'null', 'true']) {
    const e = assertError(await post('/api/v1/users', b), 400, 'bad_request', b);
    assert.match(e.message, /JSON object|malformed/, b);
  }
});

test('JSON nested 100 deep → 400 with the position; 32 deep passes the depth check', async () => {
  const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
  const e = assertError(await post('/api/v1/users', deep), 400, 'bad_request');
  assert.match(e.message, /nested deeper than 32/);
  assert.equal(e.detail.line, 1);
  assert.equal(e.detail.column, 33);
  const deepObj = `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`;
  assert.match(assertError(await post('/api/v1/auth/login', deepObj, { token: undefined }), 400, 'bad_request').message, /nested deeper/);
  // Brackets inside strings do not count.
  const inString = JSON.stringify({ login: '['.repeat(200), password: '{'.repeat(200) });
  assertError(await srv.api('POST', '/api/v1/auth/login', { body: inString }), 401, 'invalid_credentials');
  // Exactly 32 levels is allowed: the error is then about the content, not the depth.
  const at32 = `{"name":${'['.repeat(31)}${']'.repeat(31)}}`;
  const e32 = assertError(await post('/api/v1/users', at32), 400, 'bad_request');
  assert.doesNotMatch(e32.message, /nested/);
  const at33 = `{"name":${'['.repeat(32)}${']'.repeat(32)}}`;
  assert.match(assertError(await post('/api/v1/users', at33), 400, 'bad_request').message, /nested deeper/);
});

test('invalid UTF-8 inside a JSON string → 400 (never stored, never a crash)', async () => {
  const cases = { ff: 'ff', lone_continuation: '80', overlong_slash: 'c0af', surrogate: 'eda080', above_max: 'f4908080', truncated: 'e4b8' };
  for (const [what, hex] of Object.entries(cases)) {
    const body = Buffer.concat([Buffer.from('{"login":"utf8bad","name":"a'), Buffer.from(hex, 'hex'), Buffer.from('b","role":"msl"}')]);
    const e = assertError(await post('/api/v1/users', body), 400, 'bad_request', what);
    assert.ok(Number.isInteger(e.detail.line) && Number.isInteger(e.detail.column), what);
  }
  // In a key, too; and escaped lone surrogates and NUL are refused as well.
  assertError(await post('/api/v1/users', Buffer.concat([Buffer.from('{"'), Buffer.from('ff', 'hex'), Buffer.from('":1}')])), 400, 'bad_request');
  assertError(await post('/api/v1/users', '{"login":"x1","name":"\\ud800","role":"msl"}'), 400, 'bad_request');
  assertError(await post('/api/v1/users', '{"login":"x1","name":"a\\u0000b","role":"msl"}'), 400, 'bad_request');
  const list = await srv.api('GET', '/api/v1/users?q=utf8bad', { token: srv.adminToken });
  assert.deepEqual(list.json.items, []);
});

test('a body over the route\'s cap → 413 too_large (declared length, and chunked)', async () => {
  const big = JSON.stringify({ login: 'a', password: 'x'.repeat(20 * 1024) });
  const res = await srv.api('POST', '/api/v1/auth/login', { body: big });
  const e = assertError(res, 413, 'too_large');
  assert.match(e.message, /16384/);
  const chunked = await srv.api('POST', '/api/v1/auth/login', { body: big, chunked: true });
  assertError(chunked, 413, 'too_large');
  // The tokens route caps at 4 KiB; the users route at 16 KiB.
  assertError(await post('/api/v1/tokens', JSON.stringify({ name: 'n'.repeat(5000) })), 413, 'too_large');
  assertError(await post('/api/v1/users', JSON.stringify({ login: 'big', name: 'n'.repeat(17 * 1024), role: 'msl' })), 413, 'too_large');
  // Just under the cap is read (and then judged on content).
  // (JSON whitespace pads it: every string field has its own, smaller cap.)
  const under = `{"login":"under-cap","password":"wrong-password-1"${' '.repeat(16 * 1024 - 60)}}`;
  assert.ok(under.length <= 16 * 1024 && under.length > 16 * 1024 - 20);
  assertError(await srv.api('POST', '/api/v1/auth/login', { body: under }), 401, 'invalid_credentials');
});

test('Content-Type other than application/json on a JSON route → 415', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
    const res = await post('/api/v1/tokens', '{"name":"ct"}', { headers: { 'Content-Type': ct } });
    assertError(res, 415, 'unsupported_media_type', ct);
  }
  const withCharset = await post('/api/v1/tokens', '{"name":"ct-ok"}', { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  assert.equal(withCharset.status, 201, withCharset.text);
  const list = await srv.api('GET', '/api/v1/tokens', { token: srv.adminToken });
  assert.deepEqual(list.json.items.filter((t) => t.name === 'ct').length, 0, 'no token made by a refused request');
});

test('a Content-Type that merely starts with "application/json" is not JSON → 415',
  async () => {
    for (const ct of ['application/jsonx', 'application/json-seq', 'application/jsonp; charset=utf-8']) {
      assertError(await post('/api/v1/tokens', '{"name":"ct-prefix"}', { headers: { 'Content-Type': ct } }), 415, 'unsupported_media_type', ct);
    }
  });

test('headers over 16 KiB in total → 431 headers_too_large', async () => {
  const one = await srv.api('GET', '/api/v1/me', { token: srv.adminToken, headers: { 'X-Filler': 'a'.repeat(20 * 1024) } });
  const e = assertError(one, 431, 'headers_too_large');
  assert.match(e.message, /16384/);
  const filler = {};
  for (let i = 0; i < 6; i++) filler[`X-Filler-${i}`] = 'b'.repeat(3 * 1024);
  assertError(await srv.api('GET', '/healthz', { headers: filler }), 431, 'headers_too_large', 'many headers adding up');
  const ok = await srv.api('GET', '/healthz', { headers: { 'X-Filler': 'c'.repeat(12 * 1024) } });
  assert.equal(ok.status, 200, 'headers under the cap are fine');
});

test('headers beyond the connection memory (200 KiB) are still refused with 431', async () => {
  const res = await srv.api('GET', '/healthz', { headers: { 'X-Filler': 'd'.repeat(200 * 1024) } });
  assert.equal(res.status, 431);
});

test('unknown route → 404 in the error shape; wrong method → 405 with Allow', async () => {
  assertError(await srv.api('GET', '/api/v1/nope', { token: srv.adminToken }), 404, 'not_found');
  assertError(await srv.api('GET', '/api/v2/me', { token: srv.adminToken }), 404, 'not_found');
  assertError(await srv.api('GET', '/api', { token: srv.adminToken }), 404, 'not_found');
  const m = await srv.api('PUT', '/api/v1/me', { token: srv.adminToken, body: {} });
  assertError(m, 405, 'method_not_allowed');
  assert.equal(m.headers.allow, 'GET');
  const m2 = await srv.api('PATCH', '/api/v1/tokens/5', { token: srv.adminToken, body: {} });
  assertError(m2, 405, 'method_not_allowed');
  assert.equal(m2.headers.allow, 'DELETE');
  const m3 = await srv.api('DELETE', '/api/v1/auth/login');
  assertError(m3, 405, 'method_not_allowed');
  assert.equal(m3.headers.allow, 'POST');
});

test('GET on a POST-only API route → 405 with Allow, not the static catch-all\'s 404',
  async () => {
    for (const p of ['/api/v1/auth/login', '/api/v1/auth/logout']) {
      const res = await srv.api('GET', p, { token: srv.adminToken });
      assertError(res, 405, 'method_not_allowed', p);
      assert.equal(res.headers.allow, 'POST');
    }
  });

test('invalid UTF-8 in the path or a query parameter → 400', async () => {
  assertError(await srv.api('GET', '/api/v1/users/%FF', { token: srv.adminToken }), 400, 'bad_request');
  assertError(await srv.api('GET', '/%FF%FE', {}), 400, 'bad_request');
  const q = assertError(await srv.api('GET', '/api/v1/users?q=%FF', { token: srv.adminToken }), 400, 'bad_request');
  assert.equal(q.detail.field, 'q');
  const a = assertError(await srv.api('GET', '/api/v1/audit?user=%E4%B8', { token: srv.adminToken }), 400, 'bad_request');
  assert.equal(a.detail.field, 'user');
});

test('bad query values → 400 naming the parameter', async () => {
  const t = srv.adminToken;
  for (const [p, f] of [['/api/v1/users?limit=0', 'limit'], ['/api/v1/users?limit=abc', 'limit'], ['/api/v1/users?cursor=abc', 'cursor'],
    ['/api/v1/audit?from=yesterday', 'from'], ['/api/v1/audit?to=2026-13-45', 'to'],
    ['/api/v1/audit?from=2026-01-02&to=2026-01-01', 'to'], ['/api/v1/audit/summary?days=0', 'days'],
    ['/api/v1/audit/summary?days=367', 'days'], ['/api/v1/audit/summary?days=x', 'days']]) {
    const e = assertError(await srv.api('GET', p, { token: t }), 400, 'bad_request', p);
    assert.equal(e.detail.field, f, p);
  }
});

test('after all of that the server is healthy and its audit chain intact', async () => {
  const h = await srv.api('GET', '/healthz');
  assert.equal(h.status, 200);
  const v = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
  assert.equal(v.json.ok, true, v.text);
});

// The audit trail as compliance reads it: every write and login leaves a
// record; filters by action (or prefix), user, entity, entity_id and time;
// newest first with cursor paging; per-day summary; the chain verifies.
// (Tampering with the rows is in audit-tamper.test.mjs.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, newPassword, uniqueLogin } from './harness.mjs';

let srv;
let rep; // a field_rep made through the API
const expected = new Map(); // request id → what its audit record must say

before(async () => {
  srv = await startServer();
  const t = srv.adminToken;
  const call = async (rid, method, path, opts, want) => {
    const res = await srv.api(method, path, { ...opts, headers: { ...(opts.headers || {}), 'X-Request-Id': rid } });
    if (want) expected.set(rid, { ...want, status: want.status ?? res.status });
    return res;
  };
  const login = uniqueLogin('audrep');
  const pw = newPassword();
  let res = await call('rid-user-create', 'POST', '/api/v1/users', { token: t, body: { login, name: 'Audit Rep', role: 'field_rep', password: pw } },
    { action: 'user.create', entity: 'user', user: srv.adminLogin, role: 'admin', status: 201 });
  assert.equal(res.status, 201, res.text);
  rep = { ...res.json, password: pw };
  expected.get('rid-user-create').entity_id = String(rep.id);
  res = await call('rid-user-update', 'PATCH', `/api/v1/users/${rep.id}`, { token: t, body: { name: 'Audit Rep 2' } },
    { action: 'user.update', entity: 'user', entity_id: String(rep.id), user: srv.adminLogin, status: 200 });
  assert.equal(res.status, 200);
  res = await call('rid-user-read', 'GET', `/api/v1/users/${rep.id}`, { token: t },
    { action: 'user.read', entity: 'user', entity_id: String(rep.id), user: srv.adminLogin, status: 200 });
  assert.equal(res.status, 200);
  res = await call('rid-user-list', 'GET', '/api/v1/users', { token: t },
    { action: 'user.list', entity: 'user', user: srv.adminLogin, status: 200 });
  assert.equal(res.status, 200);
  res = await call('rid-token-create', 'POST', '/api/v1/tokens', { token: t, body: { name: 'audited' } },
    { action: 'token.create', entity: 'token', user: srv.adminLogin, status: 201 });
  assert.equal(res.status, 201);
  const tokId = res.json.id;
  expected.get('rid-token-create').entity_id = String(tokId);
  res = await call('rid-token-revoke', 'DELETE', `/api/v1/tokens/${tokId}`, { token: t },
    { action: 'token.revoke', entity: 'token', entity_id: String(tokId), user: srv.adminLogin, status: 204 });
  assert.equal(res.status, 204);
  res = await call('rid-login', 'POST', '/api/v1/auth/login', { body: { login, password: pw } },
    { action: 'auth.login', entity: 'user', entity_id: String(rep.id), user: login, role: 'field_rep', status: 200 });
  assert.equal(res.status, 200);
  const session = { cookie: [].concat(res.headers['set-cookie'])[0].split(';')[0], csrf: res.json.csrf_token };
  res = await call('rid-denied', 'GET', '/api/v1/audit', { session },
    { action: 'access.denied', entity: 'route', entity_id: '/api/v1/audit', user: login, role: 'field_rep', status: 403 });
  assert.equal(res.status, 403);
  res = await call('rid-session-token', 'POST', '/api/v1/tokens', { session, csrf: true, body: { name: 'rep-token' } },
    { action: 'token.create', entity: 'token', user: login, role: 'field_rep', status: 201 });
  assert.equal(res.status, 201);
  res = await call('rid-logout', 'POST', '/api/v1/auth/logout', { session, csrf: true },
    { action: 'auth.logout', entity: 'user', entity_id: String(rep.id), user: login, status: 204 });
  assert.equal(res.status, 204);
  res = await call('rid-login-failed', 'POST', '/api/v1/auth/login', { body: { login, password: 'wrong-password-7' } },
    { action: 'auth.login_failed', entity: 'user', user: login, status: 401 });
  assert.equal(res.status, 401);
  res = await call('rid-audit-search', 'GET', '/api/v1/audit?limit=1', { token: t },
    { action: 'audit.search', entity: 'audit', user: srv.adminLogin, status: 200 });
  assert.equal(res.status, 200);
  // Refused writes leave no write record.
  res = await call('rid-conflict', 'POST', '/api/v1/users', { token: t, body: { login, name: 'Again', role: 'msl', password: pw } });
  assert.equal(res.status, 409);
  res = await call('rid-bad', 'POST', '/api/v1/users', { token: t, body: { login: 'x y', name: 'Bad', role: 'msl' } });
  assert.equal(res.status, 400);
});
after(async () => { await srv?.stop(); });

async function all(query = '') {
  const res = await srv.api('GET', `/api/v1/audit?limit=500${query ? `&${query}` : ''}`, { token: srv.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.json.items;
}

const ITEM_KEYS = ['action', 'entity', 'entity_id', 'ip', 'request_id', 'role', 'seq', 'status', 'ts', 'user', 'user_id'];

test('every write and login leaves exactly one record with who, what, entity, status and request id', async () => {
  const items = await all();
  for (const it of items) assert.deepEqual(Object.keys(it).sort(), ITEM_KEYS);
  for (const [rid, want] of expected) {
    const recs = items.filter((i) => i.request_id === rid);
    assert.equal(recs.length, 1, `${rid}: one record, got ${JSON.stringify(recs)}`);
    const r = recs[0];
    for (const [k, v] of Object.entries(want)) assert.equal(r[k], v, `${rid}.${k}: ${JSON.stringify(r)}`);
    assert.equal(r.ip, '127.0.0.1', rid);
    assert.ok(!Number.isNaN(Date.parse(r.ts)), r.ts);
  }
  for (const rid of ['rid-conflict', 'rid-bad']) {
    assert.equal(items.filter((i) => i.request_id === rid).length, 0, `${rid}: a refused write leaves no record`);
  }
  // user.create / user.update carry digests of the account before and after.
  const digests = await srv.sql(`SELECT action, before_digest IS NULL, after_digest IS NULL FROM audit_log WHERE request_id IN ('rid-user-create', 'rid-user-update') ORDER BY seq`);
  const rows = digests.split('\n').map((l) => l.split('|'));
  assert.equal(rows.length, 2, digests);
  assert.deepEqual(rows[0].slice(0, 1), ['user.create']);
  assert.ok(['1', 't'].includes(rows[0][1]) && ['0', 'f'].includes(rows[0][2]), `create: no before, an after: ${digests}`);
  assert.ok(['0', 'f'].includes(rows[1][1]) && ['0', 'f'].includes(rows[1][2]), `update: before and after: ${digests}`);
});

test('records are newest first, with dense sequence numbers', async () => {
  const items = await all();
  const seqs = items.map((i) => i.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] - 1, `dense, descending: ${seqs}`);
  assert.equal(seqs.at(-1), 1);
  const ts = items.map((i) => Date.parse(i.ts));
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i] <= ts[i - 1], 'time never goes backwards along the chain');
});

test('paging: limit=2 walks next_cursor and sees every record exactly once, in order', async () => {
  const full = await all('entity=user');
  assert.ok(full.length > 5, `enough records: ${full.length}`);
  const walked = [];
  let cursor = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 100);
    const res = await srv.api('GET', `/api/v1/audit?entity=user&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: srv.adminToken });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.items.length <= 2);
    walked.push(...res.json.items);
    cursor = res.json.next_cursor;
    if (cursor === null) break;
    assert.equal(typeof cursor, 'string');
    assert.equal(res.json.items.length, 2);
  }
  assert.deepEqual(walked.map((i) => i.seq), full.map((i) => i.seq));
});

test('filters: action (exact and prefix), user, entity, entity_id', async () => {
  const creates = await all('action=user.create');
  assert.ok(creates.length >= 2, 'the harness admin (cli) and the API-made user');
  assert.ok(creates.every((i) => i.action === 'user.create'));
  const userPrefix = await all(`action=${encodeURIComponent('user.')}`);
  assert.deepEqual([...new Set(userPrefix.map((i) => i.action))].sort(), ['user.create', 'user.list', 'user.read', 'user.update']);
  const authPrefix = await all('action=auth.');
  assert.deepEqual([...new Set(authPrefix.map((i) => i.action))].sort(), ['auth.login', 'auth.login_failed', 'auth.logout']);
  assert.deepEqual(await all('action=user'), [], 'no prefix match without the dot');

  const byRep = await all(`user=${rep.login}`);
  assert.deepEqual(byRep.map((i) => i.action).sort(), ['access.denied', 'auth.login', 'auth.login_failed', 'auth.logout', 'token.create'].sort());
  assert.ok(byRep.every((i) => i.user === rep.login));

  const tokens = await all('entity=token');
  assert.ok(tokens.length >= 4 && tokens.every((i) => i.entity === 'token'), JSON.stringify(tokens));
  const aboutRep = await all(`entity=user&entity_id=${rep.id}`);
  assert.deepEqual(aboutRep.map((i) => i.action).sort(), ['auth.login', 'auth.logout', 'user.create', 'user.read', 'user.update'].sort());
  const combined = await all(`entity=user&entity_id=${rep.id}&user=${srv.adminLogin}&action=user.update`);
  assert.equal(combined.length, 1);
  assert.equal(combined[0].request_id, 'rid-user-update');
  assert.deepEqual(await all('user=nobody-at-all'), []);
});

test('filters: from and to (RFC 3339 or a date), half-open [from, to)', async () => {
  const items = await all('entity=user');
  const pivot = items[Math.floor(items.length / 2)];
  const enc = encodeURIComponent;
  const from = await all(`entity=user&from=${enc(pivot.ts)}`);
  assert.deepEqual(from.map((i) => i.seq), items.filter((i) => Date.parse(i.ts) >= Date.parse(pivot.ts)).map((i) => i.seq));
  assert.ok(from.some((i) => i.seq === pivot.seq), 'from is inclusive');
  const to = await all(`entity=user&to=${enc(pivot.ts)}`);
  assert.ok(!to.some((i) => i.seq === pivot.seq), 'to is exclusive');
  assert.equal(from.length + to.length, items.length, 'from and to split the records');
  // The same instant written in +08:00.
  const d = new Date(Date.parse(pivot.ts) + 8 * 3600e3);
  const frac = pivot.ts.match(/\.(\d+)Z$/)?.[1] ?? '';
  const local = `${d.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}+08:00`;
  assert.deepEqual((await all(`entity=user&from=${enc(local)}`)).map((i) => i.seq), from.map((i) => i.seq));
  // Dates, far past and far future.
  assert.equal((await all('entity=user&from=2000-01-01')).length, items.length);
  assert.deepEqual(await all('entity=user&from=2999-01-01'), []);
  assert.deepEqual(await all('entity=user&to=2000-01-01'), []);
  assertError(await srv.api('GET', '/api/v1/audit?from=2026-01-01T00:00:00', { token: srv.adminToken }), 400, 'bad_request', 'a time without a zone');
});

test('GET /api/v1/audit/summary?days=3: three days, totals matching the records', async () => {
  const localDate = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const dayBefore = localDate();
  const res = await srv.api('GET', '/api/v1/audit/summary?days=3', { token: srv.adminToken });
  assert.equal(res.status, 200, res.text);
  const dayAfter = localDate();
  const items = await all(); // fetched after the summary; its own audit.search comes after the read
  const { days } = res.json;
  assert.equal(days.length, 3);
  assert.equal(res.json.zone, '+08:00');
  assert.ok([dayBefore, dayAfter].includes(days[2].date), `the last day is today in +08:00: ${days[2].date}`);
  for (let i = 1; i < 3; i++) {
    assert.equal(Date.parse(`${days[i].date}T00:00:00Z`) - Date.parse(`${days[i - 1].date}T00:00:00Z`), 86400e3, 'consecutive days');
  }
  let total = 0;
  const perAction = {};
  for (const d of days) {
    assert.deepEqual(Object.keys(d).sort(), ['by_action', 'date', 'total']);
    const sum = Object.values(d.by_action).reduce((a, b) => a + b, 0);
    assert.equal(d.total, sum, `${d.date}: total is the sum by action`);
    total += d.total;
    for (const [a, n] of Object.entries(d.by_action)) perAction[a] = (perAction[a] || 0) + n;
  }
  assert.equal(total, items.length, 'every record is in the last 3 days');
  const counted = {};
  for (const i of items) counted[i.action] = (counted[i.action] || 0) + 1;
  assert.deepEqual(perAction, counted);
  // Records fall on the day of their time in +08:00.
  for (const d of days) {
    const n = items.filter((i) => new Date(Date.parse(i.ts) + 8 * 3600e3).toISOString().slice(0, 10) === d.date).length;
    assert.equal(d.total, n, d.date);
  }
  const def = await srv.api('GET', '/api/v1/audit/summary', { token: srv.adminToken });
  assert.equal(def.json.days.length, 14, 'the default is 14 days');
  assert.equal((await srv.api('GET', '/api/v1/audit/summary?days=366', { token: srv.adminToken })).json.days.length, 366);
});

test('GET /api/v1/audit/verify → ok true with the record count; `audit verify` prints OK and exits 0', async () => {
  const v = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
  assert.equal(v.status, 200, v.text);
  assert.deepEqual(Object.keys(v.json).sort(), ['ok', 'records']);
  assert.equal(v.json.ok, true);
  const items = await all();
  assert.equal(v.json.records, items.length);
  // The list's own audit.search is committed within --read-audit-ms (20 ms) after its answer went
  // out; on a loaded machine the CLI can start sooner than that, so look again briefly.
  let cli;
  for (let attempt = 0; attempt < 20; attempt++) {
    cli = await srv.cli(['audit', 'verify']);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /^OK (\d+) records\n$/);
    if (Number(/^OK (\d+)/.exec(cli.stdout)[1]) > items.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(Number(/^OK (\d+)/.exec(cli.stdout)[1]), items.length + 1, 'the list just made added its own audit.search');
  // Compliance may verify too.
  const officer = await createUser(srv, { role: 'compliance' });
  const ctok = await srv.token(officer.login);
  const cv = await srv.api('GET', '/api/v1/audit/verify', { token: ctok });
  assert.equal(cv.status, 200);
  assert.equal(cv.json.ok, true);
});

// The audit chain against tampering done directly in SQL: each case on its
// own fresh server and database. `medreach audit verify` must exit 1 and
// print "BAD seq N" naming the first bad record, and GET /api/v1/audit/verify
// must report the same first_bad_seq.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.mjs';

/** A fresh server with a short history of distinct actions; resolves {srv, rows: [{seq, action}]}. */
async function withHistory(t) {
  const srv = await startServer();
  t.after(() => srv.stop());
  const tok = srv.adminToken;
  const ok = (res, status) => assert.equal(res.status, status, res.text);
  const a = await srv.api('POST', '/api/v1/tokens', { token: tok, body: { name: 'one' } });
  ok(a, 201);
  ok(await srv.api('GET', '/api/v1/users', { token: tok }), 200);
  ok(await srv.api('DELETE', `/api/v1/tokens/${a.json.id}`, { token: tok }), 204);
  ok(await srv.api('GET', '/api/v1/users/1', { token: tok }), 200);
  ok(await srv.api('GET', '/api/v1/audit?limit=1', { token: tok }), 200);
  ok(await srv.api('POST', '/api/v1/tokens', { token: tok, body: { name: 'two' } }), 201);
  ok(await srv.api('PATCH', '/api/v1/users/1', { token: tok, body: { name: 'Chief' } }), 200);
  const rows = await auditRows(srv);
  assert.equal(rows.length, 9, JSON.stringify(rows));
  rows.forEach((r, i) => assert.equal(r.seq, i + 1));
  // Untouched, it verifies.
  const cli = await srv.cli(['audit', 'verify']);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.equal(cli.stdout, 'OK 9 records\n');
  const api = await srv.api('GET', '/api/v1/audit/verify', { token: tok });
  assert.deepEqual(api.json, { ok: true, records: 9 });
  return { srv, rows };
}

async function auditRows(srv) {
  const out = await srv.sql('SELECT seq, action FROM audit_log ORDER BY seq');
  return out.split('\n').map((l) => {
    const [seq, action] = l.split('|');
    return { seq: Number(seq), action };
  });
}

/** Asserts both verifiers name badSeq as the first bad record. */
async function expectBad(srv, badSeq) {
  const cli = await srv.cli(['audit', 'verify']);
  assert.equal(cli.code, 1, `audit verify must exit 1:\n${cli.stdout}${cli.stderr}`);
  assert.match(cli.stdout, new RegExp(`^BAD seq ${badSeq}: .+ \\(${badSeq - 1} records verified before it\\)\\n$`), cli.stdout);
  const api = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
  assert.equal(api.status, 200, api.text);
  assert.equal(api.json.ok, false, api.text);
  assert.equal(api.json.first_bad_seq, badSeq, api.text);
  assert.equal(api.json.records, badSeq - 1);
  assert.equal(typeof api.json.reason, 'string');
  assert.ok(api.json.reason.length > 0);
  return { cli, api };
}

test('tamper: UPDATE one row\'s action → BAD seq of exactly that row', async (t) => {
  const { srv, rows } = await withHistory(t);
  const victim = rows[4];
  await srv.sql(`UPDATE audit_log SET action = 'user.delete' WHERE seq = ${victim.seq}`);
  await expectBad(srv, victim.seq);
});

test('tamper: UPDATE a row\'s time, actor or status (each) → BAD seq of that row', async (t) => {
  const { srv, rows } = await withHistory(t);
  const cases = [
    ['ts', 'ts = ts + 1', rows[2].seq],
    ['login', "login = 'someone-else'", rows[3].seq],
    ['status', 'status = 500', rows[5].seq],
    ['entity_id', "entity_id = '424242'", rows[6].seq],
  ];
  for (const [what, set, seq] of cases) {
    const before = await srv.sql(`SELECT ts, login, status, entity_id FROM audit_log WHERE seq = ${seq}`);
    await srv.sql(`UPDATE audit_log SET ${set} WHERE seq = ${seq}`);
    const { cli } = await expectBad(srv, seq);
    assert.match(cli.stdout, /altered|hash/, what);
    // Put it back: the chain verifies again, so the next case starts clean.
    const [ts, login, status, entityId] = before.split('|');
    const q = (v) => (v === '' ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
    await srv.sql(`UPDATE audit_log SET ts = ${ts}, login = ${q(login)}, status = ${status}, entity_id = ${q(entityId)} WHERE seq = ${seq}`);
    const ok = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
    assert.deepEqual(ok.json, { ok: true, records: 9 }, `${what} restored: ${ok.text}`);
  }
});

test('tamper: DELETE a middle row → BAD seq names the missing one', async (t) => {
  const { srv, rows } = await withHistory(t);
  const victim = rows[3];
  await srv.sql(`DELETE FROM audit_log WHERE seq = ${victim.seq}`);
  const { cli } = await expectBad(srv, victim.seq);
  assert.match(cli.stdout, /missing/);
});

test('tamper: DELETE the first row → BAD seq 1', async (t) => {
  const { srv } = await withHistory(t);
  await srv.sql('DELETE FROM audit_log WHERE seq = 1');
  await expectBad(srv, 1);
});

test('tamper: DELETE the last row → BAD seq names it', async (t) => {
  const { srv, rows } = await withHistory(t);
  const last = rows.at(-1);
  await srv.sql(`DELETE FROM audit_log WHERE seq = ${last.seq}`);
  const { cli } = await expectBad(srv, last.seq);
  assert.match(cli.stdout, /missing/);
});

test('tamper: swap the action of two rows → BAD seq names the first of them', async (t) => {
  const { srv, rows } = await withHistory(t);
  const i = rows[2];
  const j = rows.slice(3).find((r) => r.action !== i.action);
  assert.ok(j, 'two rows with different actions');
  await srv.sql(`UPDATE audit_log SET action = CASE seq WHEN ${i.seq} THEN '${j.action}' ELSE '${i.action}' END WHERE seq IN (${i.seq}, ${j.seq})`);
  const after = await auditRows(srv);
  assert.equal(after[i.seq - 1].action, j.action, 'swapped');
  await expectBad(srv, i.seq);
});

test('tamper: reorder — swap two whole records (every column but seq) → BAD seq names the first', async (t) => {
  const { srv, rows } = await withHistory(t);
  const [i, j] = [rows[3].seq, rows[6].seq];
  await srv.sql(`UPDATE audit_log SET seq = -1 WHERE seq = ${i}`);
  await srv.sql(`UPDATE audit_log SET seq = ${i} WHERE seq = ${j}`);
  await srv.sql(`UPDATE audit_log SET seq = ${j} WHERE seq = -1`);
  const after = await auditRows(srv);
  assert.equal(after[i - 1].action, rows[j - 1].action);
  assert.equal(after[j - 1].action, rows[i - 1].action);
  await expectBad(srv, i);
});

test('tamper: INSERT a forged row at the end → detected at its seq', async (t) => {
  const { srv, rows } = await withHistory(t);
  const last = rows.at(-1).seq;
  // A plausible forgery: linked to the real last record, copying its columns.
  await srv.sql('INSERT INTO audit_log (seq, ts, user_id, login, role, action, entity, entity_id, request_id, ip, status,'
    + ' before_digest, after_digest, prev_hash, hash)'
    + ` SELECT seq + 1, ts + 1, user_id, login, role, 'user.delete', entity, entity_id, request_id, ip, status,`
    + ` before_digest, after_digest, hash, hash FROM audit_log WHERE seq = ${last}`);
  await expectBad(srv, last + 1);
});

test('tamper: INSERT a forged row in the middle (shifting the rest) → detected at its seq', async (t) => {
  const { srv } = await withHistory(t);
  // Make room at seq 5 by moving 5..9 up by one, from the top down.
  for (let s = 9; s >= 5; s--) await srv.sql(`UPDATE audit_log SET seq = ${s + 1} WHERE seq = ${s}`);
  await srv.sql('INSERT INTO audit_log (seq, ts, user_id, login, role, action, entity, entity_id, request_id, ip, status,'
    + ' before_digest, after_digest, prev_hash, hash)'
    + " SELECT 5, ts, user_id, login, role, 'user.create', entity, entity_id, request_id, ip, status,"
    + ' before_digest, after_digest, hash, prev_hash FROM audit_log WHERE seq = 4');
  await expectBad(srv, 5);
});

test('tamper: cut the last row and rewind the head to the row before → still detected', async (t) => {
  const { srv, rows } = await withHistory(t);
  const last = rows.at(-1).seq;
  await srv.sql(`DELETE FROM audit_log WHERE seq = ${last}`);
  await srv.sql(`UPDATE audit_head SET seq = ${last - 1}, hash = (SELECT hash FROM audit_log WHERE seq = ${last - 1}) WHERE id = 1`);
  const cli = await srv.cli(['audit', 'verify']);
  assert.equal(cli.code, 1, cli.stdout);
  assert.match(cli.stdout, /^BAD seq \d+: /);
  const api = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
  assert.equal(api.json.ok, false, api.text);
});

test('after tampering, new records still append, and verify keeps naming the first bad one', async (t) => {
  const { srv, rows } = await withHistory(t);
  const victim = rows[1];
  await srv.sql(`UPDATE audit_log SET action = 'forged' WHERE seq = ${victim.seq}`);
  const w = await srv.api('POST', '/api/v1/tokens', { token: srv.adminToken, body: { name: 'after' } });
  assert.equal(w.status, 201, 'the server keeps working');
  await expectBad(srv, victim.seq);
});

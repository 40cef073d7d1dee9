// Many writers at once: API requests in parallel (group commit), with the
// command line writing to the same database meanwhile. Every write must be
// answered after its commit, and the audit chain must stay dense and valid.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

function metric(text, name) {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

test('40 parallel API writes and 4 CLI writes: all committed, audit chain dense and valid', async () => {
  const before = (await srv.api('GET', '/metrics')).text;
  const writesBefore = metric(before, 'medreach_writer_writes_total');
  const N = 40;
  const api = Array.from({ length: N }, (_, i) => srv.api('POST', '/api/v1/tokens', {
    token: srv.adminToken, body: { name: `par-${i}` }, headers: { 'X-Request-Id': `par-${i}` },
  }));
  const cli = Array.from({ length: 4 }, (_, i) => srv.cli(['token', 'create', srv.adminLogin, '--name', `cli-${i}`]));
  const [resps, clis] = await Promise.all([Promise.all(api), Promise.all(cli)]);
  for (const r of resps) assert.equal(r.status, 201, r.text);
  for (const c of clis) assert.equal(c.code, 0, c.stderr);
  const ids = resps.map((r) => r.json.id);
  assert.equal(new Set(ids).size, N, 'distinct ids');

  // Each answered write is visible at once (committed before its 2xx).
  const list = await srv.api('GET', '/api/v1/tokens', { token: srv.adminToken });
  const names = new Set(list.json.items.map((t) => t.name));
  for (let i = 0; i < N; i++) assert.ok(names.has(`par-${i}`), `par-${i}`);
  for (let i = 0; i < 4; i++) assert.ok(names.has(`cli-${i}`), `cli-${i}`);
  for (const r of resps) {
    assert.equal((await srv.api('GET', '/api/v1/me', { token: r.json.token })).status, 200);
  }

  // One audit record per write, the sequence dense, the chain valid.
  const audit = await srv.api('GET', '/api/v1/audit?action=token.create&limit=500', { token: srv.adminToken });
  const rids = audit.json.items.map((i) => i.request_id).filter((r) => r && r.startsWith('par-'));
  assert.equal(rids.length, N);
  assert.equal(new Set(rids).size, N);
  assert.equal(audit.json.items.filter((i) => i.user === 'cli').length, 4 + 1, 'the 4 CLI tokens and the harness\'s');
  const seqs = (await srv.sql('SELECT seq FROM audit_log ORDER BY seq')).split('\n').map(Number);
  seqs.forEach((s, i) => assert.equal(s, i + 1, 'dense sequence'));
  const v = await srv.api('GET', '/api/v1/audit/verify', { token: srv.adminToken });
  assert.deepEqual(v.json, { ok: true, records: seqs.length }, v.text);
  const c = await srv.cli(['audit', 'verify']);
  assert.equal(c.code, 0, c.stdout);

  const afterText = (await srv.api('GET', '/metrics')).text;
  assert.ok(metric(afterText, 'medreach_writer_writes_total') >= writesBefore + N, 'the writes went through the writer');
  assert.equal(metric(afterText, 'medreach_writer_failed_total'), 0);
  assert.ok(metric(afterText, 'medreach_writer_max_batch') >= 1);
});

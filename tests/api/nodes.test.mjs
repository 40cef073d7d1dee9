// Two `medreach serve` processes on one database (PostgreSQL: two nodes; SQLite: two processes on one
// file): an event posted to one is reflected, within 1 s, in the other's segment counts and in its
// tags; a tag defined on one is evaluated by the other. Each node follows the other's writes through
// the log (its follower reads what others appended every 250 ms).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startServer, request, freePort, sleep, BIN, ROOT } from './harness.mjs';

let a;          // the harness's server (node A)
let b = null;   // {url, proc} node B, on the same database and key
let logB = '';

async function call(url, method, p, body) {
  return request(url, method, p, { headers: { Authorization: `Bearer ${a.adminToken}` }, body });
}

/** Polls fn until it returns true; resolves with the ms it took, or fails after ms. */
async function within(ms, what, fn) {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

before(async () => {
  a = await startServer();
  const demo = await a.cli(['demo', '--hcps', '500', '--seed', '3', '--history-days', '30']);
  assert.equal(demo.code, 0, demo.stderr);
  const port = await freePort();
  const env = { ...process.env, MEDREACH_KEY_FILE: path.join(a.dir, 'key'), MEDREACH_LOG_LEVEL: 'warn' };
  const proc = spawn(BIN, ['serve', '--db', a.db, '--listen', `127.0.0.1:${port}`, '--web', path.join(ROOT, 'web')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => { logB += d; });
  proc.stderr.on('data', (d) => { logB += d; });
  b = { url: `http://127.0.0.1:${port}`, proc };
  // both engines answer
  for (const url of [a.url, b.url]) {
    await within(30000, `the engine of ${url}`, async () => {
      try {
        return (await call(url, 'POST', '/api/v1/segments/count', { expr: 'true' })).status === 200;
      } catch {
        return false;
      }
    });
  }
});

after(async () => {
  if (b && b.proc.exitCode === null) {
    const exited = new Promise((r) => b.proc.once('exit', r));
    b.proc.kill('SIGTERM');
    await exited;
  }
  if (a) await a.stop();
});

test('an event posted to one node is in the other\'s segment counts and tags within 1 s', async (t) => {
  const doc = (await a.sql("SELECT ext_id FROM hcps WHERE ext_id LIKE 'D%' AND deleted_at IS NULL AND merged_into IS NULL ORDER BY id LIMIT 1")).trim();
  const expr = 'count(campaign = "TWO-NODES", 1d) >= 2';
  // a tag defined on A, evaluated by B
  const put = await call(a.url, 'PUT', '/api/v1/tags/two_nodes', { expr, description: 'two-node test', category: 'test' });
  assert.ok([200, 201].includes(put.status), put.text);
  await within(1000, 'the tag on B', async () => (await call(b.url, 'GET', '/api/v1/tags/two_nodes')).status === 200);
  for (const url of [a.url, b.url]) assert.equal((await call(url, 'POST', '/api/v1/segments/count', { expr })).json.count, 0);

  const lags = [];
  for (let i = 1; i <= 2; i++) {
    const ev = { id: `two-nodes-${i}`, ts: new Date().toISOString(), hcp: doc, channel: 'email', outcome: 'sent', campaign: 'TWO-NODES' };
    const r = await request(a.url, 'POST', '/api/v1/events', {
      headers: { Authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(ev)}\n`,
    });
    assert.equal(r.status, 200, r.text);
  }
  // node B: the segment counts it, and the tag turned true
  lags.push(await within(1000, 'the segment count on B', async () =>
    (await call(b.url, 'POST', '/api/v1/segments/count', { expr })).json.count === 1));
  lags.push(await within(1000, 'the tag on B', async () => {
    const tags = (await call(b.url, 'GET', `/api/v1/hcps/${doc}/tags`)).json;
    const tg = (tags.items || []).find((x) => x.name === 'two_nodes');
    return tg && tg.value === true;
  }));
  assert.equal((await call(b.url, 'POST', '/api/v1/segments/count', { expr: 'two_nodes' })).json.count, 1);
  // and the other way round: an event posted to B reaches A
  const ev = { id: 'two-nodes-b', ts: new Date().toISOString(), hcp: doc, channel: 'email', outcome: 'sent', campaign: 'FROM-B' };
  const r = await request(b.url, 'POST', '/api/v1/events', {
    headers: { Authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(ev)}\n`,
  });
  assert.equal(r.status, 200, `${r.text}\n${logB}`);
  lags.push(await within(1000, 'the segment count on A', async () =>
    (await call(a.url, 'POST', '/api/v1/segments/count', { expr: 'exists(campaign = "FROM-B", 1d)' })).json.count === 1));
  t.diagnostic(`${a.backend}: visible on the other node after ${lags.join(', ')} ms`);
});

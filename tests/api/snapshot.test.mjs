// The event index's snapshot file: a server stopped gracefully writes it, and
// the next start takes the index from it and reads from the store only what
// was stored after (a SIGKILL in between, events written meanwhile). What
// the restarted server shows — timelines, duplicate detection, segment
// counts — is what the store holds. A damaged snapshot is ignored (the log
// says why) and the index is read from the store; --snapshot off writes none.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startServer } from './harness.mjs';

const NDJSON = { 'Content-Type': 'application/x-ndjson' };
const HCPS = 20;
const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

let srv;
before(async () => {
  srv = await startServer();
  const hcps = [['id', 'name', 'specialty']];
  for (let i = 0; i < HCPS; i++) hcps.push([`S${i}`, `医生${i}`, i % 2 ? 'cardiology' : 'endocrinology']);
  const imp = await srv.api('POST', '/api/v1/hcps/import', { token: srv.adminToken, body: csv(hcps), headers: { 'Content-Type': 'text/csv' } });
  assert.equal(imp.status, 200, imp.text);
});
after(async () => { await srv?.stop(); });

/** n events with ids prefix-0.. spread over the doctors, WeChat responses on even doctors. */
function batch(prefix, n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const ts = new Date(Date.now() - (i + 1) * 3600e3).toISOString();
    const [channel, outcome] = i % 2 ? ['phone', 'answered'] : ['wechat', 'responded'];
    lines.push(JSON.stringify({ id: `${prefix}-${i}`, ts, hcp: `S${i % HCPS}`, channel, outcome }));
  }
  return `${lines.join('\n')}\n`;
}

async function post(body) {
  const r = await srv.api('POST', '/api/v1/events', { token: srv.adminToken, body, headers: NDJSON });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** The index's gauges from /metrics. */
async function gauges() {
  const r = await fetch(`${srv.url}/metrics`);
  const text = await r.text();
  const g = (name) => Number((text.match(new RegExp(`^${name} (\\S+)$`, 'm')) || [])[1]);
  return {
    events: g('medreach_events_in_memory'),
    restored: g('medreach_event_index_restored_events'),
    loaded: g('medreach_event_index_loaded_events'),
    snapshotSeq: g('medreach_event_index_snapshot_seq'),
  };
}

/** Waits until the index has loaded (its count equals the store's). */
async function loaded() {
  const want = Number(await srv.sql('SELECT COUNT(*) FROM events'));
  for (let i = 0; i < 100; i++) {
    const g = await gauges();
    if (g.events === want) return g;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the index did not load the store's ${want} events`);
}

const snapshotFile = () => {
  const f = readdirSync(srv.dir).find((n) => n.endsWith('.snapshot'));
  return f ? path.join(srv.dir, f) : null;
};

/** The whole timeline of doctor S{i} as event ids, sorted. */
async function timeline(i) {
  const ids = [];
  let cursor = null;
  do {
    const tl = await srv.api('GET', `/api/v1/hcps/S${i}/timeline?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token: srv.adminToken });
    assert.equal(tl.status, 200, tl.text);
    ids.push(...tl.json.items.map((it) => it.id));
    cursor = tl.json.next_cursor;
  } while (cursor);
  return ids.sort();
}

async function storedTimeline(i) {
  const rows = await srv.sql(`SELECT e.eid FROM events e JOIN hcps h ON h.id = e.hcp_id WHERE h.ext_id = 'S${i}' ORDER BY e.eid`);
  return rows.split('\n').filter(Boolean).sort();
}

async function count(expr) {
  const r = await srv.api('POST', '/api/v1/segments/count', { token: srv.adminToken, body: { expr } });
  assert.equal(r.status, 200, r.text);
  return r.json.count;
}

test('a graceful stop writes the snapshot; the restart takes the index from it and reads only what came after', async () => {
  const first = await post(batch('a', 400));
  assert.equal(first.accepted, 400);
  await loaded();
  const expr = 'count(channel = "wechat" and outcome = "responded", 30d) >= 10';
  const before = await count(expr);
  assert.ok(before > 0, 'the segment has members');

  await srv.kill('SIGTERM');
  const file = snapshotFile();
  assert.ok(file, 'the stop wrote a snapshot beside the database');
  await srv.restart();
  let g = await loaded();
  assert.deepEqual([g.restored, g.loaded], [400, 0], 'everything from the snapshot, nothing read from the store');
  assert.match(srv.logs(), /event=snapshot_restored .*events=400/);
  assert.equal(await count(expr), before, 'the same segment count');
  assert.deepEqual(await timeline(3), await storedTimeline(3));
  const again = await post(batch('a', 400));
  assert.deepEqual([again.accepted, again.duplicates], [0, 400], 'the restored id set knows every stored event');

  // events stored after the snapshot, then a SIGKILL: no new snapshot, the old one plus the store
  const more = await post(batch('b', 120));
  assert.equal(more.accepted, 120);
  await srv.kill('SIGKILL');
  await srv.restart();
  g = await loaded();
  assert.deepEqual([g.restored, g.loaded], [400, 120]);
  for (const i of [0, 7, 19]) assert.deepEqual(await timeline(i), await storedTimeline(i), `S${i}'s timeline is the store's`);
  const dup = await post(batch('b', 120));
  assert.deepEqual([dup.accepted, dup.duplicates], [0, 120], 'events read after the snapshot are known too');
  assert.equal(await count(expr), await count(expr.replace('30d', '31d')), 'the counts settle');
});

test('a damaged snapshot is ignored with the reason in the log, and the index is read from the store', async () => {
  await srv.kill('SIGTERM'); // writes a fresh one (events came since the last)
  const file = snapshotFile();
  const bytes = readFileSync(file);
  const bad = Buffer.from(bytes);
  bad[Math.floor(bad.length / 2)] ^= 0xff;
  writeFileSync(file, bad);
  await srv.restart();
  const g = await loaded();
  assert.equal(g.restored, 0);
  assert.equal(g.loaded, g.events);
  assert.match(srv.logs(), /event=snapshot_ignored .*reason="its checksum does not match/);
  assert.deepEqual(await timeline(5), await storedTimeline(5));
  const dup = await post(batch('a', 50));
  assert.deepEqual([dup.accepted, dup.duplicates], [0, 50]);
});

test('--snapshot off writes no snapshot', async () => {
  const other = await startServer({ serveArgs: ['--snapshot', 'off'] });
  try {
    await other.api('POST', '/api/v1/hcps/import', { token: other.adminToken, body: csv([['id', 'name'], ['X1', '甲']]), headers: { 'Content-Type': 'text/csv' } });
    const r = await other.api('POST', '/api/v1/events', {
      token: other.adminToken, headers: NDJSON,
      body: `${JSON.stringify({ id: 'x-1', ts: new Date().toISOString(), hcp: 'X1', channel: 'phone', outcome: 'answered' })}\n`,
    });
    assert.equal(r.status, 200, r.text);
    await other.kill('SIGTERM');
    assert.deepEqual(readdirSync(other.dir).filter((n) => n.endsWith('.snapshot')), []);
    assert.ok(!existsSync(`${other.db.replace(/^sqlite:/, '')}.snapshot`));
  } finally {
    await other.stop();
  }
});

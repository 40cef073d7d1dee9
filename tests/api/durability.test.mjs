// Durability of ingestion, the test the events issue demands: clients stream
// batches of events while the server is killed with SIGKILL at random
// moments and restarted on the same database. After every kill, each event
// whose POST was answered 2xx before it is stored, and none is stored twice;
// the client re-sends what was not acknowledged, and in the end every event
// is stored exactly once — and the restarted server's duplicate detection
// and timelines agree with the store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sleep } from './harness.mjs';

const BATCH = 200;          // events a request
const WORKERS = 3;          // clients streaming at once
const KILLS = 6 + Math.floor(Math.random() * 3); // 6 to 8
const HCPS = 100;
const NDJSON = { 'Content-Type': 'application/x-ndjson' };
const CHANNELS = [['phone', 'answered'], ['wechat', 'read'], ['visit', 'completed'], ['email', 'sent'], ['content', 'viewed']];

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

/** Batch n: BATCH events with ids unique across the run, spread over the HCPs. */
function makeBatch(n) {
  const lines = [];
  const ids = [];
  for (let i = 0; i < BATCH; i++) {
    const id = `dur-${n}-${i}`;
    const [channel, outcome] = CHANNELS[(n + i) % CHANNELS.length];
    const ts = new Date(Date.UTC(2024, 0, 1) + (n * BATCH + i) * 60000).toISOString();
    ids.push(id);
    lines.push(JSON.stringify({ id, ts, hcp: `H${(n * 7 + i) % HCPS}`, channel, outcome, props: { batch: n, i } }));
  }
  return { n, ids, body: `${lines.join('\n')}\n`, sends: 0 };
}

/** Every stored dur- id with its count; throws on a row stored twice. */
async function storedIds(srv) {
  const dups = await srv.sql("SELECT eid, COUNT(*) FROM events GROUP BY eid HAVING COUNT(*) > 1");
  assert.equal(dups, '', `no event is stored twice:\n${dups.slice(0, 500)}`);
  const rows = await srv.sql("SELECT eid FROM events WHERE eid LIKE 'dur-%'");
  return new Set(rows.split('\n').filter(Boolean));
}

test('events acknowledged before a SIGKILL survive it exactly once; re-sent, the rest are stored exactly once too', { timeout: 180000 }, async () => {
  const t0 = Date.now();
  const srv = await startServer();
  try {
    const hcps = [['id', 'name']];
    for (let i = 0; i < HCPS; i++) hcps.push([`H${i}`, `医生${i}`]);
    const imp = await srv.api('POST', '/api/v1/hcps/import', { token: srv.adminToken, body: csv(hcps), headers: { 'Content-Type': 'text/csv' } });
    assert.equal(imp.status, 200, imp.text);

    const acked = new Set();
    const pending = [];             // batches sent without an answer: to send again
    const everything = [];
    const oddAnswers = [];          // any HTTP answer but 200: there should be none
    let made = 0;
    let interrupted = 0;            // requests cut off by a kill (reset or hang-up, not refused)
    let firstAcked = null;

    /** Sends batches (pending ones first) until a request fails (the server is gone) or state.stop. */
    async function client(state, onlyPending = false) {
      while (!state.stop) {
        if (onlyPending && !pending.length) return;
        const b = pending.shift() || (() => { const x = makeBatch(made++); everything.push(x); return x; })();
        b.sends++;
        let res;
        try {
          res = await srv.api('POST', '/api/v1/events', { token: srv.adminToken, body: b.body, headers: NDJSON });
        } catch (e) {
          pending.push(b);
          if (!/ECONNREFUSED/.test(e.code || e.message)) interrupted++;
          return;
        }
        if (res.status !== 200) {
          oddAnswers.push(`${res.status} ${res.text.slice(0, 300)}`);
          pending.push(b);
          return;
        }
        const r = res.json;
        assert.equal(r.rejected_total, 0, res.text.slice(0, 500));
        assert.equal(r.accepted + r.duplicates, BATCH, `every event stored or already there: ${res.text.slice(0, 300)}`);
        if (b.sends === 1) assert.equal(r.accepted, BATCH, 'a batch sent for the first time is all new');
        for (const id of b.ids) acked.add(id);
        if (!firstAcked) firstAcked = b;
      }
    }

    for (let k = 0; k < KILLS; k++) {
      // a batch fully acknowledged earlier is, after the restart, all duplicates
      if (firstAcked) {
        const again = await srv.api('POST', '/api/v1/events', { token: srv.adminToken, body: firstAcked.body, headers: NDJSON });
        assert.equal(again.status, 200, again.text);
        assert.deepEqual([again.json.accepted, again.json.duplicates], [0, BATCH], `kill ${k}: the restarted server knows the stored ids`);
      }
      const state = { stop: false };
      const clients = Array.from({ length: WORKERS }, () => client(state));
      await sleep(50 + Math.random() * 350);
      const pid = srv.pid();
      const died = await srv.kill('SIGKILL');
      assert.equal(died.signal, 'SIGKILL', `medreach serve ${pid} was killed, not stopped`);
      state.stop = true;
      await Promise.all(clients);

      // at rest, and again once the server is back on the same database
      for (const when of ['after the kill', 'after the restart']) {
        if (when === 'after the restart') await srv.restart();
        const stored = await storedIds(srv);
        const lost = [...acked].filter((id) => !stored.has(id));
        assert.deepEqual(lost.slice(0, 10), [], `kill ${k}, ${when}: ${lost.length} acknowledged events missing`);
      }
    }

    // the client re-sends what was never acknowledged
    const resent = pending.length;
    for (let round = 0; pending.length && round < 3; round++) {
      await Promise.all(Array.from({ length: WORKERS }, () => client({ stop: false }, true)));
    }
    assert.equal(pending.length, 0, 'the server took every batch re-sent');
    assert.deepEqual(oddAnswers, [], 'every answer was a 200');

    const stored = await storedIds(srv);
    const all = everything.flatMap((b) => b.ids);
    assert.equal(acked.size, all.length, 'every event acknowledged in the end');
    assert.equal(stored.size, all.length, 'as many stored as sent');
    for (const id of all) assert.ok(stored.has(id), `${id} is stored`);
    assert.equal(await srv.sql("SELECT COUNT(*) FROM events WHERE eid LIKE 'dur-%'"), String(all.length), 'each exactly once');

    // the restarted server's view matches the store: one doctor's whole timeline
    const inStore = (await srv.sql("SELECT e.eid FROM events e JOIN hcps h ON h.id = e.hcp_id WHERE h.ext_id = 'H3' ORDER BY e.eid"))
      .split('\n').filter(Boolean);
    const walked = [];
    let cursor = null;
    do {
      const tl = await srv.api('GET', `/api/v1/hcps/H3/timeline?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token: srv.adminToken });
      assert.equal(tl.status, 200, tl.text);
      walked.push(...tl.json.items.map((i) => i.id));
      cursor = tl.json.next_cursor;
    } while (cursor);
    assert.deepEqual([...walked].sort(), [...inStore].sort(), "H3's timeline holds exactly its stored events");
    assert.ok(inStore.length > 0);

    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`durability (${srv.backend}): ${KILLS} kills, ${made} batches, ${all.length} events, `
      + `${interrupted} requests cut off by a kill, ${resent} batches re-sent at the end (${everything.filter((b) => b.sends > 1).length} in all), ${secs} s`);
    assert.ok(interrupted >= 1, 'at least one kill hit a request in flight');
  } finally {
    await srv.stop();
  }
});

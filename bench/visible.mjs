// bench/visible.mjs — how soon an event is visible after medreach acknowledges it.
//
//   node bench/visible.mjs URL TOKEN HCP N
//
// A follower long-polls the change feed (GET /api/v1/events/feed?after=…&wait=10), as a
// downstream system or another node would; a client posts N single events for doctor HCP,
// one every 20 ms, and after each 2xx reads the doctor's timeline at once. Prints
//   MRVISIBLE n=N timeline_at_2xx=K feed_p50_ms=… feed_p99_ms=… feed_max_ms=…
// where timeline_at_2xx counts events already on the timeline when the 2xx arrived, and
// feed_* is the time from the 2xx to the follower holding the event (0 when it had it first).
import http from 'node:http';

const [url, token, hcp, nArg] = process.argv.slice(2);
if (!url || !token || !hcp) {
  console.error('usage: node bench/visible.mjs URL TOKEN HCP N');
  process.exit(2);
}
const N = Number(nArg || 200);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = http.request(u, {
      method, agent,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/x-ndjson' } : {}) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: data ? JSON.parse(data) : null }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const seen = new Map();   // event id -> time the follower had it
let following = true;
let after = (await call('GET', '/api/v1/events/feed?after=0&limit=1')).json.head_seq;
// start after the newest event: read the tail once
for (;;) {
  const r = await call('GET', `/api/v1/events/feed?after=${after}&limit=1000`);
  if (!r.json.items.length) break;
  after = r.json.last_seq;
}

const follower = (async () => {
  while (following) {
    const r = await call('GET', `/api/v1/events/feed?after=${after}&limit=1000&wait=10`);
    const t = performance.now();
    for (const ev of r.json.items) seen.set(ev.id, t);
    if (r.json.items.length) after = r.json.last_seq;
  }
})();

const acked = new Map();
let onTimeline = 0;
const run = `v${Date.now()}`;
for (let i = 0; i < N; i++) {
  const id = `${run}-${i}`;
  const line = JSON.stringify({ id, ts: new Date().toISOString(), hcp, channel: 'wechat', outcome: 'sent' });
  const r = await call('POST', '/api/v1/events', `${line}\n`);
  const t = performance.now();
  if (r.status !== 200 || r.json.accepted !== 1) throw new Error(`post ${i}: ${r.status} ${JSON.stringify(r.json)}`);
  acked.set(id, t);
  const tl = await call('GET', `/api/v1/hcps/${hcp}/timeline?limit=5`);
  if (tl.json.items.some((ev) => ev.id === id)) onTimeline++;
  await new Promise((ok) => setTimeout(ok, 20));
}
const deadline = performance.now() + 5000;
while (seen.size < N && performance.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
following = false;
const lags = [...acked].map(([id, t]) => (seen.has(id) ? Math.max(0, seen.get(id) - t) : Infinity)).sort((a, b) => a - b);
const pct = (p) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))];
console.log(`MRVISIBLE n=${N} timeline_at_2xx=${onTimeline} feed_p50_ms=${pct(0.5).toFixed(2)}` +
  ` feed_p99_ms=${pct(0.99).toFixed(2)} feed_max_ms=${lags[lags.length - 1].toFixed(2)}`);
await Promise.race([follower, new Promise((ok) => setTimeout(ok, 11000))]);
agent.destroy();
process.exit(0);

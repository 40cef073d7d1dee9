// bench/engine.mjs — the engine's figures (issue 5) beside DuckDB and PostgreSQL, on the same
// world and events, with the same answers checked equal:
//
//   node bench/engine.mjs URL TOKEN WORLD_DIR EVENTS.ndjson CONTENT.csv AS_OF PID [PG_URL]
//
// URL/TOKEN: a `medreach serve` (admin token) holding WORLD_DIR's doctors and hospitals, the
// content of CONTENT.csv and the events of EVENTS.ndjson; PID its process (for resident memory).
// DuckDB (npm @duckdb/node-api, in memory) and PostgreSQL (psql on PG_URL, plain tables) load
// the same files. Each question runs ROUNDS times per system; the median is reported.
// Prints MRENGINE lines (tab-separated) for bench/engine.sh's report.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const [url, token, world, eventsFile, contentFile, asOf, pid, pgUrl] = process.argv.slice(2);
if (!pid) {
  console.error('usage: node bench/engine.mjs URL TOKEN WORLD_DIR EVENTS.ndjson CONTENT.csv AS_OF PID [PG_URL]');
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ENGINE_ROUNDS || 7);
const AS = Date.parse(asOf);
const DAY = 86400e3;
const iso = (ms) => new Date(ms).toISOString();
const note = (m) => console.error(`engine bench: ${m}`);
const out = (...f) => console.log(['MRENGINE', ...f].join('\t'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function api(method, path, body) {
  const res = await fetch(url + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/* ---------- the peers ---------- */

const { DuckDBInstance } = await import(process.env.DUCKDB_MODULE || '@duckdb/node-api');
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const dq = async (sql) => (await duck.runAndReadAll(sql)).getRows();

let t = performance.now();
await dq(`CREATE TABLE hcps AS SELECT id, specialty, hco FROM read_csv('${world}/hcps.csv', header = true, all_varchar = true)`);
await dq(`CREATE TABLE hcos AS SELECT id, CAST(city_tier AS INTEGER) AS city_tier FROM read_csv('${world}/hcos.csv', header = true, all_varchar = true)`);
await dq(`CREATE TABLE content AS SELECT id, topic FROM read_csv('${contentFile}', header = true, all_varchar = true)`);
await dq(`CREATE TABLE ev AS SELECT hcp, channel, outcome, epoch_us(ts) AS ts, content, rep FROM read_json('${eventsFile}',
  format = 'newline_delimited', columns = {id: 'VARCHAR', ts: 'TIMESTAMPTZ', hcp: 'VARCHAR', channel: 'VARCHAR',
  outcome: 'VARCHAR', rep: 'VARCHAR', content: 'VARCHAR', duration_s: 'INTEGER'})`);
const nEvents = Number((await dq('SELECT COUNT(*) FROM ev'))[0][0]);
const nHcps = Number((await dq('SELECT COUNT(*) FROM hcps'))[0][0]);
out('load', 'duckdb', (performance.now() - t).toFixed(0), nEvents, nHcps);
note(`DuckDB holds ${nEvents} events and ${nHcps} doctors`);

let pg = null;
if (pgUrl) {
  const psql = (sql, input) => execFileSync('psql', [pgUrl, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { input, encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
  t = performance.now();
  const tmp = fs.mkdtempSync('/tmp/mr-engine-pg-');
  fs.chmodSync(tmp, 0o755);
  await dq(`COPY ev TO '${tmp}/ev.csv' (HEADER false)`);
  await dq(`COPY hcps TO '${tmp}/hcps.csv' (HEADER false)`);
  await dq(`COPY hcos TO '${tmp}/hcos.csv' (HEADER false)`);
  await dq(`COPY content TO '${tmp}/content.csv' (HEADER false)`);
  psql(`DROP TABLE IF EXISTS ev, hcps, hcos, content;
    CREATE TABLE hcps (id text PRIMARY KEY, specialty text, hco text);
    CREATE TABLE hcos (id text PRIMARY KEY, city_tier int);
    CREATE TABLE content (id text PRIMARY KEY, topic text);
    CREATE TABLE ev (hcp text, channel text, outcome text, ts bigint, content text, rep text)`);
  for (const tb of ['hcps', 'hcos', 'content', 'ev']) psql(`\\copy ${tb} FROM '${tmp}/${tb}.csv' CSV`);
  psql('CREATE INDEX ON ev (hcp, ts); ANALYZE');
  fs.rmSync(tmp, { recursive: true, force: true });
  out('load', 'postgresql', (performance.now() - t).toFixed(0), nEvents, nHcps);
  pg = (sql) => {
    const r = execFileSync('psql', [pgUrl, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', '\\timing on', '-c', sql],
      { encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = Number((/Time: ([\d.]+) ms/.exec(r) || [])[1]);
    return { rows: r.split('\n').filter((l) => l && !l.startsWith('Time:') && l !== 'Timing is on.'), ms };
  };
}

async function timeDuck(sql) {
  const ms = [];
  let rows;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    rows = await dq(sql);
    ms.push(performance.now() - t0);
  }
  return { rows: rows.map((r) => r.map(String).join('|')), ms: median(ms) };
}
function timePg(sql) {
  if (!pg) return null;
  const ms = [];
  let rows;
  for (let i = 0; i < ROUNDS; i++) {
    const r = pg(sql);
    rows = r.rows;
    ms.push(r.ms);
  }
  return { rows, ms: median(ms) };
}
async function timeMr(fn) {
  const server = [];
  const wall = [];
  let answer;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const r = await fn();
    wall.push(performance.now() - t0);
    server.push(r.took_ms);
    answer = r.answer;
  }
  return { answer, server: median(server), wall: median(wall) };
}
function report(name, target, mr, d, p, same) {
  out('q', name, target, mr.server.toFixed(2), mr.wall.toFixed(2), d.ms.toFixed(2), p ? p.ms.toFixed(2) : '', same ? 'yes' : 'NO');
  note(`${name}: medreach ${mr.server.toFixed(2)} ms (HTTP ${mr.wall.toFixed(2)}), DuckDB ${d.ms.toFixed(2)}` +
    `${p ? `, PostgreSQL ${p.ms.toFixed(2)}` : ''} ms; answers ${same ? 'equal' : 'DIFFER'}`);
}

const us = (ms) => BigInt(Math.round(ms)) * 1000n;
const lo = (days) => us(AS - days * DAY);
const ASUS = us(AS);

/* ---------- 1. ad-hoc segment ---------- */
{
  const expr = `specialty = "endocrinology" and count(channel = "wechat" and outcome >= "responded", 365d) >= 2
    and not exists(channel = "visit", 90d)`;
  const sql = `SELECT COUNT(*) FROM hcps h WHERE h.specialty = 'endocrinology'
    AND h.id IN (SELECT hcp FROM ev WHERE channel = 'wechat' AND outcome = 'responded' AND ts > ${lo(365)} AND ts <= ${ASUS}
      GROUP BY hcp HAVING COUNT(*) >= 2)
    AND NOT EXISTS (SELECT 1 FROM ev v WHERE v.hcp = h.id AND v.channel = 'visit' AND v.ts > ${lo(90)} AND v.ts <= ${ASUS})`;
  const mr = await timeMr(async () => {
    const r = await api('POST', '/api/v1/segments/count', { expr, as_of: asOf });
    if (r.status !== 200) throw new Error(`segment: ${r.status} ${r.text}`);
    return { took_ms: r.json.took_ms, answer: String(r.json.count) };
  });
  const d = await timeDuck(sql);
  const p = timePg(sql);
  report('ad-hoc segment (endocrinologists, ≥2 WeChat responses in 365 d, no visit in 90 d)', 30, mr, d, p,
    d.rows[0] === mr.answer && (!p || p.rows[0] === mr.answer));
  out('answer', 'segment', mr.answer);
}

/* ---------- 2. phone funnel by city tier ---------- */
{
  const from = iso(AS - 365 * DAY);
  const r0 = await api('GET', `/api/v1/analytics/kpis?from=${from}&to=${asOf}&group_by=hco.city_tier&channels=phone`);
  if (r0.status === 404) {
    note('no KPI API in this build: the funnel is skipped');
  } else {
    const mr = await timeMr(async () => {
      const r = await api('GET', `/api/v1/analytics/kpis?from=${from}&to=${asOf}&group_by=hco.city_tier&channels=phone`);
      if (r.status !== 200) throw new Error(`kpis: ${r.status} ${r.text}`);
      const rows = r.json.groups.filter((g) => g.phone && g.phone.calls > 0)
        .map((g) => [g.key['hco.city_tier'], g.phone.calls, g.phone.answered, g.phone.successful, g.phone.effective].join('|'))
        .sort();
      return { took_ms: r.json.took_ms, answer: rows.join(';') };
    });
    const sql = `SELECT o.city_tier, COUNT(*),
      SUM(CASE WHEN e.outcome IN ('answered', 'successful', 'effective') THEN 1 ELSE 0 END),
      SUM(CASE WHEN e.outcome IN ('successful', 'effective') THEN 1 ELSE 0 END),
      SUM(CASE WHEN e.outcome = 'effective' THEN 1 ELSE 0 END)
      FROM ev e JOIN hcps h ON h.id = e.hcp JOIN hcos o ON o.id = h.hco
      WHERE e.channel = 'phone' AND e.ts >= ${lo(365)} AND e.ts < ${ASUS} GROUP BY o.city_tier`;
    const d = await timeDuck(sql);
    const p = timePg(sql);
    const norm = (rows) => rows.map((x) => x.replace(/\|/g, '|')).sort().join(';');
    report('phone funnel KPIs by city tier over 365 d', 25, mr, d, p, norm(d.rows) === mr.answer && (!p || norm(p.rows) === mr.answer));
    if (norm(d.rows) !== mr.answer) note(`medreach ${mr.answer}\nDuckDB ${norm(d.rows)}`);
  }
}

/* ---------- 3–5. tags ---------- */
const tagsApi = (await api('GET', '/api/v1/tags')).status !== 404;
if (!tagsApi) {
  note('no tags API in this build: recompute, bitmap segments and event → tag are skipped');
} else {
  const putTags = async (defs) => {
    for (const [name, expr] of Object.entries(defs)) {
      const r = await api('PUT', `/api/v1/tags/${name}`, { expr, description: 'bench', category: 'bench' });
      if (r.status >= 300) throw new Error(`PUT tag ${name}: ${r.status} ${r.text}`);
    }
  };
  // the issue's recompute: a score and a top topic (the demo world's own tags are deleted first)
  for (const tg of (await api('GET', '/api/v1/tags')).json.items || []) await api('DELETE', `/api/v1/tags/${tg.name}`);
  await putTags({ bench_score: 'sum(weight, 180d)', bench_topic: 'top(content.topic, channel = "content", 180d)' });
  // the peers evaluate the windows at the time the last recompute did (its as_of)
  let asOfTags = 0;
  const mr = await timeMr(async () => {
    const r = await api('POST', '/api/v1/tags/recompute');
    if (r.status !== 200) throw new Error(`recompute: ${r.status} ${r.text}`);
    asOfTags = Date.parse(r.json.as_of);
    return { took_ms: r.json.took_ms, answer: '' };
  });
  const weight = `CASE WHEN channel = 'phone' THEN (CASE outcome WHEN 'no_answer' THEN 1 WHEN 'answered' THEN 2 WHEN 'successful' THEN 2 ELSE 3 END)
    WHEN channel IN ('wechat', 'wecom', 'email', 'sms') THEN (CASE outcome WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 2 ELSE 3 END)
    WHEN channel IN ('meeting_online', 'meeting_offline') THEN (CASE outcome WHEN 'invited' THEN 1 WHEN 'registered' THEN 2 ELSE 3 END)
    WHEN channel = 'visit' THEN (CASE outcome WHEN 'planned' THEN 1 ELSE 3 END)
    ELSE (CASE outcome WHEN 'viewed' THEN 1 ELSE 3 END) END`;
  const recompute = (atMs) => {
    const hi = BigInt(Math.round(atMs)) * 1000n;
    const lo = hi - 180n * 86400n * 1000000n;
    return `DROP TABLE IF EXISTS tags; CREATE TABLE tags AS
    WITH w AS (SELECT hcp, SUM(${weight}) AS score FROM ev WHERE ts > ${lo} AND ts <= ${hi} GROUP BY hcp),
    t AS (SELECT e.hcp, c.topic, COUNT(*) AS n FROM ev e JOIN content c ON c.id = e.content
          WHERE e.channel = 'content' AND e.ts > ${lo} AND e.ts <= ${hi} GROUP BY e.hcp, c.topic),
    r AS (SELECT hcp, topic, ROW_NUMBER() OVER (PARTITION BY hcp ORDER BY n DESC, topic) AS k FROM t)
    SELECT h.id AS hcp, COALESCE(w.score, 0) AS score, r.topic FROM hcps h LEFT JOIN w ON w.hcp = h.id
      LEFT JOIN r ON r.hcp = h.id AND r.k = 1`;
  };
  const d = await timeDuck(recompute(asOfTags));
  const p = timePg(recompute(asOfTags));
  const topicsOf = async (name) => {
    const r = await api('GET', `/api/v1/tags/${name}/distribution?limit=100`);
    return Object.fromEntries((r.json.values || []).map((v) => [v.value ?? 'null', Number(v.count)]));
  };
  // the check: the tags keep turning with time (an event leaving its window re-evaluates its doctor),
  // so compare right after a recompute, and again when a window closed in between
  let same = false;
  for (let attempt = 0; attempt < 3 && !same; attempt++) {
    const at = Date.parse((await api('POST', '/api/v1/tags/recompute')).json.as_of);
    const md = await topicsOf('bench_topic');
    await dq(recompute(at));
    const dd = await dq("SELECT COALESCE(topic, 'null'), COUNT(*) FROM tags GROUP BY 1 ORDER BY 1");
    same = dd.every(([k, n]) => k === 'null' || md[String(k)] === Number(n));
    if (!same) note(`top topics (attempt ${attempt + 1}): medreach ${JSON.stringify(md)} DuckDB ${JSON.stringify(dd.map((r) => r.map(String)))}`);
  }
  report('recompute all tags (a score and a top topic per HCP over 180 d)', 50, mr, d, p, same);

  // a segment over predefined tags: all four tags at one time, the peers at the same
  await putTags({ bench_engaged: 'sum(weight, 180d) >= 40', bench_patient: 'top(content.topic, channel = "content", 180d) = "patient_data"' });
  const again = await api('POST', '/api/v1/tags/recompute');
  await dq(recompute(Date.parse(again.json.as_of)));
  if (pg) pg(recompute(Date.parse(again.json.as_of)));
  const seg = await timeMr(async () => {
    const r = await api('POST', '/api/v1/segments/count', { expr: 'bench_engaged and bench_patient' });
    if (r.status !== 200) throw new Error(`tag segment: ${r.status} ${r.text}`);
    return { took_ms: r.json.took_ms, answer: String(r.json.count) };
  });
  const segSql = "SELECT COUNT(*) FROM tags WHERE score >= 40 AND topic = 'patient_data'";
  const d2 = await timeDuck(segSql);
  const p2 = timePg(segSql);
  report('segment over predefined tags (bitmap algebra)', 1, seg, d2, p2, d2.rows[0] === seg.answer && (!p2 || p2.rows[0] === seg.answer));
  if (d2.rows[0] !== seg.answer) note(`tag segment: medreach ${seg.answer}, DuckDB ${d2.rows[0]}`);

  // event → its HCP's tags: post an event, read the tag at once
  let seen = 0;
  const lags = [];
  const rounds = [];
  const metric = async (name) => {
    const text = (await (await fetch(`${url}/metrics`)).text());
    const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const doctors = (await dq("SELECT hcp FROM tags WHERE score < 30 ORDER BY hcp LIMIT 50")).map((r) => String(r[0]));
  for (const [i, hcp] of doctors.entries()) {
    const before = await api('GET', `/api/v1/hcps/${hcp}/tags`);
    const was = (before.json.items || []).find((x) => x.name === 'bench_score');
    const ev = { id: `bench-tag-${Date.now()}-${i}`, ts: new Date().toISOString(), hcp, channel: 'visit', outcome: 'completed' };
    const t0 = performance.now();
    const r = await api('POST', '/api/v1/events', `${JSON.stringify(ev)}\n`);
    const t1 = performance.now();
    if (r.status !== 200) throw new Error(`event: ${r.status} ${r.text}`);
    const after = await api('GET', `/api/v1/hcps/${hcp}/tags`);
    const now = (after.json.items || []).find((x) => x.name === 'bench_score');
    if (now && was && Number(now.value) === Number(was.value) + 3) seen++;
    lags.push(t1 - t0);
    rounds.push(1000 * await metric('medreach_tags_last_event_round_seconds'));
  }
  out('event_tag', doctors.length, seen, median(lags).toFixed(2), median(rounds).toFixed(3),
    Math.max(...rounds).toFixed(3));
  note(`event → tag: ${seen} of ${doctors.length} doctors' score was new at the first read after the 2xx`);
}

/* ---------- memory ---------- */
{
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
  out('memory', rss, nEvents, nHcps, (32 * nEvents + 1024 * nHcps));
  note(`resident memory ${(rss / 2 ** 20).toFixed(0)} MiB; budget 32 B × ${nEvents} + 1 KiB × ${nHcps} = ${((32 * nEvents + 1024 * nHcps) / 2 ** 20).toFixed(0)} MiB`);
}

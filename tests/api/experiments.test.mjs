// Experiments (A/B tests): PUT/GET/DELETE /api/v1/experiments/{name}, start,
// stop, archive, results and assignment. On the demo world, an experiment's
// results equal an independent computation: each unit's arm from the
// assignment route (and its bucket recomputed here with BLAKE2b-512 over
// the salt and the id), then SQL over the events table for each arm's
// units in the window started_at ≤ ts < stopped_at (or the answer's "to"),
// and the Wilson intervals, differences and z-tests recomputed in
// JavaScript. Every bad input is a clear 4xx that saves nothing; starting
// an experiment on units a running one holds is a 409 naming it; the
// roles are admin/marketing write, manager/analyst/compliance read.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, createUser, assertError, sleep } from './harness.mjs';

const CH = { phone: 1, wechat: 2, wecom: 3, meeting_online: 4, meeting_offline: 5 };
const NDJSON = { 'content-type': 'application/x-ndjson' };
const Z = 1.959963984540054;
const LIVE = 'h.deleted_at IS NULL AND h.merged_into IS NULL';

let srv;
const tokens = {};

const put = (name, body, token = srv.adminToken) => srv.api('PUT', `/api/v1/experiments/${name}`, { token, body });
const get = (p, token = srv.adminToken) => srv.api('GET', `/api/v1/experiments${p}`, { token });
const post = (p, token = srv.adminToken) => srv.api('POST', `/api/v1/experiments${p}`, { token });

/** RFC 3339 with up to 6 fraction digits → µs as a BigInt. */
function isoUs(s) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(s);
  assert.ok(m, `a UTC time: ${s}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1000n + BigInt((m[2] || '').padEnd(6, '0') || '0');
}

/** A small deterministic generator (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bucket by the documented rule: first 8 bytes (big-endian) of BLAKE2b-512(salt || id) mod 10,000. */
function bucketOf(saltHex, id) {
  const h = createHash('blake2b512').update(Buffer.concat([Buffer.from(saltHex, 'hex'), Buffer.from(id, 'utf8')])).digest();
  return Number(h.readBigUInt64BE(0) % 10000n);
}

function armOfBucket(arms, b) {
  let end = 0;
  for (const a of arms) {
    end += Math.round(a.allocation * 100);
    if (b < end) return a.name;
  }
  return arms[arms.length - 1].name;
}

function wilson(x, n) {
  if (n === 0) return null;
  const p = x / n;
  const d = 1 + (Z * Z) / n;
  const c = (p + (Z * Z) / (2 * n)) / d;
  const hw = (Z / d) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return [x === 0 ? 0 : Math.max(0, c - hw), x === n ? 1 : Math.min(1, c + hw)];
}

/** erfc by Numerical Recipes' Chebyshev fit (relative error < 1.2e-7), for the p-value. */
function erfc(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

function compare(x1, n1, x0, n0) {
  if (n1 === 0 || n0 === 0) return null;
  const p1 = x1 / n1;
  const p0 = x0 / n0;
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p0 * (1 - p0)) / n0);
  const pool = (x1 + x0) / (n1 + n0);
  const sep = Math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0));
  const z = sep > 0 ? (p1 - p0) / sep : 0;
  const p = sep > 0 ? erfc(Math.abs(z) / Math.SQRT2) : 1;
  return { diff: p1 - p0, ci: [p1 - p0 - Z * se, p1 - p0 + Z * se], z, p, significant: p < 0.05 && n1 >= 30 && n0 >= 30 };
}

async function postEvents(lines) {
  for (let i = 0; i < lines.length; i += 500) {
    const r = await srv.api('POST', '/api/v1/events', {
      token: srv.adminToken, headers: NDJSON, body: `${lines.slice(i, i + 500).map((l) => JSON.stringify(l)).join('\n')}\n`,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.rejected.length, 0, r.text);
  }
}

/** Each unit's arm from the assignment route, its bucket checked against the documented hash. */
async function armsOf(exp, kind, ids) {
  const arm = new Map();
  for (const id of ids) {
    const r = await get(`/${exp.name}/assignment?${kind}=${encodeURIComponent(id)}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.in_population, true, `${id} is in the population`);
    assert.equal(r.json.bucket, bucketOf(exp.salt, id), `bucket of ${id}`);
    assert.equal(r.json.arm.name, armOfBucket(exp.arms, r.json.bucket), `arm of ${id}`);
    arm.set(id, r.json.arm.name);
  }
  return arm;
}

/**
 * Checks results res against SQL: per arm the units, numerator and denominator
 * (count(where) over the arm's events), the rates' intervals and the comparisons.
 */
async function checkResults(exp, res, unitArm, eventsOf) {
  const from = isoUs(res.from);
  const to = isoUs(res.to);
  for (const a of res.arms) {
    const units = [...unitArm].filter(([, name]) => name === a.name).map(([id]) => id);
    assert.equal(a.units, units.length, `units of ${a.name}`);
    const [num, den] = units.length
      ? (await srv.sql(eventsOf(units, from, to))).split('|').map((v) => Number(v || 0))
      : [0, 0];
    assert.equal(a.denominator, den, `denominator of ${a.name}`);
    assert.equal(a.numerator, num, `numerator of ${a.name}`);
    if (den === 0) {
      assert.equal(a.rate, null);
      assert.equal(a.ci, null);
    } else {
      assert.ok(Math.abs(a.rate - num / den) < 1e-9);
      const w = wilson(num, den);
      assert.ok(Math.abs(a.ci[0] - w[0]) < 1e-9 && Math.abs(a.ci[1] - w[1]) < 1e-9, `CI of ${a.name}: ${a.ci} vs ${w}`);
    }
  }
  const ctl = res.arms.find((a) => a.name === res.control);
  const others = res.arms.filter((a) => a.name !== res.control && a.kind !== 'holdout');
  assert.equal(res.comparisons.length, others.length);
  for (const c of res.comparisons) {
    const a = res.arms.find((x) => x.name === c.arm);
    assert.equal(c.control, res.control);
    const want = compare(a.numerator, a.denominator, ctl.numerator, ctl.denominator);
    if (!want) {
      assert.equal(c.p_value, null);
      assert.match(c.verdict, /^not yet significant/);
      continue;
    }
    assert.ok(Math.abs(c.difference - want.diff) < 1e-9);
    assert.ok(Math.abs(c.ci[0] - want.ci[0]) < 1e-9 && Math.abs(c.ci[1] - want.ci[1]) < 1e-9);
    assert.ok(Math.abs(c.z - want.z) < 1e-9, `z ${c.z} vs ${want.z}`);
    assert.ok(Math.abs(c.p_value - want.p) < 1e-6, `p ${c.p_value} vs ${want.p}`);
    assert.equal(c.significant, want.significant);
    assert.match(c.verdict, want.significant ? /^significant/ : /^not yet significant/);
  }
}

before(async () => {
  srv = await startServer();
  const demo = await srv.cli(['demo', '--hcps', '1500', '--seed', '11']);
  assert.equal(demo.code, 0, `${demo.stdout}${demo.stderr}`);
  for (const role of ['marketing', 'manager', 'analyst', 'compliance', 'field_rep']) {
    const u = await createUser(srv, { role });
    tokens[role] = await srv.token(u.login);
  }
  for (let i = 0; i < 100; i++) { // the engine loads after the start
    const r = await srv.api('POST', '/api/v1/segments/count', { token: srv.adminToken, body: { expr: 'true' } });
    if (r.status === 200) break;
    await sleep(100);
  }
});

after(async () => {
  if (srv) await srv.stop();
});

const HCP_DEF = {
  description: 'Rules against learned, with a holdout',
  unit: 'hcp',
  population: 'specialty = "cardiology" -- the cardiologists',
  metric: 'effective_rate',
  arms: [
    { name: 'rules', kind: 'rules', allocation: 40 },
    { name: 'learned', kind: 'learned', allocation: 30 },
    { name: 'holdout', kind: 'holdout', allocation: 30 },
  ],
};

test('an experiment on doctors: create, edit, start, results equal SQL per arm, stop, archive', async (t) => {
  const created = await put('card-eff', HCP_DEF);
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.status, 'draft');
  assert.match(created.json.salt, /^[0-9a-f]{32}$/);
  assert.equal(created.json.control, 'holdout');
  assert.deepEqual(created.json.arms.map((a) => [a.name, a.kind, a.allocation]),
    [['rules', 'rules', 40], ['learned', 'learned', 30], ['holdout', 'holdout', 30]]);
  // editing the draft keeps its salt
  const edited = await put('card-eff', { ...HCP_DEF, arms: [{ ...HCP_DEF.arms[0], allocation: 45 }, { ...HCP_DEF.arms[1], allocation: 25 }, HCP_DEF.arms[2]] });
  assert.equal(edited.status, 200, edited.text);
  assert.equal(edited.json.salt, created.json.salt);
  assert.equal(edited.json.arms[0].allocation, 45);
  assert.equal((await get('/card-eff/results')).status, 409, 'a draft has no results');

  const started = await post('/card-eff/start');
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.status, 'running');
  const exp = started.json;
  const startMs = Number(isoUs(exp.started_at) / 1000n);
  await sleep(50);

  // the population in SQL, and some doctors outside it
  const pop = (await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} AND h.specialty = 'cardiology' ORDER BY h.id`)).split('\n');
  const outside = (await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} AND h.specialty = 'oncology' ORDER BY h.id LIMIT 20`)).split('\n');
  assert.ok(pop.length > 100, `${pop.length} cardiologists`);
  const rand = rng(42);
  const outcomes = ['no_answer', 'answered', 'successful', 'effective'];
  const lines = [];
  let n = 0;
  for (const hcp of [...pop, ...outside]) {
    for (let k = 0; k < 3; k++) {
      const ts = new Date(startMs + 5 + (n % 40)).toISOString();
      lines.push({ id: `x-card-${n++}`, ts, hcp, channel: 'phone', outcome: outcomes[Math.floor(rand() * 4)] });
    }
    if (rand() < 0.3) lines.push({ id: `x-card-${n++}`, ts: new Date(startMs + 7).toISOString(), hcp, channel: 'wechat', outcome: 'responded' });
    // before the start: not counted
    lines.push({ id: `x-card-${n++}`, ts: new Date(startMs - 3600000).toISOString(), hcp, channel: 'phone', outcome: 'effective' });
  }
  lines.push({ id: 'x-card-merged', ts: new Date(startMs + 9).toISOString(), hcp: outside[1], channel: 'phone', outcome: 'effective' });
  await postEvents(lines);
  // a doctor outside the population merged into one inside: its events are the survivor's
  const m = await srv.api('POST', `/api/v1/hcps/${outside[1]}/merge`, { token: srv.adminToken, body: { into: pop[0], reason: 'experiment test' } });
  assert.ok([200, 201].includes(m.status), `merge: ${m.status} ${m.text}`);
  const mergedCounted = Number(await srv.sql(`SELECT COUNT(*) FROM events e JOIN hcps x ON x.id = e.hcp_id
    WHERE x.ext_id = '${outside[1]}' AND e.channel = ${CH.phone} AND e.outcome >= 2 AND e.ts >= ${isoUs(exp.started_at)}`));
  assert.ok(mergedCounted > 0, 'the merged record has events that count');
  await sleep(60);

  const res = await get('/card-eff/results');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.metric, 'effective_rate');
  assert.equal(res.json.from, exp.started_at);
  assert.equal(res.json.control, 'holdout');
  assert.equal(res.json.arms.reduce((s, a) => s + a.units, 0), pop.length, 'every cardiologist is a unit');
  const arm = await armsOf(exp, 'hcp', pop);
  // effective rate = effective / successful-or-better, phone only (ARCHITECTURE.md)
  const eventsOf = (ids, from, to) => `SELECT SUM(CASE WHEN e.outcome >= 3 THEN 1 ELSE 0 END), COUNT(*) FROM events e
    JOIN hcps x ON x.id = e.hcp_id WHERE COALESCE(x.merged_into, x.id) IN (SELECT id FROM hcps WHERE ext_id IN (${ids.map((i) => `'${i}'`).join(',')}))
    AND e.channel = ${CH.phone} AND e.outcome >= 2 AND e.ts >= ${from} AND e.ts < ${to}`;
  await checkResults(exp, res.json, arm, eventsOf);
  const shares = res.json.arms.map((a) => `${a.name} ${a.units} units ${a.numerator}/${a.denominator}`);
  t.diagnostic(`${srv.backend}: ${shares.join('; ')}; ${res.json.comparisons.map((c) => `${c.arm}: ${c.verdict}`).join('; ')}`);
  assert.ok(res.json.arms.every((a) => a.denominator > 0), 'every arm has events');

  // which running experiment holds a doctor (what the NBA engine asks): this one, in the same arm
  const held = await get(`/assignment?hcp=${pop[1]}`);
  assert.equal(held.status, 200, held.text);
  assert.equal(held.json.experiment, 'card-eff');
  assert.equal(held.json.arm.name, arm.get(pop[1]));
  const free = await get(`/assignment?hcp=${outside[0]}`);
  assert.equal(free.json.experiment, null);
  assert.equal(free.json.arm, null);
  assertError(await get('/assignment'), 400);
  assertError(await get('/assignment?hcp=NOPE-404'), 404);
  assertError(await put('assignment', HCP_DEF), 400);

  // someone outside the population: a bucket, but no arm
  const out = await get(`/card-eff/assignment?hcp=${outside[0]}`);
  assert.equal(out.status, 200, out.text);
  assert.equal(out.json.in_population, false);
  assert.equal(out.json.arm, null);
  assert.equal(out.json.bucket, bucketOf(exp.salt, outside[0]));
  assertError(await get('/card-eff/assignment?hcp=NOPE-404'), 404);
  assertError(await get(`/card-eff/assignment?rep=R0001`), 400, 'bad_request');
  assertError(await get('/card-eff/assignment'), 400, 'bad_request');

  // a running experiment is not edited, deleted or started twice
  assertError(await put('card-eff', HCP_DEF), 409);
  assertError(await srv.api('DELETE', '/api/v1/experiments/card-eff', { token: srv.adminToken }), 409);
  assertError(await post('/card-eff/start'), 409);
  assertError(await post('/card-eff/archive'), 409, undefined, 'archive before stop');

  // stop: the window ends at stopped_at; later events do not count
  const stopped = await post('/card-eff/stop');
  assert.equal(stopped.status, 200, stopped.text);
  assert.equal(stopped.json.status, 'stopped');
  await sleep(20);
  await postEvents(pop.slice(0, 30).map((hcp, i) => ({ id: `x-card-late-${i}`, ts: new Date().toISOString(), hcp, channel: 'phone', outcome: 'effective' })));
  const after1 = await get('/card-eff/results');
  assert.equal(after1.json.to, stopped.json.stopped_at);
  assert.deepEqual(after1.json.arms.map((a) => [a.numerator, a.denominator]), res.json.arms.map((a) => [a.numerator, a.denominator]));
  await checkResults(exp, after1.json, arm, eventsOf);

  assert.equal((await get(`/assignment?hcp=${pop[1]}`)).json.experiment, null, 'a stopped experiment holds nobody');
  const archived = await post('/card-eff/archive');
  assert.equal(archived.status, 200, archived.text);
  assert.equal(archived.json.status, 'archived');
  assert.ok(archived.json.archived_at);
  assertError(await post('/card-eff/start'), 409);
  const list = await get('?status=archived');
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.items.map((x) => x.name), ['card-eff']);
  assert.equal(list.json.next_cursor, null);
});

test('an experiment on reps: the arm\'s events are those its reps made; the first arm is the control', async () => {
  const def = {
    unit: 'rep', metric: 'response_rate',
    arms: [{ name: 'control', kind: 'rules', allocation: 50 }, { name: 'model', kind: 'learned', allocation: 50 }],
  };
  assert.equal((await put('rep-resp', def)).status, 201);
  const started = await post('/rep-resp/start');
  assert.equal(started.status, 200, started.text);
  const exp = started.json;
  const startMs = Number(isoUs(exp.started_at) / 1000n);
  await sleep(50);
  const reps = (await srv.sql('SELECT ext_id FROM reps WHERE deleted_at IS NULL ORDER BY id')).split('\n');
  const docs = (await srv.sql(`SELECT h.ext_id FROM hcps h WHERE ${LIVE} ORDER BY h.id LIMIT 200`)).split('\n');
  const rand = rng(7);
  const ladder = ['sent', 'delivered', 'read', 'responded'];
  const lines = [];
  for (let i = 0; i < 900; i++) {
    const rep = reps[Math.floor(rand() * reps.length)];
    const channel = rand() < 0.7 ? 'wechat' : 'wecom';
    lines.push({ id: `x-rep-${i}`, ts: new Date(startMs + 3 + (i % 30)).toISOString(), hcp: docs[i % docs.length], rep, channel, outcome: ladder[Math.floor(rand() * 4)] });
  }
  for (let i = 0; i < 50; i++) { // no rep: in no arm
    lines.push({ id: `x-norep-${i}`, ts: new Date(startMs + 4).toISOString(), hcp: docs[i], channel: 'wechat', outcome: 'responded' });
  }
  await postEvents(lines);
  await sleep(60);
  const res = await get('/rep-resp/results');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.control, 'control');
  const arm = await armsOf(exp, 'rep', reps);
  const eventsOf = (ids, from, to) => `SELECT SUM(CASE WHEN e.outcome >= 3 THEN 1 ELSE 0 END), COUNT(*) FROM events e
    WHERE e.rep_id IN (SELECT id FROM reps WHERE ext_id IN (${ids.map((i) => `'${i}'`).join(',')}))
    AND e.channel IN (${CH.wechat}, ${CH.wecom}) AND e.ts >= ${from} AND e.ts < ${to}`;
  await checkResults(exp, res.json, arm, eventsOf);
  assert.equal(res.json.arms.reduce((s, a) => s + a.denominator, 0), 900);
  assert.equal(res.json.comparisons.length, 1);
  const held = await get(`/assignment?rep=${reps[0]}`);
  assert.equal(held.status, 200, held.text);
  assert.equal(held.json.experiment, 'rep-resp');
  assert.equal(held.json.arm.name, arm.get(reps[0]));
  assert.equal((await post('/rep-resp/stop')).status, 200);
});

test('starting an experiment on units a running one holds is a 409 naming it', async () => {
  const base = { metric: 'participation_rate', arms: [{ name: 'a', kind: 'rules', allocation: 50 }, { name: 'b', kind: 'custom', allocation: 50 }] };
  assert.equal((await put('ov-endo', { ...base, population: 'specialty = "endocrinology"' })).status, 201);
  assert.equal((await post('/ov-endo/start')).status, 200);
  // shares the endocrinologists of tier-1..5 hospitals
  assert.equal((await put('ov-tier', { ...base, population: 'hco.city_tier >= 1' })).status, 201);
  const e = assertError(await post('/ov-tier/start'), 409, 'experiment_overlap');
  assert.match(e.message, /'ov-endo'/);
  const shared = Number(await srv.sql(`SELECT COUNT(*) FROM hcps h JOIN hcos o ON o.id = h.hco_id WHERE ${LIVE}
    AND h.specialty = 'endocrinology' AND o.city_tier >= 1`));
  assert.ok(shared > 0);
  assert.match(e.message, new RegExp(`\\b${shared} of them`), `${e.message}: the engine's count equals SQL's ${shared}`);
  assert.equal((await get('/ov-tier')).json.status, 'draft', 'nothing changed');
  // everyone overlaps too; disjoint populations do not
  assert.equal((await put('ov-all', base)).status, 201);
  assertError(await post('/ov-all/start'), 409, 'experiment_overlap');
  assert.equal((await put('ov-neph', { ...base, population: 'specialty = "nephrology"' })).status, 201);
  assert.equal((await post('/ov-neph/start')).status, 200);
  // rep experiments do not collide with doctor experiments; two on all reps do
  assert.equal((await put('ov-rep1', { ...base, unit: 'rep' })).status, 201);
  assert.equal((await post('/ov-rep1/start')).status, 200);
  assert.equal((await put('ov-rep2', { ...base, unit: 'rep' })).status, 201);
  assert.match(assertError(await post('/ov-rep2/start'), 409, 'experiment_overlap').message, /'ov-rep1'/);
  // once the others it shares doctors with stop, it starts
  assert.equal((await post('/ov-endo/stop')).status, 200);
  assert.match(assertError(await post('/ov-tier/start'), 409, 'experiment_overlap').message, /'ov-neph'/);
  assert.equal((await post('/ov-neph/stop')).status, 200);
  assert.equal((await post('/ov-tier/start')).status, 200);
  for (const n of ['ov-tier', 'ov-rep1']) assert.equal((await post(`/${n}/stop`)).status, 200);
});

test('bad input is a clear 4xx naming the field, and nothing is saved', async () => {
  const ok = {
    metric: 'effective_rate',
    arms: [{ name: 'a', kind: 'rules', allocation: 50 }, { name: 'b', kind: 'holdout', allocation: 50 }],
  };
  const cases = [
    [{ ...ok, arms: [{ name: 'a', kind: 'rules', allocation: 60 }, { name: 'b', kind: 'learned', allocation: 30 }] }, 400, 'arms', /sum to 90%/],
    [{ ...ok, arms: [{ name: 'a', kind: 'rules', allocation: 100 }] }, 400, 'arms', /2 to 10 arms/],
    [{ ...ok, arms: [{ name: 'a', kind: 'rules', allocation: 50 }, { name: 'a', kind: 'learned', allocation: 50 }] }, 400, 'arms[1].name', /named 'a'/],
    [{ ...ok, metric: 'click_rate' }, 400, 'metric', /unknown metric 'click_rate'/],
    [{ ...ok, unit: 'territory' }, 400, 'unit', /hcp or rep/],
    [{ ...ok, arms: [{ name: 'a', kind: 'rules', allocation: '50' }, { name: 'b', kind: 'rules', allocation: 50 }] }, 400, 'arms[0].allocation', /percentage/],
    [{ ...ok, population: 'count(channel = "phone", 30d)' }, 400, 'population', /boolean/],
    [{ ...ok, extra: 1 }, 400, 'extra', /extra/],
  ];
  for (const [body, status, field, says] of cases) {
    const e = assertError(await put('bad-one', body), status, undefined, JSON.stringify(body));
    assert.equal(e.detail.field, field, JSON.stringify(e));
    assert.match(e.message, says);
  }
  // a population that does not parse: the engine's message with its column
  const p = assertError(await put('bad-one', { ...ok, population: 'specialty = = "x"' }), 400, 'invalid_expression');
  assert.equal(p.detail.field, 'population');
  assert.equal(p.detail.column, 13);
  assert.match(p.message, /column 13/);
  assert.ok(p.detail.expected);
  // invalid UTF-8, a body too large, a bad name
  const raw = Buffer.concat([Buffer.from('{"metric":"effective_rate","description":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","arms":[]}')]);
  assertError(await srv.api('PUT', '/api/v1/experiments/bad-one', { token: srv.adminToken, body: raw, headers: { 'content-type': 'application/json' } }), 400);
  assertError(await put('bad-one', { ...ok, description: 'x'.repeat(70000) }), 413);
  assertError(await put('Bad_Name', ok), 400);
  assertError(await put('bad-one', { ...ok, description: 'd'.repeat(1001) }), 400);
  assertError(await get('/bad-one'), 404);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM experiments WHERE name = 'bad-one'"), '0');
  // a bad edit of a draft leaves the draft as it was
  assert.equal((await put('bad-two', ok)).status, 201);
  assertError(await put('bad-two', { ...ok, arms: [ok.arms[0]] }), 400);
  assert.equal((await get('/bad-two')).json.arms.length, 2);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM experiment_arms a JOIN experiments x ON x.id = a.experiment_id WHERE x.name = 'bad-two'"), '2');
  assert.equal((await srv.api('DELETE', '/api/v1/experiments/bad-two', { token: srv.adminToken })).status, 204);
  assertError(await get('/bad-two'), 404);
  assert.equal(await srv.sql("SELECT COUNT(*) FROM experiment_arms a JOIN experiments x ON x.id = a.experiment_id WHERE x.name = 'bad-two'"), '0');
  assertError(await post('/nothing-here/start'), 404);
});

test('admin and marketing write; manager, analyst and compliance read; reps do not see experiments', async () => {
  const def = { metric: 'response_rate', population: 'specialty = "no-such-specialty"', arms: [{ name: 'a', kind: 'rules', allocation: 50 }, { name: 'b', kind: 'learned', allocation: 50 }] };
  const m = await put('roles-x', def, tokens.marketing);
  assert.equal(m.status, 201, m.text);
  assert.equal((await post('/roles-x/start', tokens.marketing)).status, 200);
  for (const role of ['manager', 'analyst', 'compliance']) {
    assert.equal((await get('', tokens[role])).status, 200, role);
    assert.equal((await get('/roles-x', tokens[role])).status, 200, role);
    const r = await get('/roles-x/results', tokens[role]);
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assert.equal(r.json.arms.reduce((s, a) => s + a.units, 0), 0, 'nobody in an empty population');
    assert.match(r.json.comparisons[0].verdict, /^not yet significant/);
    assertError(await put('roles-y', def, tokens[role]), 403);
    assertError(await post('/roles-x/stop', tokens[role]), 403);
    assertError(await srv.api('DELETE', '/api/v1/experiments/roles-x', { token: tokens[role] }), 403);
  }
  assertError(await get('', tokens.field_rep), 403);
  assertError(await get('/roles-x/results', tokens.field_rep), 403);
  assert.equal((await post('/roles-x/stop', tokens.marketing)).status, 200);
  // every write is audited
  const audited = await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action IN ('experiment.create', 'experiment.start', 'experiment.stop') AND entity_id = 'roles-x'");
  assert.equal(audited, '3');
});

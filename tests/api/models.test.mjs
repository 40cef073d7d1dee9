// The learned response models (docs/models.md) through the API, on SQLite
// and PostgreSQL: training on a generated world with a planted preference,
// the versions and their held-out metrics, activation, one doctor's
// propensity ranking the planted slot first, off-policy evaluation, roles
// and bad input.
//
// The world: 60 doctors at one hospital, D00–D29 cardiologists aligned to
// field rep RF, D30–D59 endocrinologists aligned to nobody. Every doctor got
// 48 calls over the last 144 days, one every 3 days, cycling through the
// four hour bands (09:00, 13:00, 15:00, 19:00 Beijing time); a call at 15:00
// (the 14–18 band) is answered, any other is not — except that one call in
// ten flips, so the labels are not separable. Each doctor also got 24 WeChat
// messages, 40% of them answered (responded), at random.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError, createUser, uniqueLogin } from './harness.mjs';

let srv;
let admin;
const tok = {};
const DAY = 24 * 3600 * 1000;
const DOCS = Array.from({ length: 60 }, (_, i) => `D${String(i).padStart(2, '0')}`);
const BANDS_UTC = [1, 5, 7, 11]; // 09:00, 13:00, 15:00, 19:00 in Beijing
const CALLS = 48;
const MSGS = 24;

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const get = (p, token = admin) => srv.api('GET', p, { token });
const post = (p, body, token = admin) => srv.api('POST', p, { token, body });
const importCsv = async (entity, rows) => {
  const r = await srv.api('POST', `/api/v1/${entity}/import`, { token: admin, body: csv(rows), headers: { 'Content-Type': 'text/csv' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, r.text);
};

// A small deterministic generator, so a failure reproduces.
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

function world() {
  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - DAY;
  const ev = [];
  let n = 0;
  for (const d of DOCS) {
    for (let k = 0; k < CALLS; k++) {
      const band = k % 4;
      const ts = base - k * 3 * DAY + BANDS_UTC[band] * 3600 * 1000;
      const flip = rnd() < 0.1;
      const answered = (band === 2) !== flip;
      ev.push({ id: `m-${++n}`, ts: new Date(ts).toISOString(), hcp: d, channel: 'phone', outcome: answered ? 'answered' : 'no_answer', rep: 'RI' });
    }
    for (let k = 0; k < MSGS; k++) {
      const ts = base - (k * 6 + 1) * DAY + 3 * 3600 * 1000;
      ev.push({ id: `m-${++n}`, ts: new Date(ts).toISOString(), hcp: d, channel: 'wechat', outcome: rnd() < 0.4 ? 'responded' : 'read', rep: 'RI' });
    }
  }
  return ev;
}

async function postEvents(list) {
  for (let i = 0; i < list.length; i += 1000) {
    const body = list.slice(i, i + 1000).map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await srv.api('POST', '/api/v1/events', { token: admin, body, headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.accepted, Math.min(1000, list.length - i), r.text);
  }
}

let run1;
const TRAIN = { window_days: 180, min_examples: 200, min_positives: 20 };

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv('hcos', [['id', 'name', 'level', 'city_tier'], ['H1', '北京协和医院', '3', '1']]);
  await importCsv('reps', [['id', 'name', 'type', 'manager'], ['RF', '张伟', 'field', ''], ['RI', '李娜', 'inside', '']]);
  await importCsv('hcps', [['id', 'name', 'specialty', 'title', 'hco'],
    ...DOCS.map((d, i) => [d, `医生${i}`, i < 30 ? 'cardiology' : 'endocrinology', 'attending', 'H1'])]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ...DOCS.slice(0, 30).map((d) => [d, 'RF', 'field_owner', 'GLU', '2024-01-01', ''])]);
  await postEvents(world());
  for (const [name, role, rep] of [['rf', 'field_rep', 'RF'], ['an', 'analyst', null], ['mk', 'marketing', null]]) {
    const u = await createUser(srv, { login: uniqueLogin(name), role, rep_id: rep || undefined });
    tok[name] = await srv.token(u.login);
  }
  let r;
  for (let i = 0; i < 60; i++) { // the projections load after start
    r = await post('/api/v1/nba/models/train', TRAIN);
    if (r.status !== 503) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(r.status, 200, r.text);
  run1 = r.json;
});

after(async () => { await srv?.stop(); });

const version = (run, channel, category = null) => run.versions.find((v) => v.channel === channel && (v.category ?? null) === category);

test('training learns every channel with data; examples + held-out rows are the window\'s attempts', () => {
  assert.equal(run1.run, 1);
  assert.ok(run1.took_ms >= 0);
  const phone = version(run1, 'phone');
  assert.ok(phone, JSON.stringify(run1));
  assert.equal(phone.version, 'phone/global/v1');
  assert.equal(phone.active, true);
  // every call is in the 180-day window: 60 doctors × 48 calls, split 80/20 by time
  assert.equal(phone.examples + phone.metrics.holdout_n, DOCS.length * CALLS);
  assert.equal(run1.examples.phone, DOCS.length * CALLS);
  assert.equal(run1.examples.wechat, DOCS.length * MSGS);
  // the planted preference separates the held-out calls well (10% label noise caps it)
  assert.ok(phone.metrics.auc > 0.8, `auc ${phone.metrics.auc}`);
  assert.ok(phone.metrics.log_loss < Math.log(2), `log loss ${phone.metrics.log_loss}`);
  assert.ok(version(run1, 'wechat'), 'a wechat model');
  // no email or meeting attempts: said, not trained
  assert.match(run1.skipped.email, /too few/);
  assert.equal(version(run1, 'email'), undefined);
  // per-specialty models: both specialties have 1,440 calls (≥ 200) with ≥ 20 answered
  const cats = run1.versions.filter((v) => v.channel === 'phone' && v.category);
  assert.deepEqual(cats.map((v) => v.category).sort(), ['cardiology', 'endocrinology']);
  for (const c of cats) {
    assert.equal(c.split_by, 'specialty');
    assert.equal(typeof c.global_log_loss, 'number');
    assert.equal(c.beats_global, c.metrics.log_loss < c.global_log_loss);
  }
});

test('the versions list and one version with calibration and coefficients', async () => {
  const r = await get('/api/v1/nba/models');
  assert.equal(r.status, 200, r.text);
  const phone = r.json.items.find((v) => v.version === 'phone/global/v1');
  assert.ok(phone);
  assert.equal(phone.active, true);
  assert.equal(phone.examples, version(run1, 'phone').examples);
  const one = await get(`/api/v1/nba/models/${phone.id}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.calibration.length, 10);
  const n = one.json.calibration.reduce((s, b) => s + b.n, 0);
  assert.equal(n, phone.metrics.holdout_n);
  // observed rate in the top decile ≫ bottom decile
  assert.ok(one.json.calibration[9].obs > one.json.calibration[0].obs + 0.5, JSON.stringify(one.json.calibration));
  const w = Object.fromEntries(one.json.coefficients.map((c) => [c.feature, c.weight]));
  assert.ok(w['band.14-18'] > w['band.08-12'], JSON.stringify(w));
  assert.ok('intercept' in w);
  // pages, newest first
  const p1 = await get('/api/v1/nba/models?limit=2');
  assert.equal(p1.json.items.length, 2);
  assert.ok(p1.json.next_cursor);
  const p2 = await get(`/api/v1/nba/models?limit=2&cursor=${p1.json.next_cursor}`);
  assert.ok(p2.json.items[0].id < p1.json.items[1].id);
  assertError(await get('/api/v1/nba/models?limit=0'), 400);
});

test('an HCP\'s propensity ranks the planted afternoon slot first, with reasons and a Thompson arm', async () => {
  const r = await get('/api/v1/hcps/D05/propensity');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.hcp, 'D05');
  const phone = r.json.channels.find((c) => c.channel === 'phone');
  assert.ok(phone.model_version.startsWith('phone/'), phone.model_version);
  assert.equal(phone.best.band, '14-18');
  assert.equal(phone.slots.length, 28);
  const tue = phone.slots.filter((s) => s.weekday === 'Tuesday');
  const pm = tue.find((s) => s.band === '14-18').p;
  const am = tue.find((s) => s.band === '08-12').p;
  assert.ok(pm > 2 * am, `afternoon ${pm} vs morning ${am}`);
  assert.ok(phone.reasons.length > 0);
  assert.ok(phone.reasons.every((s) => typeof s === 'string' && s.length > 3));
  assert.ok(phone.reasons.some((s) => /14-18/.test(s)), JSON.stringify(phone.reasons));
  const t = r.json.thompson;
  assert.ok(t.probability > 0 && t.probability <= 1);
  assert.equal(t.p, r.json.channels.find((c) => c.channel === t.channel).slots[t.slot].p);
  // reproducible: the same doctor and moment sample the same arm with the same probability
  const at = encodeURIComponent(r.json.as_of);
  const once = (await get(`/api/v1/hcps/D05/propensity?as_of=${at}`)).json.thompson;
  const again = (await get(`/api/v1/hcps/D05/propensity?as_of=${at}`)).json.thompson;
  assert.deepEqual(again, once);
  assert.equal(once.channel, t.channel); // the same day: the same draws
  assert.equal(once.slot, t.slot);
  // only the channels asked for
  const ph = (await get('/api/v1/hcps/D05/propensity?channels=phone')).json.thompson;
  assert.equal(ph.channel, 'phone');
  assert.equal(ph.model_version, phone.model_version);
  assert.ok(ph.probability > 0 && ph.probability <= 1);
  assert.equal((await get('/api/v1/hcps/D05/propensity?channels=email')).json.thompson, null); // no email model
  assertError(await get('/api/v1/hcps/D05/propensity?channels=fax'), 400);
  // as_of before every event: no history, the slot effects alone still favour the afternoon
  const early = await get('/api/v1/hcps/D05/propensity?as_of=2020-01-01T00:00:00Z');
  assert.equal(early.status, 200, early.text);
});

test('activating an older version makes it serve its channel', async () => {
  const r2 = await post('/api/v1/nba/models/train', TRAIN, tok.mk);
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.run, 2);
  assert.equal(version(r2.json, 'phone').version, 'phone/global/v2');
  const old = version(run1, 'phone');
  const a = await post(`/api/v1/nba/models/${old.id}/activate`, {});
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.active, true);
  const list = (await get('/api/v1/nba/models')).json.items;
  assert.equal(list.find((v) => v.version === 'phone/global/v1').active, true);
  assert.equal(list.find((v) => v.version === 'phone/global/v2').active, false);
  // the store agrees: one active global phone model
  const rows = await srv.sql("SELECT version FROM nba_models WHERE channel = 'phone' AND category IS NULL AND active = 1");
  assert.match(String(rows), /phone\/global\/v1/);
  const p = await get('/api/v1/hcps/D50/propensity');
  const phone = p.json.channels.find((c) => c.channel === 'phone');
  assert.ok(/v1$/.test(phone.model_version) || /v2$/.test(phone.model_version), phone.model_version);
});

test('off-policy evaluation of the greedy policy on the logged attempts', async () => {
  const r = await post('/api/v1/nba/evaluate', { window_days: 60 }, tok.an);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.n > 0);
  assert.match(r.json.propensity, /estimated/);
  for (const k of ['ips', 'snips', 'dr', 'logged']) {
    const e = r.json[k];
    assert.equal(typeof e.value, 'number', `${k}: ${r.text}`);
    assert.ok(e.ci_low <= e.value && e.value <= e.ci_high, `${k}: ${JSON.stringify(e)}`);
  }
  // the greedy policy calls in the afternoon, where the log's calls were answered: better than the log
  assert.ok(r.json.snips.value > r.json.logged.value, r.text);
});

test('roles: training is for admin and marketing, evaluation adds analysts, propensity is scoped', async () => {
  assertError(await post('/api/v1/nba/models/train', TRAIN, tok.rf), 403);
  assertError(await post('/api/v1/nba/models/train', TRAIN, tok.an), 403);
  assertError(await post('/api/v1/nba/evaluate', {}, tok.rf), 403);
  assert.equal((await get('/api/v1/nba/models', tok.an)).status, 200);
  assertError(await get('/api/v1/nba/models', tok.rf), 403);
  assert.equal((await get('/api/v1/hcps/D05/propensity', tok.rf)).status, 200);
  assertError(await get('/api/v1/hcps/D40/propensity', tok.rf), 403);
  assertError(await post('/api/v1/nba/models/1/activate', {}, tok.an), 403);
});

test('categories by a tag: split_by a boolean tag trains a model per value', async () => {
  let r = await srv.api('PUT', '/api/v1/tags/cardio_doc', { token: admin, body: { expr: 'specialty = "cardiology"' } });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  r = await post('/api/v1/nba/models/train', { ...TRAIN, split_by: 'cardio_doc' });
  assert.equal(r.status, 200, r.text);
  const cats = r.json.versions.filter((v) => v.channel === 'phone' && v.category);
  assert.deepEqual(cats.map((v) => v.category).sort(), ['false', 'true']);
  assert.ok(cats.every((v) => v.split_by === 'cardio_doc'));
  assert.ok(r.json.versions.some((v) => v.version === `phone/cardio_doc=true/v${r.json.run}`));
  // a number tag or an unknown name cannot split
  r = await srv.api('PUT', '/api/v1/tags/calls_90d', { token: admin, body: { expr: 'count(channel = "phone", 90d)' } });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  let e = assertError(await post('/api/v1/nba/models/train', { ...TRAIN, split_by: 'calls_90d' }), 400);
  assert.equal(e.detail.field, 'split_by');
  e = assertError(await srv.api('PUT', '/api/v1/nba/models/settings', { token: admin, body: { split_by: 'no_such_tag' } }), 400);
  assert.equal(e.detail.field, 'split_by');
});

test('bad input: window_days 0 or huge, unknown ids and fields, an unknown split', async () => {
  let e = assertError(await post('/api/v1/nba/models/train', { window_days: 0 }), 400);
  assert.equal(e.detail.field, 'window_days');
  e = assertError(await post('/api/v1/nba/models/train', { window_days: 100000 }), 400);
  assert.equal(e.detail.field, 'window_days');
  e = assertError(await post('/api/v1/nba/models/train', { window_days: 'many' }), 400);
  assert.equal(e.detail.field, 'window_days');
  e = assertError(await post('/api/v1/nba/models/train', { window: 30 }), 400);
  assertError(await post('/api/v1/nba/models/train', { split_by: 'shoe_size' }), 400);
  assertError(await get('/api/v1/nba/models/999999'), 404);
  assertError(await post('/api/v1/nba/models/999999/activate', {}), 404);
  assertError(await get('/api/v1/nba/models/abc'), 404); // as every route's id
  assertError(await post('/api/v1/nba/evaluate', { window_days: 0 }), 400);
  assertError(await get('/api/v1/hcps/NOPE/propensity'), 404);
  assertError(await get('/api/v1/hcps/D05/propensity?as_of=yesterday'), 400);
  // nothing half-written: still three runs
  const rows = await srv.sql('SELECT COUNT(DISTINCT run) FROM nba_models');
  assert.match(String(rows), /^3$/);
});

test('the active versions load again when the server restarts', async () => {
  const asOf = encodeURIComponent(new Date().toISOString());
  const before = (await get(`/api/v1/hcps/D05/propensity?as_of=${asOf}`)).json;
  await srv.kill('SIGTERM');
  await srv.restart();
  let r;
  for (let i = 0; i < 60; i++) {
    r = await get(`/api/v1/hcps/D05/propensity?as_of=${asOf}`);
    if (r.status === 200 && r.json.channels.length) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(r.status, 200, r.text);
  const phone = (x) => x.channels.find((c) => c.channel === 'phone');
  assert.equal(phone(r.json).model_version, phone(before).model_version);
  assert.equal(phone(r.json).best.band, '14-18');
  assert.deepEqual(phone(r.json).slots.map((s) => s.p.toFixed(9)), phone(before).slots.map((s) => s.p.toFixed(9)));
});

test('settings: the schedule is off by default and can be switched on', async () => {
  let r = await get('/api/v1/nba/models/settings');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.schedule, 'off');
  assert.equal(r.json.split_by, 'specialty');
  r = await srv.api('PUT', '/api/v1/nba/models/settings', { token: admin, body: { schedule: 'daily', hour: 3, window_days: 90 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.schedule, 'daily');
  r = await get('/api/v1/nba/models/settings');
  assert.equal(r.json.window_days, 90);
  assertError(await srv.api('PUT', '/api/v1/nba/models/settings', { token: admin, body: { schedule: 'hourly' } }), 400);
  assertError(await srv.api('PUT', '/api/v1/nba/models/settings', { token: tok.an, body: { schedule: 'off' } }), 403);
});

test('the daily schedule retrains on its own, as "schedule"', async () => {
  const other = await startServer();
  try {
    const imp = async (entity, rows) => {
      const r = await other.api('POST', `/api/v1/${entity}/import`, { token: other.adminToken, body: csv(rows), headers: { 'Content-Type': 'text/csv' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.failed, 0, r.text);
    };
    await imp('reps', [['id', 'name', 'type', 'manager'], ['RI', '李娜', 'inside', '']]);
    await imp('hcps', [['id', 'name', 'specialty', 'title'], ...DOCS.map((d, i) => [d, `医生${i}`, 'cardiology', 'attending'])]);
    const list = world();
    for (let i = 0; i < list.length; i += 1000) {
      const body = list.slice(i, i + 1000).map((e) => JSON.stringify(e)).join('\n') + '\n';
      const r = await other.api('POST', '/api/v1/events', { token: other.adminToken, body, headers: { 'Content-Type': 'application/x-ndjson' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.accepted, Math.min(1000, list.length - i), r.text.slice(0, 300));
    }
    let r = await other.api('GET', '/api/v1/nba/models', { token: other.adminToken });
    assert.deepEqual(r.json.items, []); // off by default: nothing trains
    r = await other.api('PUT', '/api/v1/nba/models/settings', { token: other.adminToken, body: { schedule: 'daily', hour: 0, window_days: 180 } });
    assert.equal(r.status, 200, r.text);
    let items = [];
    for (let i = 0; i < 80 && !items.length; i++) {
      await new Promise((res) => setTimeout(res, 250));
      items = (await other.api('GET', '/api/v1/nba/models', { token: other.adminToken })).json.items;
    }
    const phone = items.find((v) => v.version === 'phone/global/v1');
    assert.ok(phone, JSON.stringify(items));
    assert.equal(phone.trained_by, 'schedule');
    assert.equal(phone.active, true);
    // once a day: a second look finds the same run
    await new Promise((res) => setTimeout(res, 1000));
    const again = (await other.api('GET', '/api/v1/nba/models', { token: other.adminToken })).json.items;
    assert.equal(new Set(again.map((v) => v.run)).size, 1);
  } finally {
    await other.stop();
  }
});

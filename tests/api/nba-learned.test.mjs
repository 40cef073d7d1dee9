// The learned policy in serving (docs/nba.md, "The learned policy") through
// the API, on SQLite and PostgreSQL: a world with a planted preference,
// models trained on it, and an experiment with a rules arm and a learned
// arm. A learned-arm doctor's recommendation comes from the models (source
// "model", the model version, the model's reason in words, a window inside
// the slot Thompson sampling drew), and its log row carries the Thompson
// probability — the same number GET /hcps/{id}/propensity?channels=phone
// gives for that doctor and moment (mr_models_choose), strictly between 0
// and 1. A rules-arm doctor keeps the rules' ranking and propensity 1. The
// settings' policy "learned" does the same for doctors in no experiment; a
// candidate whose channel has no active model falls back to the rules and
// says so; the run ranks learned doctors the same way.
//
// The world (as tests/api/models.test.mjs): 60 doctors at one hospital,
// D00–D29 cardiologists, D30–D59 endocrinologists, all with the inside owner
// RI and phone consent. Every doctor got 48 calls over the last 144 days,
// cycling through the four hour bands (09:00, 13:00, 15:00, 19:00 Beijing);
// a call at 15:00 (the 14–18 band) is answered, any other is not, except one
// in ten flips. So a doctor's own history favours the 14–18 band on every
// weekday (about 11 of 12 answered there, 1 of 12 elsewhere), and the draws
// spread over the seven 14–18 slots: no arm wins every draw.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertError } from './harness.mjs';

let srv;
let admin;
const DAY = 24 * 3600 * 1000;
const DOCS = Array.from({ length: 60 }, (_, i) => `D${String(i).padStart(2, '0')}`);
const BANDS_UTC = [1, 5, 7, 11]; // 09:00, 13:00, 15:00, 19:00 in Beijing
const CALLS = 48;
const MSGS = 24;
// the moment asked for, in whole seconds, so that every route sees the same one
const AS_OF = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
const AT = encodeURIComponent(AS_OF);

const csv = (rows) => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
const get = (p) => srv.api('GET', p, { token: admin });
const put = (p, body) => srv.api('PUT', p, { token: admin, body });
const post = (p, body) => srv.api('POST', p, { token: admin, body });
const recs = (id, k = 3) => get(`/api/v1/hcps/${id}/recommendations?as_of=${AT}&k=${k}`);
const importCsv = async (entity, rows) => {
  const r = await srv.api('POST', `/api/v1/${entity}/import`, { token: admin, body: csv(rows), headers: { 'Content-Type': 'text/csv' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.failed, 0, r.text);
};

let seed = 4242;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

function world() {
  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 2 * DAY;
  const ev = [];
  let n = 0;
  for (const d of DOCS) {
    for (let k = 0; k < CALLS; k++) {
      const band = k % 4;
      const ts = base - k * 3 * DAY + BANDS_UTC[band] * 3600 * 1000;
      const answered = (band === 2) !== (rnd() < 0.1);
      ev.push({ id: `l-${++n}`, ts: new Date(ts).toISOString(), hcp: d, channel: 'phone', outcome: answered ? 'answered' : 'no_answer', rep: 'RI' });
    }
    for (let k = 0; k < MSGS; k++) {
      const ts = base - (k * 6 + 1) * DAY + 3 * 3600 * 1000;
      ev.push({ id: `l-${++n}`, ts: new Date(ts).toISOString(), hcp: d, channel: 'wechat', outcome: rnd() < 0.4 ? 'responded' : 'read', rep: 'RI' });
    }
  }
  return ev;
}

async function postEvents(list) {
  for (let i = 0; i < list.length; i += 1000) {
    const body = list.slice(i, i + 1000).map((e) => JSON.stringify(e)).join('\n') + '\n';
    const r = await srv.api('POST', '/api/v1/events', { token: admin, body, headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, r.text);
  }
}

// The Beijing hour and weekday (0 Monday) of an RFC 3339 time.
const beijing = (iso) => {
  const t = new Date(Date.parse(iso) + 8 * 3600 * 1000);
  return { hour: t.getUTCHours(), minute: t.getUTCMinutes(), wd: (t.getUTCDay() + 6) % 7, day: t.toISOString().slice(0, 10) };
};
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const arms = {};          // doctor → arm name (cardiologists only)
let learnedDoc, rulesDoc;

before(async () => {
  srv = await startServer();
  admin = srv.adminToken;
  await importCsv('hcos', [['id', 'name', 'level', 'city_tier'], ['H1', '北京协和医院', '3', '1']]);
  await importCsv('reps', [['id', 'name', 'type', 'manager'], ['RI', '李娜', 'inside', '']]);
  await importCsv('hcps', [['id', 'name', 'specialty', 'title', 'hco'],
    ...DOCS.map((d, i) => [d, `医生${i}`, i < 30 ? 'cardiology' : 'endocrinology', 'attending', 'H1'])]);
  await importCsv('alignments', [['hcp', 'rep', 'role', 'product', 'valid_from', 'valid_to'],
    ...DOCS.map((d) => [d, 'RI', 'inside_owner', 'GLU', '2024-01-01', ''])]);
  await importCsv('consents', [['hcp', 'channel', 'purpose', 'status', 'captured_at'],
    ...DOCS.map((d) => [d, 'phone', 'promotional', 'opt_in', '2024-01-01'])]);
  await postEvents(world());
  // the world's doctors were called every 3 days: a budget that lets the rules suggest more
  let r = await put('/api/v1/nba/settings', { weekly_budget: 50, channel_caps: { phone: 20 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.policy, 'rules'); // the default
  r = await put('/api/v1/rules/call', { condition: 'true', priority: 1, action: { action: 'call', window: { days: 7, hours: [8, 21] } } });
  assert.equal(r.status, 201, r.text);
  for (let i = 0; i < 60; i++) { // the projections load after start
    r = await post('/api/v1/nba/models/train', { window_days: 180, min_examples: 200, min_positives: 20 });
    if (r.status !== 503) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.versions.some((v) => v.channel === 'phone' && v.active), r.text);
  r = await put('/api/v1/experiments/learn-ab', { unit: 'hcp', population: 'specialty = "cardiology"', metric: 'response_rate',
    arms: [{ name: 'expert', kind: 'rules', allocation: 50 }, { name: 'model', kind: 'learned', allocation: 50 }] });
  assert.equal(r.status, 201, r.text);
  r = await post('/api/v1/experiments/learn-ab/start', {});
  assert.equal(r.status, 200, r.text);
  for (const d of DOCS.slice(0, 30)) {
    r = await get(`/api/v1/experiments/learn-ab/assignment?hcp=${d}`);
    assert.equal(r.status, 200, r.text);
    arms[d] = r.json.arm.name;
  }
  learnedDoc = DOCS.slice(0, 30).find((d) => arms[d] === 'model');
  rulesDoc = DOCS.slice(0, 30).find((d) => arms[d] === 'expert');
  assert.ok(learnedDoc && rulesDoc, JSON.stringify(arms));
});

after(async () => { await srv?.stop(); });

const logRow = async (doc) => {
  const r = await get(`/api/v1/nba/log?hcp=${doc}&limit=1`);
  assert.equal(r.status, 200, r.text);
  return r.json.items[0];
};

test('a learned-arm doctor: the models choose, with their version, reasons, slot and the Thompson probability', async () => {
  const r = await recs(learnedDoc, 1);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.items.length, 1, r.text);
  const it = r.json.items[0];
  assert.equal(it.source, 'model', r.text);
  assert.equal(it.policy, 'learned');
  assert.equal(it.action, 'call');
  assert.match(it.model_version, /^phone\//);
  assert.equal(it.rule, 'call');
  assert.deepEqual(it.experiment, { name: 'learn-ab', arm: 'model' });
  // the model's reason in words, naming the model, and the rule's
  assert.ok(it.reasons.some((s) => s.startsWith(`model ${it.model_version}: `)), JSON.stringify(it.reasons));
  assert.ok(it.reasons.some((s) => /Thompson sampling chose phone/.test(s)), JSON.stringify(it.reasons));
  assert.ok(it.reasons.some((s) => s.startsWith('rule call')), JSON.stringify(it.reasons));
  // the planted slot: the window lies in the 14–18 band of the weekday drawn, within the rule's 7 days
  assert.equal(it.slot.band, '14-18', JSON.stringify(it.slot));
  const s = beijing(it.window.start), e = beijing(it.window.end);
  assert.equal(WEEKDAYS[s.wd], it.slot.weekday);
  assert.ok(s.hour >= 14 && s.hour < 18, it.window.start);
  assert.ok(e.day === s.day && (e.hour < 18 || (e.hour === 18 && e.minute === 0)), it.window.end);
  assert.ok(Date.parse(it.window.start) >= Date.parse(AS_OF));
  assert.ok(Date.parse(it.window.end) <= Date.parse(AS_OF) + 7 * DAY);
  // the probability the policy gave this action: strictly between 0 and 1, and what mr_models_choose gives
  assert.ok(it.propensity > 0 && it.propensity < 1, `propensity ${it.propensity}`);
  const t = (await get(`/api/v1/hcps/${learnedDoc}/propensity?channels=phone&as_of=${AT}`)).json.thompson;
  assert.equal(it.propensity, t.probability);
  assert.equal(it.slot.slot, t.slot);
  assert.equal(it.score, t.p);
  assert.equal(it.model_version, t.model_version);
  // the log row says the same, and so does the table
  const row = await logRow(learnedDoc);
  assert.deepEqual([row.source, row.model_version, row.rule, row.propensity, row.experiment, row.arm, row.via],
    ['model', it.model_version, 'call', t.probability, 'learn-ab', 'model', 'serve']);
  assert.equal(row.window_start, it.window.start);
  const stored = Number(await srv.sql(`SELECT propensity FROM nba_recommendations WHERE id = ${row.id}`));
  assert.ok(Math.abs(stored - t.probability) < 1e-12, `${stored} vs ${t.probability}`);
  // reproducible for the doctor and day
  const again = (await recs(learnedDoc, 1)).json.items[0];
  assert.deepEqual([again.propensity, again.window, again.slot], [it.propensity, it.window, it.slot]);
});

test('every learned-arm doctor gets an afternoon slot; a rules-arm doctor keeps the rules, propensity 1', async () => {
  for (const d of DOCS.slice(0, 30)) {
    const it = (await recs(d, 1)).json.items[0];
    if (arms[d] === 'model') {
      assert.equal(it.source, 'model', d);
      assert.equal(it.slot.band, '14-18', `${d}: ${JSON.stringify(it.slot)}`);
      assert.ok(it.propensity > 0 && it.propensity < 1, `${d}: ${it.propensity}`);
    } else {
      assert.equal(it.source, 'rule', d);
      assert.equal(it.propensity, 1);
    }
  }
  const it = (await recs(rulesDoc, 1)).json.items[0];
  assert.equal(it.policy, 'rules');
  assert.equal(it.model_version, null);
  assert.equal(it.rule, 'call');
  assert.deepEqual(it.experiment, { name: 'learn-ab', arm: 'expert' });
  assert.ok(!it.reasons.some((s) => /^model /.test(s)), JSON.stringify(it.reasons));
  const row = await logRow(rulesDoc);
  assert.deepEqual([row.source, row.model_version, row.propensity, row.arm], ['rule', null, 1, 'expert']);
});

test('the settings\' policy "learned" ranks doctors in no experiment by the models', async () => {
  const d = 'D45'; // an endocrinologist: outside the experiment's population
  assert.equal((await recs(d, 1)).json.items[0].source, 'rule');
  assert.equal(assertError(await put('/api/v1/nba/settings', { policy: 'bandit' }), 400).detail.field, 'policy');
  let r = await put('/api/v1/nba/settings', { policy: 'learned' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.policy, 'learned');
  assert.equal((await get('/api/v1/nba/settings')).json.policy, 'learned');
  const it = (await recs(d, 1)).json.items[0];
  assert.equal(it.source, 'model', JSON.stringify(it));
  assert.equal(it.policy, 'learned');
  assert.equal(it.experiment, undefined);
  const t = (await get(`/api/v1/hcps/${d}/propensity?channels=phone&as_of=${AT}`)).json.thompson;
  assert.equal(it.propensity, t.probability);
  assert.equal((await logRow(d)).propensity, t.probability);
  // the experiment's arms still decide for its doctors
  assert.equal((await recs(rulesDoc, 1)).json.items[0].source, 'rule');
  r = await put('/api/v1/nba/settings', { policy: 'rules' });
  assert.equal(r.json.policy, 'rules');
  assert.equal((await recs(d, 1)).json.items[0].source, 'rule');
});

test('no active model for the candidates\' channel: the rules rank, and the reasons say so', async () => {
  // only an invitation (online meetings: no model was trained, the world has none) is left
  let r = await put('/api/v1/rules/call', { condition: 'true', priority: 1, enabled: false, action: { action: 'call' } });
  assert.equal(r.status, 200, r.text);
  r = await put('/api/v1/rules/invite', { condition: 'true', priority: 2, action: { action: 'meeting_invite', channel: 'phone' } });
  assert.equal(r.status, 201, r.text);
  try {
    const it = (await recs(learnedDoc, 1)).json.items[0];
    assert.equal(it.source, 'rule', JSON.stringify(it));
    assert.equal(it.action, 'meeting_invite');
    assert.equal(it.propensity, 1);
    assert.ok(it.reasons.some((s) => /learned policy: no active response model for meeting/.test(s) && /ranked by the rules/.test(s)),
      JSON.stringify(it.reasons));
    const row = await logRow(learnedDoc);
    assert.deepEqual([row.source, row.rule, row.propensity], ['rule', 'invite', 1]);
  } finally {
    assert.equal((await srv.api('DELETE', '/api/v1/rules/invite', { token: admin })).status, 204);
    r = await put('/api/v1/rules/call', { condition: 'true', priority: 1, action: { action: 'call', window: { days: 7, hours: [8, 21] } } });
    assert.equal(r.status, 200, r.text);
  }
});

test('the run ranks the learned arm\'s doctors by the models: tasks in the drawn slot, log rows with the probability', async () => {
  const nLearned = Object.values(arms).filter((a) => a === 'model').length;
  // the CLI's dry run loads the active models too, and ranks the same doctors by them
  const cli = await srv.cli(['nba', 'run', '--dry-run', '--as-of', AS_OF, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const dry = JSON.parse(cli.stdout);
  assert.deepEqual([dry.learned, dry.by_model, dry.recommended], [nLearned, nLearned, DOCS.length], cli.stdout);
  const r = await post('/api/v1/nba/run', { as_of: AS_OF });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.learned, nLearned, r.text);
  assert.equal(r.json.by_model, nLearned, r.text);
  assert.equal(r.json.tasks_created, DOCS.length, r.text); // one call per doctor
  const rows = await srv.sql("SELECT COUNT(*) FROM nba_recommendations WHERE via = 'run' AND source = 'model'"
    + " AND model_version LIKE 'phone/%' AND propensity > 0 AND propensity < 1 AND arm = 'model'");
  assert.equal(Number(rows), nLearned);
  assert.equal(Number(await srv.sql("SELECT COUNT(*) FROM nba_recommendations WHERE via = 'run' AND source = 'rule'"
    + " AND propensity = 1")), DOCS.length - nLearned);
  // the learned doctor's task: in the slot serving drew for the same moment, with the same probability
  const it = (await recs(learnedDoc, 1)).json.items[0];
  const runRow = (await get(`/api/v1/nba/log?hcp=${learnedDoc}&limit=10`)).json.items.find((x) => x.via === 'run');
  assert.ok(runRow, 'a run row');
  assert.equal(runRow.propensity, it.propensity);
  assert.equal(runRow.window_start, it.window.start);
  const task = (await get(`/api/v1/tasks/${runRow.task_id}`)).json;
  assert.equal(task.due_from, it.window.start, JSON.stringify(task));
  assert.match(task.reason, /model phone\//);
  assert.equal(task.source, 'model');
});

test('a random arm draws channel and slot uniformly among the candidates and logs 1 / choices', async () => {
  // the endocrinologists (outside learn-ab): rules against random
  let r = await put('/api/v1/experiments/rand-ab', { unit: 'hcp', population: 'specialty = "endocrinology"', metric: 'effective_rate',
    arms: [{ name: 'expert', kind: 'rules', allocation: 50 }, { name: 'uniform', kind: 'random', allocation: 50 }] });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.arms[1].kind, 'random');
  assert.equal((await post('/api/v1/experiments/rand-ab/start', {})).status, 200);
  const docs = DOCS.slice(30);
  const armOf = {};
  for (const d of docs) armOf[d] = (await get(`/api/v1/experiments/rand-ab/assignment?hcp=${d}`)).json.arm.name;
  const randomDocs = docs.filter((d) => armOf[d] === 'uniform');
  assert.ok(randomDocs.length > 3 && randomDocs.length < docs.length, JSON.stringify(armOf));
  const slots = new Set();
  for (const d of randomDocs) {
    const it = (await recs(d, 1)).json.items[0];
    // one candidate channel (the call rule's phone) × 28 slots
    assert.deepEqual([it.source, it.model_version, it.policy, it.propensity], ['experiment', 'random', 'random', 1 / 28], JSON.stringify(it));
    assert.deepEqual(it.experiment, { name: 'rand-ab', arm: 'uniform' });
    assert.ok(it.reasons.some((s) => /^random arm: phone on \w+ \d\d-\d\d drawn uniformly \(probability 0\.036\)$/.test(s)), JSON.stringify(it.reasons));
    slots.add(it.slot.slot);
    // the window lies in the slot drawn (Beijing time)
    const start = new Date(Date.parse(it.window.start) + 8 * 3600 * 1000);
    assert.equal((start.getUTCDay() + 6) % 7, Math.floor(it.slot.slot / 4), JSON.stringify(it));
    const row = await logRow(d);
    assert.deepEqual([row.source, row.model_version, row.propensity, row.arm], ['experiment', 'random', 1 / 28, 'uniform']);
  }
  assert.ok(slots.size > 1, `the draws spread over slots: ${[...slots]}`); // independent of the doctors' history
  const rulesIt = (await recs(docs.find((d) => armOf[d] === 'expert'), 1)).json.items[0];
  assert.deepEqual([rulesIt.source, rulesIt.policy, rulesIt.propensity], ['rule', 'rules', 1]);
  assert.equal((await post('/api/v1/experiments/rand-ab/stop', {})).status, 200);
});

test('medreach nba train trains from the command line: the new versions are active, with an audit record', async () => {
  const before = Number(await srv.sql('SELECT COALESCE(MAX(run), 0) FROM nba_models'));
  const r = await srv.cli(['nba', 'train', '--window-days', '180', '--as-of', AS_OF, '--split-by', '', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.run, before + 1, r.stdout);
  const phone = out.versions.find((v) => v.channel === 'phone');
  assert.ok(phone && phone.active && phone.metrics.auc > 0.8, r.stdout); // the planted band preference
  // the store's active phone model is the new one
  assert.equal(await srv.sql(`SELECT run FROM nba_models WHERE channel = 'phone' AND category IS NULL AND active = 1`),
    String(before + 1));
  assert.equal(await srv.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'models.train' AND login = 'cli'"), '1');
  // bad input: a usage error
  const bad = await srv.cli(['nba', 'train', '--window-days', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad option or value: 0/);
});

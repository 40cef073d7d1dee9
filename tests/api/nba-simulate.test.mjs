// medreach nba simulate (docs/nba-simulate.md) on SQLite and PostgreSQL: a
// small demo world whose history ends five weeks ago, two simulated weeks
// of the uplift experiment (rules, learned and random arms), and the
// answer checked against the store: every task the runs made was done by
// one event that fulfilled it, the experiment is stopped over exactly the
// simulated weeks, and its arms' tallies add up to the events of those
// weeks counted here in SQL. Then a second run on the same world (409-like
// refusal), a world that ends too late, and bad options.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.mjs';

const RULES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'nba-sim.json');
const WEEK = 7 * 24 * 3600 * 1000;
let srv;
let out;

before(async () => {
  srv = await startServer();
  // the simulation runs on a database no server serves (docs/nba-simulate.md): a server would expire
  // the simulated weeks' tasks, whose windows lie in the past, before their reps do them
  await srv.kill('SIGTERM');
  const asOf = new Date(Date.now() - 5 * WEEK).toISOString();
  const demo = await srv.cli(['demo', '--hcps', '600', '--seed', '3', '--as-of', asOf]);
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  const r = await srv.cli(['nba', 'simulate', '--seed', '3', '--rules', RULES, '--weeks', '2', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  out = JSON.parse(r.stdout);
  await srv.restart();
});

after(async () => { await srv?.stop(); });

const num = async (q) => Number(await srv.sql(q));

test('every task of the simulated weeks was done by one event that fulfilled it', async () => {
  assert.equal(out.weeks.length, 2);
  assert.ok(out.tasks > 50, JSON.stringify(out.weeks));
  assert.equal(out.done, out.tasks);
  assert.equal(out.weeks.reduce((s, w) => s + w.tasks, 0), out.tasks);
  assert.equal(await num("SELECT COUNT(*) FROM events WHERE eid LIKE 'sim3-uplift-%'"), out.done);
  assert.equal(await num("SELECT COUNT(*) FROM tasks WHERE fulfilled_event LIKE 'sim3-uplift-%' AND status = 'done'"), out.done);
  assert.equal(await num("SELECT COUNT(*) FROM tasks WHERE status <> 'done'"), 0);
  // each event is its task's: same doctor, rep and channel, inside the task's window
  assert.equal(await num(`SELECT COUNT(*) FROM tasks t JOIN events e ON e.eid = t.fulfilled_event
    WHERE e.hcp_id <> t.hcp_id OR e.rep_id <> t.assignee_id OR e.ts < t.due_from OR e.ts > t.due_to`), 0);
  // the runs happened at the weeks' starts, a week apart
  const from = Date.parse(out.from) * 1000;
  assert.deepEqual(out.weeks.map((w) => Date.parse(w.as_of) * 1000 - from), [0, WEEK * 1000]);
  assert.equal(await num(`SELECT COUNT(*) FROM tasks WHERE created_at NOT IN (${from}, ${from + WEEK * 1000})`), 0);
});

test('the experiment ran over the simulated weeks and its arms add up to the events counted in SQL', async () => {
  assert.equal(out.experiment, 'uplift');
  assert.equal(out.status, 'stopped');
  assert.equal(out.metric, 'effective_contact_rate');
  assert.deepEqual(out.arms.map((a) => [a.name, a.kind]), [['rules', 'rules'], ['learned', 'learned'], ['random', 'random']]);
  assert.equal(Date.parse(out.to) - Date.parse(out.from), 2 * WEEK);
  const from = Date.parse(out.from) * 1000;
  const to = Date.parse(out.to) * 1000;
  // phone 1, wechat 2, wecom 3; effective and responded are rung 3 on each
  const where = `channel IN (1, 2, 3) AND ts >= ${from} AND ts < ${to}`;
  const den = await num(`SELECT COUNT(*) FROM events WHERE ${where}`);
  const top = await num(`SELECT COUNT(*) FROM events WHERE ${where} AND outcome = 3`);
  assert.ok(den > 0);
  assert.equal(out.arms.reduce((s, a) => s + a.denominator, 0), den);
  assert.equal(out.arms.reduce((s, a) => s + a.numerator, 0), top);
  for (const a of out.arms) {
    assert.ok(a.ci[0] <= a.rate && a.rate <= a.ci[1], JSON.stringify(a));
  }
  assert.deepEqual(out.comparisons.map((c) => [c.arm, c.control]), [['learned', 'rules'], ['random', 'rules']]);
  assert.ok(out.learned_vs_random.p_value >= 0 && out.learned_vs_random.p_value <= 1);
  // the other KPI rates of the same arms
  const calls = `channel = 1 AND ts >= ${from} AND ts < ${to}`;
  assert.equal(out.also.effective_rate.arms.reduce((s, a) => s + a.denominator, 0),
    await num(`SELECT COUNT(*) FROM events WHERE ${calls} AND outcome >= 2`));
  assert.equal(out.also.response_rate.arms.reduce((s, a) => s + a.numerator, 0),
    await num(`SELECT COUNT(*) FROM events WHERE channel IN (2, 3) AND ts >= ${from} AND ts < ${to} AND outcome = 3`));
});

test('each arm ranked its own way: the models, a uniform draw, the rules', async () => {
  const by = async (arm, source) => num(`SELECT COUNT(*) FROM nba_recommendations WHERE arm = '${arm}' AND source = '${source}' AND via = 'run'`);
  assert.ok(await by('learned', 'model') > 0);
  assert.ok(await by('random', 'experiment') > 0);
  assert.ok(await by('rules', 'rule') > 0);
  assert.equal(await num("SELECT COUNT(*) FROM nba_recommendations WHERE arm = 'rules' AND source <> 'rule'"), 0);
  // a random pick's propensity is 1 / (channels × 28)
  const props = (await srv.sql("SELECT DISTINCT propensity FROM nba_recommendations WHERE source = 'experiment'")).split('\n').map(Number);
  for (const p of props) assert.ok([1, 2, 3].some((k) => Math.abs(p - 1 / (28 * k)) < 1e-9), String(props));
  // the models were trained each week, on the events before it
  assert.ok(await num("SELECT COUNT(DISTINCT run) FROM nba_models") >= 2);
});

test('a second simulation on the same world, a world that ends too late, bad options', async () => {
  let r = await srv.cli(['nba', 'simulate', '--seed', '3', '--weeks', '1']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /experiment 'uplift' is stopped/);
  r = await srv.cli(['nba', 'simulate', '--seed', '3', '--weeks', '9', '--name', 'later']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /ends too late for 9 weeks/);
  r = await srv.cli(['nba', 'simulate', '--weeks', '0']);
  assert.equal(r.code, 2);
  r = await srv.cli(['nba', 'simulate', '--weeks', '1', '--arms', 'rules,bandit', '--name', 'bad-arms']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /--arms rules,bandit: .*kind/);
});

test('medreach experiments list and results read the experiment as the API does', async () => {
  let r = await srv.cli(['experiments', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const x = JSON.parse(r.stdout).find((e) => e.name === 'uplift');
  assert.deepEqual([x.status, x.unit, x.metric, x.arms.map((a) => a.kind)], ['stopped', 'hcp', 'effective_contact_rate', ['rules', 'learned', 'random']]);
  r = await srv.cli(['experiments', 'results', 'uplift', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  const api = await srv.api('GET', '/api/v1/experiments/uplift/results', { token: srv.adminToken });
  assert.equal(api.status, 200, api.text);
  assert.deepEqual(res.arms, api.json.arms);
  assert.deepEqual(res.arms.map((a) => [a.numerator, a.denominator]), out.arms.map((a) => [a.numerator, a.denominator]));
  // as a table, with the verdicts in words
  r = await srv.cli(['experiments', 'results', 'uplift']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^experiment uplift \(stopped\), metric effective_contact_rate/m);
  assert.match(r.stdout, /^learned\s+\d+\s+\d+\s+\d+\s+\d+\.\d\d% \[/m);
  assert.match(r.stdout, /(not yet )?significant: /);
  // bad input
  r = await srv.cli(['experiments', 'results', 'no-such']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no-such/);
  assert.equal((await srv.cli(['experiments', 'results'])).code, 2);
  assert.equal((await srv.cli(['experiments', 'stop', 'uplift'])).code, 2);
});

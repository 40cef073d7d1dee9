// medreach nba evaluate / replay on CSV logs written to a temp dir: the
// report's numbers against the same estimators computed here from the log
// (the learned policy is forced by the data: each segment has one action
// that pays), --json, a GBK log, --help, and every bad input's message and
// exit status (1 for the data, 2 for the usage).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, run } from './harness.mjs';
import gbk from './gbk.mjs';

let dir;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'mr-nba-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

const nba = (args) => run(BIN, ['nba', ...args]);
const write = (name, content) => {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
};

/** A deterministic pseudo-random sequence in [0, 1). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * A log of 400 decisions over two segments. The logger favours x in segment
 * A (p 0.8) and y in B (p 0.3 for x); the action that pays is x in A, y in B
 * (90% of the time, else 20%), so the learned policy is A → x, B → y.
 */
function makeLog({ names = { A: 'A', B: 'B', x: 'x', y: 'y' }, uniform = false } = {}) {
  const rand = rng(7);
  const rows = [];
  for (let i = 0; i < 400; i++) {
    const seg = rand() < 0.5 ? 'A' : 'B';
    const px = uniform ? 0.5 : seg === 'A' ? 0.8 : 0.3;
    const action = rand() < px ? 'x' : 'y';
    const p = action === 'x' ? px : 1 - px;
    const best = (seg === 'A') === (action === 'x');
    const reward = rand() < (best ? 0.9 : 0.2) ? 1 : 0;
    rows.push({ seg, action, p, reward, age: 30 + (i % 37), policy: seg === 'A' ? 'x' : 'y' });
  }
  const csv = ['id,seg_name,age,action,reward,p']
    .concat(rows.map((r, i) => `${i + 1},${names[r.seg]},${r.age},${names[r.action]},${r.reward},${r.p}`))
    .join('\n') + '\n';
  return { rows, csv };
}

const Z = 1.959963984540054;
function meanSe(t) {
  const n = t.length;
  const mean = t.reduce((a, b) => a + b, 0) / n;
  const ss = t.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { value: mean, se: Math.sqrt(ss / (n - 1) / n), n };
}

/** IPS, SNIPS and the logger's mean of a log under its known policy. */
function expected(rows) {
  const w = rows.map((r) => (r.policy === r.action ? 1 / r.p : 0));
  const ips = meanSe(rows.map((r, i) => w[i] * r.reward));
  const sw = w.reduce((a, b) => a + b, 0);
  const snipsValue = rows.reduce((a, r, i) => a + w[i] * r.reward, 0) / sw;
  const snipsSe = Math.sqrt(rows.reduce((a, r, i) => a + (w[i] * (r.reward - snipsValue)) ** 2, 0)) / sw;
  const matched = rows.filter((r) => r.policy === r.action);
  return {
    logged: meanSe(rows.map((r) => r.reward)),
    ips,
    snips: { value: snipsValue, se: snipsSe, n: matched.length },
    replay: meanSe(matched.map((r) => r.reward)),
    matched: matched.length,
    ess: sw ** 2 / w.reduce((a, b) => a + b * b, 0),
  };
}

function assertEst(got, want, what) {
  assert.ok(Math.abs(got.value - want.value) < 1e-9, `${what}: ${got.value} vs ${want.value}`);
  assert.ok(Math.abs(got.se - want.se) < 1e-9, `${what} se: ${got.se} vs ${want.se}`);
  assert.ok(Math.abs(got.ci[0] - (want.value - Z * want.se)) < 1e-9, `${what} ci`);
  assert.ok(Math.abs(got.ci[1] - (want.value + Z * want.se)) < 1e-9, `${what} ci`);
  assert.equal(got.n, want.n, `${what} n`);
}

/** The row of the text report for one estimator: [value, lo, hi, n]. */
function reportRow(stdout, name) {
  const m = stdout.match(new RegExp(`^${name}\\s+(-?[\\d.]+)\\s+\\[(-?[\\d.]+), (-?[\\d.]+)\\]\\s+(\\d+)`, 'm'));
  assert.ok(m, `no ${name} row in:\n${stdout}`);
  return m.slice(1).map(Number);
}

const evalArgs = (file, extra = []) =>
  ['evaluate', '--log', file, '--action', 'action', '--reward', 'reward', '--propensity', 'p', '--features', 'seg_*,age', ...extra];

test('evaluate: the report gives the logger, IPS, SNIPS, DR and DM with intervals matching a hand computation', async () => {
  const { rows, csv } = makeLog();
  const file = write('log.csv', csv);
  const want = expected(rows);
  const r = await nba(evalArgs(file));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /400 rows, 2 actions, 3 features from 2 columns/);
  assert.match(r.stdout, /logistic regression \(0\/1 rewards\) per action/);
  assert.match(r.stdout, new RegExp(`matched\\s+${want.matched} of 400 rows`));
  for (const [name, key] of [['logged', 'logged'], ['IPS', 'ips'], ['SNIPS', 'snips']]) {
    const [value, lo, hi, n] = reportRow(r.stdout, name);
    const e = want[key];
    assert.equal(value, Number(e.value.toFixed(4)), name);
    assert.equal(lo, Number((e.value - Z * e.se).toFixed(4)), `${name} lo`);
    assert.equal(hi, Number((e.value + Z * e.se).toFixed(4)), `${name} hi`);
    assert.equal(n, e.n, `${name} n`);
  }
  // The policy beats the logger, and DR agrees with IPS within their intervals.
  const [dr, drLo, drHi] = reportRow(r.stdout, 'DR');
  assert.ok(want.ips.value > want.logged.value + 0.1);
  assert.ok(drLo <= want.ips.value && want.ips.value <= drHi, `DR ${dr} [${drLo}, ${drHi}] vs IPS ${want.ips.value}`);
  reportRow(r.stdout, 'DM');
});

test('evaluate --json: every estimate with se, ci and n; the policy, matched rows and ESS', async () => {
  const { rows, csv } = makeLog();
  const file = write('log-json.csv', csv);
  const want = expected(rows);
  const r = await nba(evalArgs(file, ['--json']));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.rows, 400);
  assert.equal(j.encoding, 'utf-8');
  assert.deepEqual(j.actions, ['x', 'y']);
  assert.deepEqual(j.features, ['seg_name=A', 'seg_name=B', 'age']);
  assert.deepEqual(j.reward_model, { kind: 'logistic', lambda: 1, folds: 2 });
  const shareX = rows.filter((x) => x.policy === 'x').length / 400;
  assert.ok(Math.abs(j.policy.x - shareX) < 1e-12 && Math.abs(j.policy.y - (1 - shareX)) < 1e-12);
  assert.equal(j.matched, want.matched);
  assert.ok(Math.abs(j.ess - want.ess) < 1e-9);
  assertEst(j.estimates.logged, want.logged, 'logged');
  assertEst(j.estimates.ips, want.ips, 'ips');
  assertEst(j.estimates.snips, want.snips, 'snips');
  for (const k of ['dr', 'dm']) {
    assert.equal(j.estimates[k].n, 400);
    assert.ok(j.estimates[k].ci[0] < j.estimates[k].value && j.estimates[k].value < j.estimates[k].ci[1]);
  }
  assert.ok(Math.abs(j.estimates.dr.value - want.ips.value) < 3 * want.ips.se);
});

test('evaluate: real-valued rewards use ridge regression', async () => {
  const { rows } = makeLog();
  const csv = ['action,reward,p,seg'].concat(rows.map((r) => `${r.action},${r.reward * 2.5 + 0.25},${r.p},${r.seg}`)).join('\n');
  const r = await nba(['evaluate', '--log', write('real.csv', csv), '--action', 'action', '--reward', 'reward',
    '--propensity', 'p', '--features', 'seg', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.reward_model.kind, 'ridge');
  // IPS is linear in the rewards: IPS(2.5 r + 0.25) = 2.5 IPS(r) + 0.25 IPS(1).
  const ips = (rs) => expected(rs).ips.value;
  const want = 2.5 * ips(rows) + 0.25 * ips(rows.map((x) => ({ ...x, reward: 1 })));
  assert.ok(Math.abs(j.estimates.ips.value - want) < 1e-9, `${j.estimates.ips.value} vs ${want}`);
});

test('replay: the policy\'s mean reward over the matched rows of a uniform log; a skewed log is warned about', async () => {
  const { rows, csv } = makeLog({ uniform: true });
  const args = (file, extra = []) => ['replay', '--log', file, '--action', 'action', '--reward', 'reward', '--features', 'seg_name', ...extra];
  const want = expected(rows);
  const r = await nba(args(write('uniform.csv', csv), ['--json']));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.matched, want.matched);
  assertEst(j.estimates.replay, want.replay, 'replay');
  assertEst(j.estimates.logged, want.logged, 'logged');
  assert.equal(j.uniformity.warning, false);
  assert.ok(!r.stderr.includes('warning'), r.stderr);

  const text = await nba(args(write('uniform2.csv', csv)));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`matched\\s+${want.matched} of 400 rows`));
  assert.equal(reportRow(text.stdout, 'replay')[0], Number(want.replay.value.toFixed(4)));

  // Dropping three of every four y rows leaves x about four times as common as y.
  const heavy = csv.split('\n').filter((l, i) => i === 0 || !l.includes(',y,') || i % 4 === 0).join('\n');
  const w = await nba(args(write('skewed.csv', heavy)));
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /warning: the logged actions are far from uniform \(chi-square [\d.]+, df 1, p < 0\.001\)/);
});

test('a GBK log is read: names come out in UTF-8 and the numbers equal the UTF-8 log\'s', async () => {
  const names = { A: '心内科', B: '肿瘤科', x: '拜访', y: '微信' };
  const { csv } = makeLog({ names });
  const utf8 = await nba(evalArgs(write('utf8.csv', csv), ['--json']));
  const g = await nba(evalArgs(write('gbk.csv', gbk.encode(csv)), ['--json']));
  assert.equal(g.code, 0, g.stderr);
  const a = JSON.parse(utf8.stdout);
  const b = JSON.parse(g.stdout);
  assert.equal(b.encoding, 'gb18030');
  assert.deepEqual(b.actions, ['微信', '拜访'].sort());
  assert.deepEqual(b.features, ['seg_name=心内科', 'seg_name=肿瘤科', 'age']);
  assert.deepEqual(b.estimates, a.estimates);
});

test('help: nba --help and nba evaluate --help print the usage; nba alone and an unknown subcommand are usage errors', async () => {
  for (const args of [['--help'], ['evaluate', '--help'], ['replay', '--help']]) {
    const r = await nba(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: medreach nba evaluate --log FILE.csv --action COL --reward COL --propensity COL/);
    assert.match(r.stdout, /--features COLS/);
  }
  const none = await nba([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage: medreach nba/);
  const unknown = await nba(['judge']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /medreach nba: unknown subcommand 'judge' \(evaluate, replay, run, simulate or train\)/);
  const top = await run(BIN, ['--help']);
  assert.match(top.stdout, /\n {2}nba +next best action: run, train, simulate; evaluate \/ replay a policy on a CSV log\n/);
  assert.match(top.stdout, /\n {2}experiments +A\/B experiments: list, results NAME\n/);
});

test('usage errors exit 2: a missing --propensity or --features, --propensity on replay, a bad --lambda', async () => {
  const file = write('usage.csv', makeLog().csv);
  const cases = [
    ['evaluate', '--log', file, '--action', 'action', '--reward', 'reward', '--features', 'age'],
    ['evaluate', '--log', file, '--action', 'action', '--reward', 'reward', '--propensity', 'p'],
    ['replay', '--log', file, '--action', 'action', '--reward', 'reward', '--propensity', 'p', '--features', 'age'],
    [...evalArgs(file), '--lambda', '-1'],
    [...evalArgs(file), 'extra'],
  ];
  for (const args of cases) {
    const r = await nba(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: medreach nba/);
    assert.equal(r.stdout, '');
  }
});

test('bad logs exit 1 with a message that says where', async () => {
  const head = 'id,seg,action,reward,p\n';
  const good = '1,A,x,1,0.5\n2,B,y,0,0.5\n';
  const cases = [
    ['missing.csv', 'id,seg,action,p\n1,A,x,0.5\n', /: no reward column 'reward' in the header \(it has: id, seg, action, p\)/],
    ['nofeat.csv', head + good, /: no feature column 'seg_\*' in the header \(it has: id, seg, action, reward, p\)/, 'seg_*'],
    ['p0.csv', head + good + '3,A,x,1,0\n', /line 4, column 5 \(p\): '0' is not a probability in \(0, 1\]/],
    ['pneg.csv', head + good + '3,A,x,1,-0.5\n', /line 4, column 5 \(p\): '-0.5' is not a probability in \(0, 1\]/],
    ['pbig.csv', head + '1,A,x,1,1.2\n' + good, /line 2, column 5 \(p\): '1.2' is not a probability in \(0, 1\]/],
    ['pempty.csv', head + good + '3,A,x,1,\n', /line 4, column 5 \(p\): the propensity is missing/],
    ['ptext.csv', head + good + '3,A,x,1,high\n', /line 4, column 5 \(p\): 'high' is not a probability/],
    ['rtext.csv', head + good + '3,A,x,yes,0.5\n', /line 4, column 4 \(reward\): 'yes' is not a number/],
    ['empty.csv', '', /: the log is empty: no header row/],
    ['header.csv', head, /: the log has a header but no rows/],
    ['single.csv', head + '1,A,x,1,0.5\n2,B,x,0,0.5\n', /every row has the same action \('x'\)/],
    ['binary.csv', Buffer.concat([Buffer.from(head + good), Buffer.from([0x33, 0x2c, 0xff, 0xfe, 0x2c, 0x78, 0x2c, 0x31, 0x2c, 0x31, 0x0a])]),
      /line 4, column 2: bytes that are not valid GB18030 \(is the file in another encoding\?\)/],
  ];
  for (const [name, content, message, features = 'seg'] of cases) {
    const file = write(name, content);
    const r = await nba(['evaluate', '--log', file, '--action', 'action', '--reward', 'reward', '--propensity', 'p', '--features', features]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^medreach nba: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), name);
    assert.match(r.stderr, message, name);
    assert.equal(r.stdout, '', name);
  }
  const gone = await nba(evalArgs(path.join(dir, 'no-such.csv')));
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /medreach nba: cannot open .*no-such\.csv: No such file or directory/);
});

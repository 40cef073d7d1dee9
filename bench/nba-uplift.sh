#!/usr/bin/env bash
# bench/nba-uplift.sh — issue 6's uplift figure: the learned policy's effective contact rate against
# the rules-only and random policies, from an experiment over simulated weeks on the demo world
# (`medreach nba simulate`, docs/nba-simulate.md), replicated over several seeds.
#
#   bench/nba-uplift.sh        (make bench runs it)
#
# Each replication: a demo world (its hidden preferences drive the outcomes) whose year of history
# ends BENCH_UPLIFT_WEEKS + 1 weeks ago, the rules of bench/nba-sim.json, an experiment with the arms
# rules (the control), learned and random over every doctor, and the weeks played. The report gives
# each replication's rates with 95% Wilson intervals and the differences with their intervals and
# two-proportion p-values, all replications pooled, and the mean difference over the replications
# with its t interval: the events of one doctor are not independent, so the pooled test's interval
# is too narrow, while the replications (each a new world and a new assignment) are independent.
#
# Environment: BENCH_UPLIFT_SEEDS ["1 2 3 4 5"], BENCH_UPLIFT_HCPS [20000], BENCH_UPLIFT_WEEKS [16],
#   BENCH_UPLIFT_TOUCHES [28] (the history's touches per doctor per year),
#   BENCH_MEDREACH [build/medreach], BENCH_OUT [bench/out].
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
OUT=${BENCH_OUT:-$TOP/bench/out}
SEEDS=${BENCH_UPLIFT_SEEDS:-1 2 3 4 5}
HCPS=${BENCH_UPLIFT_HCPS:-20000}
WEEKS=${BENCH_UPLIFT_WEEKS:-16}
TOUCHES=${BENCH_UPLIFT_TOUCHES:-28}

die() { echo "uplift bench: $*" >&2; exit 1; }
note() { echo "uplift bench: $*" >&2; }
command -v node >/dev/null 2>&1 || die "node is missing (make bench installs it)"
[ -x "$BIN" ] || die "$BIN is missing; run make build"

DIR=$(mktemp -d /tmp/mr-upliftbench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$OUT"
AS_OF=$(date -u -d "-$((WEEKS + 1)) weeks" +%Y-%m-%dT00:00:00Z)
START=$(date +%s)

for seed in $SEEDS; do
  db="sqlite:$DIR/world-$seed.db"
  note "seed $seed: a demo world of $HCPS doctors, history to $AS_OF"
  "$BIN" demo --db "$db" --key-file "$DIR/key" --hcps "$HCPS" --seed "$seed" --touches "$TOUCHES" \
    --as-of "$AS_OF" >"$DIR/demo-$seed.log" 2>&1 || { cat "$DIR/demo-$seed.log" >&2; die "demo failed"; }
  note "seed $seed: $WEEKS simulated weeks"
  "$BIN" nba simulate --db "$db" --key-file "$DIR/key" --seed "$seed" --weeks "$WEEKS" \
    --rules "$TOP/bench/nba-sim.json" --json >"$DIR/uplift-$seed.json" 2>"$DIR/sim-$seed.log" ||
    { tail -5 "$DIR/sim-$seed.log" >&2; die "simulate failed"; }
  rm -f "$DIR/world-$seed.db"*
done

REPORT="$OUT/uplift-$(date -u +%Y%m%dT%H%M%SZ).md"
node - "$DIR" "$SEEDS" "$HCPS" "$WEEKS" "$TOUCHES" "$(($(date +%s) - START))" <<'JS' | tee "$REPORT"
const fs = require('fs');
const [dir, seeds, hcps, weeks, touches, secs] = process.argv.slice(2);
const Z = 1.959963984540054;
const wilson = (x, n) => {
  const p = x / n, d = 1 + Z * Z / n, c = (p + Z * Z / (2 * n)) / d;
  const h = Z / d * Math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n));
  return [c - h, c + h];
};
const erfc = (x) => { // Numerical Recipes' erfc, |error| < 1.2e-7
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886187 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : 2 - y;
};
const compare = (a, b) => { // a against b: difference, unpooled 95% CI, pooled two-sided p
  const p1 = a.num / a.den, p0 = b.num / b.den, d = p1 - p0;
  const se = Math.sqrt(p1 * (1 - p1) / a.den + p0 * (1 - p0) / b.den);
  const pp = (a.num + b.num) / (a.den + b.den);
  const z = d / Math.sqrt(pp * (1 - pp) * (1 / a.den + 1 / b.den));
  return { d, lo: d - Z * se, hi: d + Z * se, p: erfc(Math.abs(z) / Math.SQRT2) };
};
const pct = (v) => `${(100 * v).toFixed(2)}%`;
const rate = (a) => `${pct(a.num / a.den)} [${pct(wilson(a.num, a.den)[0])}, ${pct(wilson(a.num, a.den)[1])}] (${a.num}/${a.den})`;
const diff = (c) => `${c.d >= 0 ? '+' : ''}${(100 * c.d).toFixed(2)} pp [${(100 * c.lo).toFixed(2)}, ${(100 * c.hi).toFixed(2)}], p = ${c.p < 1e-4 ? c.p.toExponential(1) : c.p.toFixed(4)}${c.p < 0.05 ? ' ✔' : ''}`;
const pooled = { rules: { num: 0, den: 0 }, learned: { num: 0, den: 0 }, random: { num: 0, den: 0 } };
const eff = { rules: { num: 0, den: 0 }, learned: { num: 0, den: 0 }, random: { num: 0, den: 0 } };
const rows = [];
let metric = '';
for (const seed of seeds.split(/\s+/).filter(Boolean)) {
  const o = JSON.parse(fs.readFileSync(`${dir}/uplift-${seed}.json`, 'utf8'));
  metric = o.metric;
  const arm = Object.fromEntries(o.arms.map((a) => [a.name, { num: a.numerator, den: a.denominator }]));
  for (const k of Object.keys(pooled)) { pooled[k].num += arm[k].num; pooled[k].den += arm[k].den; }
  for (const a of o.also.effective_rate.arms) { eff[a.name].num += a.numerator; eff[a.name].den += a.denominator; }
  rows.push([`seed ${seed}`, arm]);
}
rows.push(['pooled', pooled]);
console.log(`### Uplift over simulated weeks (issue 6)\n`);
console.log(`${new Date().toISOString().slice(0, 16)}Z; \`medreach nba simulate\`: ${hcps} doctors, a year of history at ${touches} touches per doctor, ${weeks} weeks, rules of bench/nba-sim.json, arms rules (control) / learned / random, a third each; metric ${metric} (effective calls + responded WeChat/WeCom messages per call placed or message sent). ${secs} s in all.\n`);
console.log('| run | rules-only | learned | random | learned − rules | learned − random |');
console.log('|---|---|---|---|---|---|');
for (const [name, a] of rows) {
  console.log(`| ${name} | ${rate(a.rules)} | ${rate(a.learned)} | ${rate(a.random)} | ${diff(compare(a.learned, a.rules))} | ${diff(compare(a.learned, a.random))} |`);
}
console.log(`\nARCHITECTURE's effective-communication rate (effective calls / calls successful or better), pooled: rules-only ${rate(eff.rules)}, learned ${rate(eff.learned)}, random ${rate(eff.random)}; learned − rules ${diff(compare(eff.learned, eff.rules))}. It is conditional on a call having gone well, so timing moves it little (docs/nba-simulate.md).`);
// across replications: each run's difference is one independent observation
const T975 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
const reps = rows.slice(0, -1).map(([, a]) => [compare(a.learned, a.rules).d, compare(a.learned, a.random).d]);
const across = (k) => {
  const xs = reps.map((r) => r[k]), n = xs.length, m = xs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / Math.max(n - 1, 1));
  const h = n > 1 ? (T975[n - 1] || 1.96) * sd / Math.sqrt(n) : NaN;
  return { m, lo: m - h, hi: m + h, n };
};
const ar = across(0), aq = across(1);
const fmt = (x) => `${x.m >= 0 ? '+' : ''}${(100 * x.m).toFixed(2)} pp, 95% t interval [${(100 * x.lo).toFixed(2)}, ${(100 * x.hi).toFixed(2)}] over ${x.n} runs`;
console.log(`\nAcross the replications (each a new world and assignment; robust to one doctor's contacts not being independent): learned − rules ${fmt(ar)}; learned − random ${fmt(aq)}.`);
const c = compare(pooled.learned, pooled.rules);
const met = c.p < 0.05 && c.d > 0 && ar.lo > 0;
console.log(`\nTarget: the learned policy beats rules-only significantly — ${met ? 'met' : 'not met'}: pooled p = ${c.p.toPrecision(2)}, and the interval over the replications ${ar.lo > 0 ? 'lies above 0' : 'includes 0'}.`);
JS
note "report written to $REPORT"

#!/usr/bin/env bash
# bench/dedupe.sh — `medreach dedupe` on generated doctors with a known truth
# (issue 3's figure: 100,000 records in <= 10 s wall on 2 cores, F1 >= 0.95),
# with its peer in the same run: the exact-key rule of a legacy CRM (records
# equal on the normalised phone OR the licence number are one doctor),
# computed by `medreach dedupe --baseline phone,license_no` and scored on
# the same truth by the same code.
#
#   bench/dedupe.sh             100,000 records, seed 1, 3 rounds
#
# Environment (defaults in brackets):
#   DEDUPE_N [100000]  DEDUPE_SEED [1]  DEDUPE_ROUNDS [3]  (the median round's time is shown)
#   DEDUPE_QUIET_WAIT [60]  before each round, wait up to this many seconds for the rest
#                           of the (shared) machine to go idle
#   BENCH_MEDREACH [build/medreach]  BENCH_OUT [bench/out]
#
# The input is generated once by bench/gen-people.mjs and cached in bench/data/
# (not in git). Prints a Markdown report and writes it to bench/out/dedupe-<date>.md.
# Exits non-zero when a run fails; missing the targets is reported, not fatal.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
N=${DEDUPE_N:-100000}
SEED=${DEDUPE_SEED:-1}
ROUNDS=${DEDUPE_ROUNDS:-3}
QUIET_WAIT=${DEDUPE_QUIET_WAIT:-60}
OUT=${BENCH_OUT:-$TOP/bench/out}
DATA=$TOP/bench/data/people-$N-seed$SEED.csv
COMPARE=name:name,pinyin:name,gender:exact,birth_date:date,phone:phone,email:id,hospital:address,city:address,license_no:id

case "${1-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench/dedupe.sh: unknown argument '$1'" >&2; exit 2 ;;
esac

die() { echo "dedupe bench: $*" >&2; exit 1; }
note() { echo "dedupe bench: $*" >&2; }
[ -x "$BIN" ] || die "$BIN is missing (make build)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v node >/dev/null || die "node is missing"

mkdir -p "$TOP/bench/data" "$OUT"
if [ ! -s "$DATA" ]; then
  note "generating $N records (seed $SEED) into $DATA"
  node "$TOP/bench/gen-people.mjs" --n "$N" --seed "$SEED" --out "$DATA.tmp"
  mv "$DATA.tmp" "$DATA"
fi

WORK=$(mktemp -d /tmp/mr-dedupe-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# A private copy, so a rebuild by someone else during the run cannot change the binary.
cp "$BIN" "$WORK/medreach"

busy_cpus() { # CPUs busy over one second, whole machine
  local a b
  a=$(awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat)
  sleep 1
  b=$(awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; printf "%.2f", (t > 0 ? n * (y[1] - x[1]) / t : 0) }'
}
wait_quiet() {
  local t0=$SECONDS busy
  while :; do
    busy=$(busy_cpus)
    awk -v v="$busy" 'BEGIN { exit !(v < 0.25) }' && { echo "$busy"; return 0; }
    if [ $((SECONDS - t0)) -ge "$QUIET_WAIT" ]; then
      note "machine still busy ($busy CPUs) after ${QUIET_WAIT}s; measuring anyway"
      echo "$busy"
      return 0
    fi
  done
}

# run label args... -> appends "label round wall_s rss_kb user_s sys_s busy_before" to $WORK/rows
run() {
  local label=$1 round=$2 busy
  shift 2
  busy=$(wait_quiet)
  /usr/bin/time -v -o "$WORK/time-$label-$round" "$WORK/medreach" dedupe "$DATA" --id id --compare "$COMPARE" \
    --truth truth --out "$WORK/clusters-$label.csv" "$@" 2>"$WORK/log-$label-$round" ||
    { cat "$WORK/log-$label-$round" >&2; die "$label round $round failed"; }
  awk -v l="$label" -v r="$round" -v b="$busy" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /Maximum resident set size/ { rss = $2 }
    /User time/ { u = $2 } /System time/ { s = $2 }
    END { print l, r, w, rss, u, s, b }' "$WORK/time-$label-$round" >>"$WORK/rows"
}

for r in $(seq "$ROUNDS"); do
  run model "$r" --review "$WORK/review.csv"
  run baseline "$r" --baseline phone,license_no
done

median_row() { # label -> the row of the median wall time
  grep "^$1 " "$WORK/rows" | sort -k3,3n | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'
}
quality() { # label -> "P R F1 predicted true correct" from the last round's log
  sed -n 's/.*vs truth: pairwise precision \([0-9.]*\), recall \([0-9.]*\), F1 \([0-9.]*\) (\([0-9]*\) pairs predicted, \([0-9]*\) true, \([0-9]*\) correct).*/\1 \2 \3 \4 \5 \6/p' \
    "$WORK/log-$1-$ROUNDS"
}

read -r _ mround mwall mrss muser msys mbusy <<<"$(median_row model)"
read -r _ bround bwall brss buser bsys bbusy <<<"$(median_row baseline)"
read -r mp mr mf mpred mtrue mok <<<"$(quality model)"
read -r bp br bf bpred btrue bok <<<"$(quality baseline)"
mlog="$WORK/log-model-$mround"
cands=$(sed -n 's/^blocking: \([0-9]*\) candidate pairs.*/\1/p' "$mlog")
em=$(sed -n 's/^EM: \(.*\)$/\1/p' "$mlog")
decisions=$(sed -n 's/^decisions \(.*\)$/\1/p' "$mlog")
phases=$(sed -n 's/^time: \(.*\)$/\1/p' "$mlog")
wall_ok=$(awk -v w="$mwall" 'BEGIN { print (w <= 10 ? "yes" : "NO") }')
f1_ok=$(awk -v f="$mf" 'BEGIN { print (f >= 0.95 ? "yes" : "NO") }')
sha=$(sha256sum "$WORK/medreach" | cut -c1-16)

report=$(cat <<EOF
## Identity resolution: \`medreach dedupe\` (issue 3)

Input: \`bench/gen-people.mjs --n $N --seed $SEED\` ($(wc -l <"$DATA" | awk '{print $1 - 1}') records, $(du -h "$DATA" | cut -f1)),
compared as \`$COMPARE\`; $ROUNDS rounds each, the median round's time shown (each round first waited up to
${QUIET_WAIT}s for the machine to go idle; busy CPUs before the shown rounds: model $mbusy, baseline $bbusy).
Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo). Binary sha256 $sha….

| | wall | peak RSS | CPU (user + sys) | pairwise precision | recall | F1 |
|---|---:|---:|---:|---:|---:|---:|
| medreach dedupe (Fellegi-Sunter, EM) | $(printf '%.2f' "$mwall") s | $((mrss / 1024)) MiB | $(awk -v u="$muser" -v s="$msys" 'BEGIN { printf "%.2f", u + s }') s | $mp | $mr | **$mf** |
| exact keys: phone OR licence (legacy CRM) | $(printf '%.2f' "$bwall") s | $((brss / 1024)) MiB | $(awk -v u="$buser" -v s="$bsys" 'BEGIN { printf "%.2f", u + s }') s | $bp | $br | $bf |

Targets: 100k records in <= 10 s wall: **$wall_ok**; pairwise F1 >= 0.95: **$f1_ok**.
Pairs: $mtrue true duplicate pairs; the model predicted $mpred ($mok correct), the exact keys $bpred ($bok correct).

- candidate pairs after blocking: $cands
- EM: $em
- decisions $decisions
- phases (median round): $phases
EOF
)
echo "$report"
echo "$report" >"$OUT/dedupe-$(date +%Y%m%d-%H%M%S).md"
echo
echo "--- model run (round $mround) ---"
cat "$mlog"

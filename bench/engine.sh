#!/usr/bin/env bash
# bench/engine.sh — issue 5's figures: the engine (segments, KPIs, tags) over 400,000 doctors and
# 10,000,000 events, beside DuckDB (npm @duckdb/node-api, in memory) and PostgreSQL (a private
# server, plain tables with an index on (hcp, ts)), the same answers checked equal, in one run.
#
#   bench/engine.sh        (make bench runs it)
#
# Environment: BENCH_ENGINE_ROUNDS [7] rounds per question (the median is shown),
#   BENCH_ENGINE_PG [1] 0 leaves PostgreSQL out, BENCH_MEDREACH [build/medreach], BENCH_OUT [bench/out].
# Data comes from bench/events.sh's cache in bench/data/ (generated when missing): the demo world's
# CSV files and 10,000,000 events (bench/gen-events.mjs, seed 2, over the year before 2026-12-01);
# the content catalogue (500 items with topics) is written here. as_of is 2026-12-01T00:00:00Z.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
USE_PG=${BENCH_ENGINE_PG:-1}
OUT=${BENCH_OUT:-$TOP/bench/out}
DATA=$TOP/bench/data
WORLD=$DATA/md-world-400000-seed1
EVENTS=$DATA/events-tl-10000000-seed2.ndjson
AS_OF=2026-12-01T00:00:00Z

die() { echo "engine bench: $*" >&2; exit 1; }
note() { echo "engine bench: $*" >&2; }
for tool in curl node npm; do command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs it)"; done
[ -x "$BIN" ] || die "$BIN is missing; run make build"

if [ ! -d "$TOP/bench/node_modules/@duckdb/node-api" ]; then
  note "installing DuckDB from npm into bench/node_modules"
  (cd "$TOP/bench" && npm install --no-audit --no-fund --silent >/dev/null) || die "npm install of @duckdb/node-api failed"
fi

DIR=$(mktemp -d /tmp/mr-enginebench-XXXXXX)
MR_PID=""
PG_DIR=""
cleanup() {
  local rc=$?
  [ -n "$MR_PID" ] && { kill -TERM "$MR_PID" 2>/dev/null; wait "$MR_PID" 2>/dev/null || true; }
  [ -n "$PG_DIR" ] && "$TOP/scripts/pg-private.sh" stop "$PG_DIR" >/dev/null 2>&1
  [ "$rc" -ne 0 ] && [ -s "$DIR/serve.log" ] && tail -n 20 "$DIR/serve.log" >&2
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$BIN" "$DIR/medreach"
BIN_SHA=$(sha256sum "$BIN" | cut -c1-12)
BIN="$DIR/medreach"
export MEDREACH_KEY_FILE="$DIR/key"
mr() { "$BIN" "$@" --log-level warn; }

mkdir -p "$DATA" "$OUT"
if [ ! -s "$WORLD/hcps.csv" ]; then
  note "generating the demo world (400,000 doctors)"
  rm -rf "$WORLD.tmp"
  mr demo --hcps 400000 --seed 1 --csv "$WORLD.tmp" --history-days 0 >/dev/null || die "medreach demo --csv failed"
  mv "$WORLD.tmp" "$WORLD"
fi
if [ ! -s "$EVENTS" ]; then
  note "generating 10,000,000 events"
  node "$TOP/bench/gen-events.mjs" "$WORLD" 10000000 2 "$DATA/ev.tmp" && mv "$DATA/ev.tmp.ndjson" "$EVENTS" &&
    rm -f "$DATA/ev.tmp.csv" || die "generating events failed"
fi
# the catalogue the generated events name: C00001..C00500, each with a topic
node -e '
const topics = ["patient_data", "guidelines", "clinical_trial", "product_info", "case_study", "dosing", "safety", "conference"];
const rows = ["id,title,topic,product,status"];
for (let i = 1; i <= 500; i++) {
  const id = "C" + String(i).padStart(5, "0");
  rows.push(`${id},Item ${i},${topics[(i * 7) % topics.length]},P${1 + (i % 5)},approved`);
}
process.stdout.write(rows.join("\n") + "\n");' >"$DIR/content.csv"

note "loading the world, the content and 10,000,000 events into SQLite"
DB="sqlite:$DIR/engine.db"
mr migrate --db "$DB" >/dev/null
for e in hcos hcps territories reps alignments; do
  mr import "$e" "$WORLD/$e.csv" --db "$DB" >/dev/null 2>"$DIR/import.err" || die "importing $e failed: $(tail -2 "$DIR/import.err")"
done
mr import content "$DIR/content.csv" --db "$DB" >/dev/null 2>"$DIR/import.err" || die "importing content failed"
mr import events "$EVENTS" --db "$DB" >"$DIR/import.out" 2>&1 || die "importing events failed: $(tail -2 "$DIR/import.out")"
echo "pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" | mr user add enginebench --role admin --db "$DB" >/dev/null
TOKEN=$(mr token create enginebench --db "$DB" | tr -d '[:space:]')

PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
"$BIN" serve --db "$DB" --listen "127.0.0.1:$PORT" --web "$TOP/web" --log-level warn >/dev/null 2>"$DIR/serve.log" &
MR_PID=$!
START=$(date +%s.%N)
for _ in $(seq 1200); do
  kill -0 "$MR_PID" 2>/dev/null || die "medreach serve exited at start"
  r=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"expr":"true"}' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/segments/count" || true)
  [ "$r" = 200 ] && break
  sleep 0.1
done
[ "$r" = 200 ] || die "the engine did not load in 120 s"
LOAD_S=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

PG_URL=""
if [ "$USE_PG" = 1 ]; then
  PG_DIR=$(mktemp -u /tmp/mr-enginebench-pg-XXXXXX)
  PG_URL=$("$TOP/scripts/pg-private.sh" start "$PG_DIR") || die "starting PostgreSQL failed"
fi

note "asking the questions"
node "$TOP/bench/engine.mjs" "http://127.0.0.1:$PORT" "$TOKEN" "$WORLD" "$EVENTS" "$DIR/content.csv" "$AS_OF" "$MR_PID" $PG_URL \
  >"$DIR/results.tsv" || die "bench/engine.mjs failed"

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
{
  echo "# medreach engine benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(uname -n | cut -c1-20), \`nproc\` $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs | cut -c1-40) |"
  echo "| medreach | sha256 $BIN_SHA…, SQLite; the projections loaded in $LOAD_S s after the start |"
  echo "| peers | DuckDB $(node -e 'console.log(require("'"$TOP"'/bench/node_modules/@duckdb/node-api/package.json").version)') in memory; PostgreSQL $( [ -n "$PG_URL" ] && psql "$PG_URL" -XAtc 'SHOW server_version' || echo 'not run') |"
  awk -F'\t' '$2 == "load" { printf "| %s load | %.1f s (%d events, %d doctors) |\n", $3, $4 / 1000, $5, $6 }' "$DIR/results.tsv"
  echo
  echo "| question | target ms | medreach ms (engine) | medreach ms (HTTP) | DuckDB ms | PostgreSQL ms | same answer |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '$2 == "q" { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $3, $4, $5, $6, $7, $8, $9 }' "$DIR/results.tsv"
  echo
  awk -F'\t' '$2 == "event_tag" { printf "- Event → its HCP'"'"'s tags (target ≤ 1 ms after commit): the round that updates them took %s ms median, %s ms max (medreach_tags_last_event_round_seconds, after each of %d single-event POSTs); %d of %d values were new at the first read after the 2xx (POST p50 %s ms).\n", $6, $7, $3, $4, $3, $5 }' "$DIR/results.tsv"
  awk -F'\t' '$2 == "memory" { printf "- Resident memory: %.0f MiB; the budget 32 B × %d events + 1 KiB × %d doctors = %.0f MiB (%s).\n", $3 / 1048576, $4, $5, $6 / 1048576, ($3 <= $6 ? "met" : "not met") }' "$DIR/results.tsv"
} | tee "$OUT/engine-$STAMP.md"

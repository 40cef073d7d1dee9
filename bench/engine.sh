#!/usr/bin/env bash
# bench/engine.sh — issue 5's figures: the engine (segments, KPIs, tags) over 400,000 doctors and
# 10,000,000 events, beside DuckDB (npm @duckdb/node-api, in memory) and PostgreSQL (a private
# server, plain tables with an index on (hcp, ts)), the same answers checked equal, in one run.
#
#   bench/engine.sh        (make bench runs it)
#
# Environment: BENCH_ENGINE_ROUNDS [7] rounds per question (the median is shown),
#   BENCH_ENGINE_PG [1] 0 leaves PostgreSQL out, BENCH_MEDREACH [build/medreach], BENCH_OUT [bench/out].
# Data comes from bench/events.sh's cache in bench/data/ (generated when missing; bench/lib.sh): the
# demo world's CSV files and 10,000,000 events (bench/gen-events.mjs, seed 2, over the year before
# 2026-12-01); the content catalogue (500 items with topics) is written here. as_of is 2026-12-01T00:00:00Z.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
USE_PG=${BENCH_ENGINE_PG:-1}
OUT=${BENCH_OUT:-$TOP/bench/out}
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

mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
bench_data
bench_content_csv "$DIR/content.csv"

note "loading the world, the content and 10,000,000 events into SQLite"
DB="sqlite:$DIR/engine.db"
TOKEN=$(bench_load_sqlite "$DIR/engine.db" enginebench)
bench_serve "$DB" "$TOKEN"

PG_URL=""
if [ "$USE_PG" = 1 ]; then
  PG_DIR=$(mktemp -u /tmp/mr-enginebench-pg-XXXXXX)
  PG_URL=$("$TOP/scripts/pg-private.sh" start "$PG_DIR") || die "starting PostgreSQL failed"
fi

note "asking the questions"
node "$TOP/bench/engine.mjs" "http://127.0.0.1:$PORT" "$TOKEN" "$BENCH_WORLD" "$BENCH_EVENTS" "$DIR/content.csv" "$AS_OF" "$MR_PID" $PG_URL \
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

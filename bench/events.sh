#!/usr/bin/env bash
# bench/events.sh — issue 4's event figures, each beside a peer in the same run:
#
#  1. Ingest 1,000,000 events as NDJSON over HTTP (POST /api/v1/events, 10,000 lines a
#     request, 4 connections from one curl) into SQLite, durably (synchronous=FULL), on the
#     400,000-doctor demo world. Peer: PostgreSQL COPY of the same rows (CSV) into a plain
#     table, on a durable private PostgreSQL (fsync and synchronous commit on). Also the
#     rate of medreach's PostgreSQL backend on that same server.
#  2. The timeline of one doctor (the 50 newest) over a 10,000,000-event store, by wrk at
#     an offered 10,000 requests/s (and flat out), doctors drawn at random.
#  3. Event → visible: a follower long-polls the change feed while single events are
#     posted; how long after the 2xx it holds each, and whether the timeline shows it at
#     the 2xx (bench/visible.mjs).
#
#   bench/events.sh          (make bench runs it)
#
# Environment (defaults in brackets):
#   BENCH_EV_ROUNDS [3]           ingest rounds into SQLite (the median is reported)
#   BENCH_EV_PG [1]               0: no PostgreSQL
#   BENCH_EV_TIMELINE_EVENTS [10000000]  events in the timeline store
#   BENCH_DURATION [10s] BENCH_THREADS [4]
#   BENCH_MEDREACH [build/medreach] BENCH_OUT [bench/out]
# Data is generated once into bench/data/ (not in git): the world (medreach demo --csv) and
# the events (bench/gen-events.mjs).
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
ROUNDS=${BENCH_EV_ROUNDS:-3}
USE_PG=${BENCH_EV_PG:-1}
TL_EVENTS=${BENCH_EV_TIMELINE_EVENTS:-10000000}
DURATION=${BENCH_DURATION:-10s}
MR_THREADS=${BENCH_THREADS:-4}
OUT=${BENCH_OUT:-$TOP/bench/out}
DATA=$TOP/bench/data
WORLD=$DATA/md-world-400000-seed1
EV1M=$DATA/events-1m-seed1
EVTL=$DATA/events-tl-$TL_EVENTS-seed2
TARGET_RATE=400000
TARGET_P99_MS=2

die() { echo "events bench: $*" >&2; exit 1; }
note() { echo "events bench: $*" >&2; }
for tool in wrk curl sqlite3 node split; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs it)"
done
[ -x "$BIN" ] || die "$BIN is missing; run make build"

DIR=$(mktemp -d /tmp/mr-evbench-XXXXXX)
MR_PID=""
PG_DIR=""
FAILED=0
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
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- data

mkdir -p "$DATA" "$OUT"
if [ ! -s "$WORLD/hcps.csv" ]; then
  note "generating the demo world (400,000 doctors) into ${WORLD#"$TOP"/}"
  rm -rf "$WORLD.tmp"
  mr demo --hcps 400000 --seed 1 --csv "$WORLD.tmp" --history-days 0 >/dev/null || die "medreach demo --csv failed"
  mv "$WORLD.tmp" "$WORLD"
fi
if [ ! -s "$EV1M.ndjson" ]; then
  note "generating 1,000,000 events"
  node "$TOP/bench/gen-events.mjs" "$WORLD" 1000000 1 "$EV1M.tmp" && mv "$EV1M.tmp.ndjson" "$EV1M.ndjson" &&
    mv "$EV1M.tmp.csv" "$EV1M.csv" || die "generating events failed"
fi
if [ ! -s "$EVTL.ndjson" ]; then
  note "generating $TL_EVENTS events for the timeline store"
  node "$TOP/bench/gen-events.mjs" "$WORLD" "$TL_EVENTS" 2 "$EVTL.tmp" && mv "$EVTL.tmp.ndjson" "$EVTL.ndjson" &&
    rm -f "$EVTL.tmp.csv" || die "generating events failed"
fi
mkdir -p "$DIR/parts"
split -l 10000 -d -a 4 "$EV1M.ndjson" "$DIR/parts/p"
NPARTS=$(ls "$DIR/parts" | wc -l)

# The world in SQLite, once: the doctors, reps and alignments the events name.
note "loading the world into SQLite"
mr migrate --db "sqlite:$DIR/world.db" >/dev/null
for e in hcos hcps territories reps alignments; do
  mr import "$e" "$WORLD/$e.csv" --db "sqlite:$DIR/world.db" >/dev/null 2>"$DIR/import.err" ||
    die "importing $e failed: $(tail -2 "$DIR/import.err")"
done
echo "pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" | mr user add evbench --role admin --db "sqlite:$DIR/world.db" >/dev/null
TOKEN=$(mr token create evbench --db "sqlite:$DIR/world.db" | tr -d '[:space:]')

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
start_server() { # DBURL
  PORT=$(free_port)
  "$BIN" serve --db "$1" --listen "127.0.0.1:$PORT" --web "$TOP/web" --threads "$MR_THREADS" \
    --log-level warn >/dev/null 2>"$DIR/serve.log" &
  MR_PID=$!
  for _ in $(seq 300); do
    kill -0 "$MR_PID" 2>/dev/null || die "medreach serve exited at start"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ] && break
    sleep 0.1
  done
  # the in-memory indexes load in the background (until then the store answers, slowly): wait for both
  for _ in $(seq 600); do
    curl -s "http://127.0.0.1:$PORT/healthz" | grep -q '"hcps": *"ready", *"events": *"ready"' && return 0
    sleep 0.1
  done
  die "the server's indexes did not load"
}
stop_server() {
  [ -n "$MR_PID" ] && { kill -TERM "$MR_PID" 2>/dev/null; wait "$MR_PID" 2>/dev/null || true; }
  MR_PID=""
}

# post_all → seconds; every part POSTed through one curl, 4 at a time, each answer checked
post_all() {
  local args=() first=1 t0 secs
  for f in "$DIR"/parts/p*; do
    [ $first = 1 ] || args+=(--next)
    first=0
    args+=(-s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN"
           -H 'Content-Type: application/x-ndjson' --data-binary "@$f" "http://127.0.0.1:$PORT/api/v1/events")
  done
  t0=$(now_s)
  curl -Z --parallel-max 4 "${args[@]}" >"$DIR/post.out" 2>/dev/null
  secs=$(since "$t0")
  if [ "$(grep -c '^200$' "$DIR/post.out")" != "$NPARTS" ]; then
    note "some posts failed: $(sort "$DIR/post.out" | uniq -c | tr '\n' ' ')"
    FAILED=1
  fi
  echo "$secs"
}

RESULTS="$DIR/results.tsv"
: >"$RESULTS"

# ---------------------------------------------------------------- 1. ingest

for round in $(seq "$ROUNDS"); do
  cp "$DIR/world.db" "$DIR/ev.db"
  sync # the copy's writeback is not the ingest's to wait for
  start_server "sqlite:$DIR/ev.db"
  note "ingest round $round: medreach → SQLite"
  secs=$(post_all)
  stored=$(sqlite3 "$DIR/ev.db" "SELECT COUNT(*) FROM events")
  [ "$stored" = 1000000 ] || { note "stored $stored events, not 1,000,000"; FAILED=1; }
  printf 'ingest\tmedreach → SQLite (HTTP, durable)\t%s\n' "$secs" >>"$RESULTS"
  stop_server
  rm -f "$DIR"/ev.db*
done

if [ "$USE_PG" != 0 ]; then
  PG_DIR=$(mktemp -u /tmp/mr-evbench-pg-XXXXXX)
  PG_URL=$(PG_DURABLE=1 "$TOP/scripts/pg-private.sh" start "$PG_DIR") || die "cannot start PostgreSQL"
  PG_VERSION=$(psql "$PG_URL" -tAc "SHOW server_version")
  pg() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qtA "$@"; }
  note "ingest: PostgreSQL COPY of the same rows"
  pg -c "CREATE TABLE events_copy (seq bigint, eid text, ts text, hcp text, channel text, type text,
    outcome text, rep text, content text, duration_s int)"
  t0=$(now_s)
  pg -c "\\copy events_copy FROM '$EV1M.csv' WITH (FORMAT csv, HEADER true)"
  printf 'ingest\tPostgreSQL COPY into a plain table (durable)\t%s\n' "$(since "$t0")" >>"$RESULTS"
  # medreach on that PostgreSQL: the world copied in table by table (setup, not measured)
  pg -c "CREATE DATABASE evbench"
  PG_DB="${PG_URL%/*}/evbench"
  mr migrate --db "$PG_DB" >/dev/null
  for t in territories hcos reps hcps alignments users; do
    cols=$(sqlite3 "$DIR/world.db" "SELECT group_concat(name, ',') FROM pragma_table_info('$t')")
    sqlite3 -csv "$DIR/world.db" "SELECT $cols FROM $t" >"$DIR/$t.csv"
    psql "$PG_DB" -v ON_ERROR_STOP=1 -qc "\\copy $t ($cols) FROM '$DIR/$t.csv' WITH (FORMAT csv)"
  done
  for t in territories hcos reps hcps alignments users; do
    psql "$PG_DB" -qtAc "SELECT setval(pg_get_serial_sequence('$t', 'id'), (SELECT MAX(id) FROM $t))" >/dev/null
  done
  TOKEN_SQLITE=$TOKEN
  TOKEN=$(mr token create evbench --db "$PG_DB" | tr -d '[:space:]')
  start_server "$PG_DB"
  note "ingest: medreach → PostgreSQL"
  secs=$(post_all)
  printf 'ingest\tmedreach → PostgreSQL (HTTP, durable)\t%s\n' "$secs" >>"$RESULTS"
  stored=$(psql "$PG_DB" -tAc "SELECT COUNT(*) FROM events")
  [ "$stored" = 1000000 ] || { note "PostgreSQL stored $stored events"; FAILED=1; }
  stop_server
  TOKEN=$TOKEN_SQLITE
fi

# ---------------------------------------------------------------- 2. timeline

note "loading $TL_EVENTS events for the timeline"
cp "$DIR/world.db" "$DIR/tl.db"
t0=$(now_s)
mr import events "$EVTL.ndjson" --db "sqlite:$DIR/tl.db" >"$DIR/tl-import.out" 2>&1 || die "importing events failed: $(tail -2 "$DIR/tl-import.out")"
TL_IMPORT_S=$(since "$t0")
sqlite3 "$DIR/tl.db" "SELECT h.ext_id FROM hcps h WHERE h.id IN (SELECT hcp_id FROM events WHERE seq % 97 = 0)
  ORDER BY random() LIMIT 20000" >"$DIR/ids.txt"
start_server "sqlite:$DIR/tl.db"
RSS_KB=$(awk '/VmRSS/ { print $2 }' "/proc/$MR_PID/status")
tl_run() { # LABEL CONNECTIONS PAUSE_MS
  wrk -t2 -c"$2" -d3s -s "$TOP/bench/timeline.lua" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT" -- "$DIR/ids.txt" "$3" >/dev/null
  wrk -t2 -c"$2" -d"$DURATION" --latency -s "$TOP/bench/timeline.lua" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT" -- "$DIR/ids.txt" "$3" >"$DIR/wrk.out" 2>&1 || die "wrk failed"
  grep '^MRBENCH' "$DIR/wrk.out" | awk -v l="$1" -v c="$2" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"] + v["err_status"]
      printf "timeline\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", l, c, v["requests"] / (v["duration_us"] / 1e6),
        v["p50_us"] / 1000, v["p99_us"] / 1000, v["p999_us"] / 1000, v["max_us"] / 1000, err }' >>"$RESULTS"
}
note "timeline: offered 10,000 req/s"
tl_run "offered 10,000 req/s (20 connections, 2 ms pause)" 20 2
note "timeline: flat out"
tl_run "flat out" 16 0

# ---------------------------------------------------------------- 3. visible

note "event → visible"
VIS=$(node "$TOP/bench/visible.mjs" "http://127.0.0.1:$PORT" "$TOKEN" D0000001 200 | grep '^MRVISIBLE') || die "visible.mjs failed"
stop_server

# ---------------------------------------------------------------- report

ING_S=$(awk -F'\t' '$1 == "ingest" && $2 ~ /SQLite/ { print $3 }' "$RESULTS" | median)
ING_RATE=$(awk -v s="$ING_S" 'BEGIN { printf "%.0f", 1000000 / s }')
report() {
  cat <<REPORT
# medreach event benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')

| | |
|---|---|
| machine | $(hostname), \`nproc\` $(nproc), $(lscpu | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }'), kernel $(uname -r) |
| medreach | sha256 $BIN_SHA…, \`serve --threads $MR_THREADS\`; SQLite $(sqlite3 --version | cut -d' ' -f1) WAL synchronous=FULL |
| PostgreSQL | ${PG_VERSION:-not run}, private, durable (fsync, synchronous_commit, full_page_writes on) |
| world | 400,000 doctors (420,000 records), 3,069 reps, 451,361 alignments |
| client | one curl, 4 connections, 10,000 NDJSON lines a request; on the same 2 CPUs |

## 1. Ingest of 1,000,000 events

| what | seconds | events/s |
|---|---:|---:|
$(awk -F'\t' '$1 == "ingest" { printf "| %s | %.2f | %.0f |\n", $2, $3, 1000000 / $3 }' "$RESULTS")

- Target ≥ $TARGET_RATE events/s into SQLite, durably: median of $ROUNDS rounds $ING_S s = **$ING_RATE events/s**
  ($(awk -v r="$ING_RATE" -v t="$TARGET_RATE" 'BEGIN { print (r >= t ? "met" : "not met") }')).
- Each event is parsed and checked, its doctor and rep resolved, its id checked against every id stored, stored
  with its seq, and on the timeline and the change feed before the answer; the COPY peer loads text.

## 2. Timeline of one doctor (50 newest) over $TL_EVENTS events

| load | connections | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors |
|---|---:|---:|---:|---:|---:|---:|---:|
$(awk -F'\t' '$1 == "timeline" { printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.1f | %d |\n", $2, $3, $4, $5, $6, $7, $8, $9 }' "$RESULTS")

- Target: p99 ≤ $TARGET_P99_MS ms at 10,000 req/s. The store took $TL_IMPORT_S s to load with \`medreach import events\`;
  the server's resident memory with it loaded: $((RSS_KB / 1024)) MiB.

## 3. Event → visible

\`$VIS\` (200 events; the timeline is read right after each 2xx; the feed's follower long-polls).
REPORT
  [ "$FAILED" = 0 ] || printf '\n**FAILED**: see the messages above.\n'
}
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
report | tee "$OUT/events-$STAMP.md"
exit "$FAILED"

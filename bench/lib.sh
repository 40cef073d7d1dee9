# bench/lib.sh — what bench/engine.sh and bench/nba.sh share, sourced by both: the cached
# 400,000-doctor world and 10,000,000 events in bench/data/ (generated when missing), the content
# catalogue those events name, their load into a fresh SQLite database, and a server started on it
# and waited for until its engine answers.
#
# The caller has set TOP (the repository), DIR (its temp directory), and defined die, note and mr
# (its copy of medreach, quiet); bench_serve also uses BIN and sets PORT, MR_PID and LOAD_S, which
# the caller's cleanup stops.
# shellcheck shell=bash

BENCH_DATA=$TOP/bench/data
BENCH_WORLD=$BENCH_DATA/md-world-400000-seed1
BENCH_EVENTS=$BENCH_DATA/events-tl-10000000-seed2.ndjson

# bench_data — the demo world (medreach demo --csv, seed 1) and the events (bench/gen-events.mjs,
# seed 2, over the year before 2026-12-01) in bench/data/, each generated once.
bench_data() {
  mkdir -p "$BENCH_DATA"
  if [ ! -s "$BENCH_WORLD/hcps.csv" ]; then
    note "generating the demo world (400,000 doctors)"
    rm -rf "$BENCH_WORLD.tmp"
    mr demo --hcps 400000 --seed 1 --csv "$BENCH_WORLD.tmp" --history-days 0 >/dev/null || die "medreach demo --csv failed"
    mv "$BENCH_WORLD.tmp" "$BENCH_WORLD"
  fi
  if [ ! -s "$BENCH_EVENTS" ]; then
    note "generating 10,000,000 events"
    node "$TOP/bench/gen-events.mjs" "$BENCH_WORLD" 10000000 2 "$BENCH_DATA/ev.tmp" &&
      mv "$BENCH_DATA/ev.tmp.ndjson" "$BENCH_EVENTS" && rm -f "$BENCH_DATA/ev.tmp.csv" || die "generating events failed"
  fi
}

# bench_content_csv FILE — the catalogue the generated events name: C00001..C00500, each with a
# topic and a product, approved.
bench_content_csv() {
  # shellcheck disable=SC2016 # the backquotes are JavaScript's
  node -e '
const topics = ["patient_data", "guidelines", "clinical_trial", "product_info", "case_study", "dosing", "safety", "conference"];
const rows = ["id,title,topic,product,status"];
for (let i = 1; i <= 500; i++) {
  const id = "C" + String(i).padStart(5, "0");
  rows.push(`${id},Item ${i},${topics[(i * 7) % topics.length]},P${1 + (i % 5)},approved`);
}
process.stdout.write(rows.join("\n") + "\n");' >"$1"
}

# bench_load_sqlite DB_FILE USER [ENTITY...] — migrates DB_FILE and imports the world (hcos, hcps,
# territories, reps, alignments, then each ENTITY given, e.g. consents identities), the content of
# $DIR/content.csv and the 10,000,000 events; adds USER as an admin and prints a token for it.
bench_load_sqlite() {
  local db="sqlite:$1" user=$2 e
  shift 2
  mr migrate --db "$db" >/dev/null
  for e in hcos hcps territories reps alignments "$@"; do
    mr import "$e" "$BENCH_WORLD/$e.csv" --db "$db" >/dev/null 2>"$DIR/import.err" || die "importing $e failed: $(tail -2 "$DIR/import.err")"
  done
  mr import content "$DIR/content.csv" --db "$db" >/dev/null 2>"$DIR/import.err" || die "importing content failed"
  mr import events "$BENCH_EVENTS" --db "$db" >"$DIR/import.out" 2>&1 || die "importing events failed: $(tail -2 "$DIR/import.out")"
  echo "pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" | mr user add "$user" --role admin --db "$db" >/dev/null
  mr token create "$user" --db "$db" | tr -d '[:space:]'
}

# bench_free_port — a TCP port free on 127.0.0.1 now.
bench_free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# bench_serve DB_URL TOKEN [SERVE_OPTION...] — starts medreach serve on a free port and waits (up
# to 120 s) until the engine answers a segment count; LOAD_S is how long that took.
bench_serve() {
  local db=$1 token=$2 start r=""
  shift 2
  PORT=$(bench_free_port)
  "$BIN" serve --db "$db" --listen "127.0.0.1:$PORT" --web "$TOP/web" --log-level warn "$@" >/dev/null 2>"$DIR/serve.log" &
  MR_PID=$!
  start=$(date +%s.%N)
  for _ in $(seq 1200); do
    kill -0 "$MR_PID" 2>/dev/null || die "medreach serve exited at start"
    r=$(curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d '{"expr":"true"}' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/segments/count" || true)
    [ "$r" = 200 ] && break
    sleep 0.1
  done
  [ "$r" = 200 ] || die "the engine did not load in 120 s"
  # shellcheck disable=SC2034 # the caller reports it
  LOAD_S=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

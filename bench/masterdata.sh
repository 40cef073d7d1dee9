#!/usr/bin/env bash
# bench/masterdata.sh — issue 3's master-data figures, each beside a peer measured in the
# same run:
#
#  1. CSV import of the demo world's hcps.csv, after its hcos.csv, into SQLite (the default
#     store): `medreach import hcps hcps.csv`. Peer: PostgreSQL COPY of the same file into a
#     plain table of the same columns. Also medreach's import of it into PostgreSQL.
#  2. HCP search over HTTP: GET /api/v1/hcps?q=<prefix>&limit=20 with wrk, the prefixes
#     (1-2 Chinese characters of a name, 2-6 letters of pinyin, 2-3 initials, drawn from the
#     world) rotated by bench/md_search.lua; as admin, and as a field rep (the scoped query).
#     Peer: the same SQL straight against the database at the same concurrency
#     (bench/md_search_peer.c, the bare sqlite3 API or libpq), on SQLite and PostgreSQL.
#     Before that, the peer's pages are checked against the API's, prefix by prefix.
#
#   bench/masterdata.sh      (make bench runs it after bench/run.sh and bench/dedupe.sh)
#
# Environment (defaults in brackets):
#   BENCH_MD_HCPS [400000] BENCH_MD_SEED [1]  the world (medreach demo --hcps N --seed S --csv),
#                             generated once into bench/data/md-world-N-seedS/ (not in git)
#   BENCH_MD_IMPORT_ROUNDS [3]      imports into SQLite, each beside a COPY; the median is shown
#   BENCH_MD_PG [1]                 0: no PostgreSQL (no COPY, no import or search on it)
#   BENCH_MD_CONNECTIONS ["1 4 16"] wrk connections (and peer threads) for the search
#   BENCH_MD_DURATION [10s] BENCH_WARMUP [3s] BENCH_WRK_THREADS [2] BENCH_THREADS [4]
#   BENCH_MD_PREFIXES [2000]        prefixes drawn from the world
#   BENCH_QUIET_WAIT [90]           before each measurement, wait up to this many seconds for
#                                   the rest of the (shared) machine to go idle
#   BENCH_MEDREACH [build/medreach] BENCH_OUT [bench/out]
#
# Prints a Markdown report and writes it to bench/out/masterdata-<date>.md. Missing a target
# is reported, not fatal; a failing command, an import with failed rows, wrk errors or a peer
# that disagrees with the API make the exit status non-zero.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
HCPS=${BENCH_MD_HCPS:-400000}
SEED=${BENCH_MD_SEED:-1}
IMPORT_ROUNDS=${BENCH_MD_IMPORT_ROUNDS:-3}
USE_PG=${BENCH_MD_PG:-1}
CONNS_LIST=${BENCH_MD_CONNECTIONS:-1 4 16}
DURATION=${BENCH_MD_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
MR_THREADS=${BENCH_THREADS:-4}
NPREFIXES=${BENCH_MD_PREFIXES:-2000}
QUIET_WAIT=${BENCH_QUIET_WAIT:-90}
OUT=${BENCH_OUT:-$TOP/bench/out}
WORLD=$TOP/bench/data/md-world-$HCPS-seed$SEED
TARGET_IMPORT_S=20
TARGET_P99_MS=5

case "${1-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench/masterdata.sh: unknown argument '$1'" >&2; exit 2 ;;
esac

die() { echo "md bench: $*" >&2; exit 1; }
note() { echo "md bench: $*" >&2; }

for tool in wrk curl sqlite3 cc pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs it)"
done
[ "$USE_PG" = 0 ] || command -v psql >/dev/null 2>&1 || die "psql is missing (or set BENCH_MD_PG=0)"
[ -x "$BIN" ] || die "$BIN is missing; run make build"

DIR=$(mktemp -d /tmp/mr-mdbench-XXXXXX)
MR_PID=""
PG_DIR=""
FAILED=0

stop_pid() { # pid: TERM, wait up to 5 s, then KILL
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local rc=$?
  stop_pid "$MR_PID"
  [ -n "$PG_DIR" ] && "$TOP/scripts/pg-private.sh" stop "$PG_DIR" >/dev/null 2>&1
  if [ "$rc" -ne 0 ] && [ -s "$DIR/serve.log" ]; then
    echo "--- tail of the server log" >&2
    tail -n 20 "$DIR/serve.log" >&2
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy of the binary (others may rebuild build/medreach during the run), its key,
# and the peer, built from bench/md_search_peer.c.
BIN_BUILT=$(date -u -r "$BIN" '+%Y-%m-%d %H:%M:%S UTC')
cp "$BIN" "$DIR/medreach"
BIN_SRC=$BIN
BIN="$DIR/medreach"
BIN_SHA=$(sha256sum "$BIN" | cut -c1-12)
export MEDREACH_KEY_FILE="$DIR/key"
# shellcheck disable=SC2046  # pkg-config prints several flags
cc -std=c11 -D_GNU_SOURCE -O2 -o "$DIR/peer" "$TOP/bench/md_search_peer.c" \
  $(pkg-config --cflags --libs sqlite3 libpq) -lpthread -lm || die "cannot build the peer"
PEER="$DIR/peer"
mr() { "$BIN" "$@" --log-level warn; }

# ---------------------------------------------------------------- quiet machine

NCPU=$(nproc)
stat_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
NOT_QUIET=0
wait_quiet() { # waits until the machine is nearly idle (< 0.25 CPU busy over 1 s), at most QUIET_WAIT s
  local t0=$SECONDS a b busy
  while :; do
    a=$(stat_ticks); sleep 1; b=$(stat_ticks)
    busy=$(awk -v a="$a" -v b="$b" -v n="$NCPU" 'BEGIN { split(a, x, " "); split(b, y, " ");
      t = y[2] - x[2]; printf "%.2f", (t > 0 ? n * (y[1] - x[1]) / t : 0) }')
    awk -v v="$busy" 'BEGIN { exit !(v < 0.25) }' && return 0
    if [ $((SECONDS - t0)) -ge "$QUIET_WAIT" ]; then
      note "machine still busy ($busy CPUs) after ${QUIET_WAIT}s; measuring anyway"
      NOT_QUIET=$((NOT_QUIET + 1))
      return 0
    fi
  done
}

now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- the world

if [ ! -s "$WORLD/hcps.csv" ]; then
  note "generating the demo world ($HCPS HCPs, seed $SEED) into ${WORLD#"$TOP"/}"
  mkdir -p "$(dirname "$WORLD")"
  rm -rf "$WORLD.tmp"
  mr demo --hcps "$HCPS" --seed "$SEED" --csv "$WORLD.tmp" --history-days 0 >/dev/null || die "medreach demo --csv failed"
  mv "$WORLD.tmp" "$WORLD"
fi
HCP_ROWS=$(($(wc -l <"$WORLD/hcps.csv") - 1))
HCP_MB=$(awk -v b="$(wc -c <"$WORLD/hcps.csv")" 'BEGIN { printf "%.1f", b / 1048576 }')

# ---------------------------------------------------------------- PostgreSQL

PG_URL=""
if [ "$USE_PG" != 0 ]; then
  # its own directory: the server runs as postgres, which may not enter $DIR
  PG_DIR=$(mktemp -u /tmp/mr-mdbench-pg-XXXXXX)
  PG_URL=$("$TOP/scripts/pg-private.sh" start "$PG_DIR") || die "cannot start PostgreSQL"
  PG_VERSION=$(psql "$PG_URL" -tAc "SHOW server_version")
fi
pg() { psql "$PG_URL" -v ON_ERROR_STOP=1 -qtA "$@"; }

# ---------------------------------------------------------------- 1. import

RESULTS="$DIR/results.tsv" # section, label, then fields by section
: >"$RESULTS"

# import_hcps LABEL DBURL: migrate, hcos (untimed), hcps timed; appends "import LABEL seconds rows failed"
import_hcps() {
  local label=$1 db=$2 t0 secs line failed
  mr migrate --db "$db" >/dev/null || die "migrate $db failed"
  mr import hcos "$WORLD/hcos.csv" --db "$db" >"$DIR/hcos.out" 2>&1 || die "importing hcos failed: $(tail -3 "$DIR/hcos.out")"
  wait_quiet
  note "import r$3: $label"
  t0=$(now_s)
  if ! mr import hcps "$WORLD/hcps.csv" --db "$db" >"$DIR/import.out" 2>"$DIR/import.err"; then
    note "$label: import reported errors: $(head -3 "$DIR/import.err")"
    FAILED=1
  fi
  secs=$(since "$t0")
  line=$(tail -n 1 "$DIR/import.out")
  failed=$(echo "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^failed/) print $(i - 1) }')
  printf 'import\t%s\t%s\t%s\t%s\n' "$label" "$secs" "$HCP_ROWS" "${failed:-?}" >>"$RESULTS"
}

copy_hcps() { # round: PostgreSQL COPY of hcps.csv into a plain table of the same columns
  local t0
  pg -c "DROP TABLE IF EXISTS hcps_copy" -c "CREATE TABLE hcps_copy (id text, name text, pinyin text,
    gender text, title text, specialty text, department text, hco text, license_no text, phone text,
    email text, status text)"
  wait_quiet
  note "import r$1: PostgreSQL COPY"
  t0=$(now_s)
  pg -c "\\copy hcps_copy FROM '$WORLD/hcps.csv' WITH (FORMAT csv, HEADER true)" || die "COPY failed"
  printf 'import\t%s\t%s\t%s\t0\n' "PostgreSQL COPY into a plain table" "$(since "$t0")" "$HCP_ROWS" >>"$RESULTS"
}

L_IMP_SQLITE="medreach import hcps → SQLite"
L_IMP_PG="medreach import hcps → PostgreSQL"
for round in $(seq "$IMPORT_ROUNDS"); do
  rm -f "$DIR"/md.db*
  import_hcps "$L_IMP_SQLITE" "sqlite:$DIR/md.db" "$round"
  [ "$USE_PG" = 0 ] || copy_hcps "$round"
done
if [ "$USE_PG" != 0 ]; then
  pg -c "CREATE DATABASE mdbench"
  PG_DB="${PG_URL%/*}/mdbench"
  import_hcps "$L_IMP_PG" "$PG_DB" 1
fi

# The rest of the world, for the scoped search: territories, reps and alignments.
for db in "sqlite:$DIR/md.db" ${PG_DB:+"$PG_DB"}; do
  for e in territories reps alignments; do
    mr import "$e" "$WORLD/$e.csv" --db "$db" >"$DIR/rest.out" 2>&1 || die "importing $e into $db failed: $(tail -3 "$DIR/rest.out")"
  done
done

# ---------------------------------------------------------------- 2. search

# Prefixes drawn from the world, a third each: 1-2 Chinese characters of a name, 2-6 letters
# of its pinyin, 2-3 of its initials; from HCPs spread over the table, in a scrambled order.
STEP=$(( HCP_ROWS / NPREFIXES > 0 ? HCP_ROWS / NPREFIXES : 1 ))
sqlite3 "$DIR/md.db" "SELECT CASE id % 3 WHEN 0 THEN substr(name, 1, 1 + (id / 3) % 2)
    WHEN 1 THEN substr(pinyin_key, 1, 2 + (id / 3) % 5) ELSE substr(initials, 1, 2 + (id / 3) % 2) END
  FROM hcps WHERE id % $STEP = 0 AND deleted_at IS NULL ORDER BY (id * 2654435761) % 4294967296
  LIMIT $NPREFIXES" | awk 'length > 0' >"$DIR/prefixes.txt"
[ -s "$DIR/prefixes.txt" ] || die "no prefixes drawn"

# The field rep: the field-force rep with the most HCPs aligned now.
REP_EXT=$(sqlite3 "$DIR/md.db" "SELECT r.ext_id FROM reps r JOIN alignments a ON a.rep_id = r.id
  WHERE r.type = 'field' AND a.deleted_at IS NULL GROUP BY r.id ORDER BY COUNT(DISTINCT a.hcp_id) DESC, r.id LIMIT 1")
REP_HCPS=$(sqlite3 "$DIR/md.db" "SELECT COUNT(DISTINCT a.hcp_id) FROM alignments a JOIN reps r ON r.id = a.rep_id
  WHERE r.ext_id = '$REP_EXT' AND a.deleted_at IS NULL")

# users DBURL: an admin and the field rep, with API tokens -> TOK_ADMIN, TOK_REP, REP_ID
users() {
  local db=$1 pw
  pw="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  echo "$pw" | mr user add mdadmin --role admin --db "$db" >/dev/null || die "user add failed"
  echo "$pw" | mr user add mdrep --role field_rep --rep "$REP_EXT" --db "$db" >/dev/null || die "user add failed"
  TOK_ADMIN=$(mr token create mdadmin --db "$db" | tr -d '[:space:]')
  TOK_REP=$(mr token create mdrep --db "$db" | tr -d '[:space:]')
}

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

start_server() { # DBURL -> MR_PID, PORT
  PORT=$(free_port)
  taskset -c 0-$((NCPU >= 2 ? 1 : 0)) "$BIN" serve --db "$1" --listen "127.0.0.1:$PORT" --web "$TOP/web" \
    --threads "$MR_THREADS" --log-level warn >/dev/null 2>"$DIR/serve.log" &
  MR_PID=$!
  for _ in $(seq 100); do
    kill -0 "$MR_PID" 2>/dev/null || die "medreach serve exited at start"
    # up, and its HCP directory loaded (until then searches go to the store)
    curl -s "http://127.0.0.1:$PORT/healthz" | grep -q '"hcps": *"ready"' && return 0
    sleep 0.1
  done
  die "medreach serve did not answer with its indexes loaded within 10 s"
}

writer_metrics() { # -> "writes batches seconds" from /metrics
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "medreach_writer_writes_total" { w = $2 }
    $1 == "medreach_writer_batches_total" { b = $2 } $1 == "medreach_writer_seconds_total" { s = $2 }
    END { print w + 0, b + 0, s + 0 }'
}

# check_pages BACKEND: for the first 200 prefixes, the peer's page (external ids, in order) is the API's
check_pages() {
  local backend=$1 who tok repopt bad=0 n=0 p ids api
  head -n 200 "$DIR/prefixes.txt" >"$DIR/check.txt"
  for who in admin rep; do
    tok=$TOK_ADMIN; repopt=()
    [ "$who" = rep ] && { tok=$TOK_REP; repopt=(--rep "$REP_ID"); }
    "$PEER" "$DBURL" "$DIR/check.txt" --check "${repopt[@]}" 2>/dev/null >"$DIR/check-$who.tsv"
    while IFS=$'\t' read -r p ids; do
      api=$(curl -s -G -H "Authorization: Bearer $tok" --data-urlencode "q=$p" -d limit=20 \
        "http://127.0.0.1:$PORT/api/v1/hcps" | { grep -o '"id":"[^"]*"' || true; } | cut -d'"' -f4 | paste -sd,)
      n=$((n + 1))
      [ "$api" = "${ids-}" ] || bad=$((bad + 1))
    done <"$DIR/check-$who.tsv"
  done
  CHECK_NOTE="$backend: $((n - bad)) of $n pages identical"
  [ "$bad" = 0 ] || { note "peer and API disagree on $bad of $n pages ($backend)"; FAILED=1; }
}

# wrk_run BACKEND WHO CONNS: appends "search BACKEND-http-WHO conns rps p50 p90 p99 p999 max errors writes batches secs"
wrk_run() {
  local backend=$1 who=$2 c=$3 tok=$TOK_ADMIN t=$WRK_THREADS line m0 m1
  [ "$who" = rep ] && tok=$TOK_REP
  [ "$t" -le "$c" ] || t=$c
  wait_quiet
  note "search: $backend HTTP as $who, $c connections"
  wrk -t"$t" -c"$c" -d"$WARMUP" -s "$TOP/bench/md_search.lua" -H "Authorization: Bearer $tok" \
    "http://127.0.0.1:$PORT" -- "$DIR/prefixes.txt" >/dev/null
  m0=$(writer_metrics)
  wrk -t"$t" -c"$c" -d"$DURATION" --latency -s "$TOP/bench/md_search.lua" -H "Authorization: Bearer $tok" \
    "http://127.0.0.1:$PORT" -- "$DIR/prefixes.txt" >"$DIR/wrk.out" 2>&1 || die "wrk failed: $(tail -3 "$DIR/wrk.out")"
  m1=$(writer_metrics)
  line=$(grep '^MRBENCH' "$DIR/wrk.out") || die "no summary from wrk"
  echo "$line" | awk -v b="$backend" -v w="$who" -v c="$c" -v m0="$m0" -v m1="$m1" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { split(m0, a, " "); split(m1, z, " ")
      err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"] + v["err_status"]
      printf "search\t%s HTTP as %s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.6f\n", b, w, c,
        v["requests"] / (v["duration_us"] / 1e6), v["p50_us"], v["p90_us"], v["p99_us"], v["p999_us"],
        v["max_us"], err, z[1] - a[1], z[2] - a[2], z[3] - a[3] }' >>"$RESULTS"
  if [ "$(tail -n 1 "$RESULTS" | cut -f10)" != 0 ]; then
    note "wrk saw errors: $(grep -i 'error\|non-2xx' "$DIR/wrk.out" | head -2)"
    FAILED=1
  fi
}

peer_run() { # BACKEND WHO CONNS
  local backend=$1 who=$2 c=$3 repopt=() line secs
  [ "$who" = rep ] && repopt=(--rep "$REP_ID")
  secs=${DURATION%s}
  wait_quiet
  note "search: $backend peer as $who, $c threads"
  "$PEER" "$DBURL" "$DIR/prefixes.txt" --threads "$c" --seconds 2 "${repopt[@]}" >/dev/null
  line=$("$PEER" "$DBURL" "$DIR/prefixes.txt" --threads "$c" --seconds "$secs" "${repopt[@]}") || die "the peer failed"
  echo "$line" | awk -v b="$backend" -v w="$who" -v c="$c" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { printf "search\t%s peer (same SQL, no HTTP) as %s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t0\t\t\t\n",
      b, w, c, v["qps"], v["p50_us"], v["p90_us"], v["p99_us"], v["p999_us"], v["max_us"] }' >>"$RESULTS"
}

search_backend() { # BACKEND DBURL
  local backend=$1 c
  DBURL=$2
  users "$DBURL"
  if [ "$backend" = SQLite ]; then
    REP_ID=$(sqlite3 "${DBURL#sqlite:}" "SELECT id FROM reps WHERE ext_id = '$REP_EXT'")
  else
    REP_ID=$(psql "$DBURL" -tAc "SELECT id FROM reps WHERE ext_id = '$REP_EXT'")
    psql "$DBURL" -qc "VACUUM ANALYZE" # what autovacuum would have done by now
  fi
  start_server "$DBURL"
  check_pages "$backend"
  CHECKS+=("$CHECK_NOTE")
  for c in $CONNS_LIST; do
    for who in admin rep; do
      wrk_run "$backend" "$who" "$c"
      peer_run "$backend" "$who" "$c"
    done
  done
  stop_pid "$MR_PID"
  MR_PID=""
}

CHECKS=()
search_backend SQLite "sqlite:$DIR/md.db"
[ "$USE_PG" = 0 ] || search_backend PostgreSQL "$PG_DB"

# ---------------------------------------------------------------- report

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
CPU_MODEL=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
HYPER=$(lscpu 2>/dev/null | awk -F: '/^Hypervisor vendor/ { sub(/^[ \t]+/, "", $2); print " (" $2 " guest)"; exit }')
SQLITE_VERSION=$(sqlite3 --version | cut -d' ' -f1)

import_median() { awk -F'\t' -v l="$1" '$1 == "import" && $2 == l { print $3 }' "$RESULTS" | median; }
import_table() {
  echo "| what | rows | seconds (median) | rows/s | rounds (s) | failed rows |"
  echo "|---|---:|---:|---:|---|---:|"
  awk -F'\t' '$1 == "import" { if (!($2 in n)) o[++k] = $2; r[$2] = r[$2] (n[$2]++ ? " / " : "") $3
      f[$2] += $5; rows[$2] = $4 }
    END { for (i = 1; i <= k; i++) print o[i] "\t" rows[o[i]] "\t" r[o[i]] "\t" f[o[i]] }' "$RESULTS" |
  while IFS=$'\t' read -r label rows rounds failed; do
    med=$(echo "$rounds" | tr '/' '\n' | tr -d ' ' | median)
    printf '| %s | %s | %s | %.0f | %s | %s |\n' "$label" "$rows" "$med" \
      "$(awk -v r="$rows" -v s="$med" 'BEGIN { print (s > 0 ? r / s : 0) }')" "$rounds" "$failed"
  done
}
search_table() {
  echo "| target | connections | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '$1 == "search" { printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.1f | %s |\n",
    $2, $3, $4, $5 / 1000, $6 / 1000, $7 / 1000, $8 / 1000, $9 / 1000, ($10 == "" ? "—" : $10) }' "$RESULTS"
}
writer_table() {
  echo "| HTTP run | connections | requests audited | group commits | audits per commit | ms per commit |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '$1 == "search" && $11 != "" { printf "| %s | %d | %d | %d | %.1f | %.2f |\n", $2, $3, $11, $12,
    ($12 > 0 ? $11 / $12 : 0), ($12 > 0 ? 1000 * $13 / $12 : 0) }' "$RESULTS"
}

IMP_S=$(import_median "$L_IMP_SQLITE")
VERDICT_IMPORT=$(awk -v s="$IMP_S" -v t="$TARGET_IMPORT_S" 'BEGIN { print (s <= t ? "**met**" : "**not met**") }')
WORST_P99=$(awk -F'\t' '$1 == "search" && $2 ~ /^SQLite HTTP/ { if ($7 > m) m = $7 } END { printf "%.2f", m / 1000 }' "$RESULTS")

report() {
  cat <<REPORT
# medreach master-data benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')

| | |
|---|---|
| machine | $(hostname), \`nproc\` $NCPU, $CPU_MODEL$HYPER, kernel $(uname -r) |
| medreach | binary \`${BIN_SRC#"$TOP"/}\` built $BIN_BUILT, sha256 $BIN_SHA… (a private copy runs) |
| world | \`medreach demo --hcps $HCPS --seed $SEED --csv\`: hcps.csv $HCP_ROWS rows ($HCP_MB MiB), cached in \`${WORLD#"$TOP"/}\` |
| SQLite | $SQLITE_VERSION, WAL, synchronous=FULL on the write path (medreach's defaults) |
| PostgreSQL | ${PG_VERSION:-not run}, private server from scripts/pg-private.sh (fsync=off, synchronous_commit=off, full_page_writes=off: no PostgreSQL figure here, the peers' included, pays for durable commits) |
| search load | wrk \`-c N -d$DURATION --latency\` after a $WARMUP warm-up, $(wc -l <"$DIR/prefixes.txt") prefixes rotated by bench/md_search.lua; \`medreach serve --threads $MR_THREADS\` on CPUs 0-$((NCPU >= 2 ? 1 : 0)), wrk and the peers on the same CPUs |
| field rep | $REP_EXT ($REP_HCPS HCPs aligned) |

## 1. Import of hcps.csv (after hcos.csv)

$(import_table)

- Target: $HCP_ROWS HCPs into SQLite in ≤ $TARGET_IMPORT_S s — $VERDICT_IMPORT (median $IMP_S s).
- The COPY peer loads text into a table without indexes, keys, checks, history or sealing; medreach validates and
  normalises every field, derives the search keys (pinyin, initials), seals and blind-indexes each phone, email
  and licence number, resolves the hospital, writes a change-history row per created record and identity, and
  keeps 7 indexes on hcps and 2 on the identities.

## 2. HCP search by prefix (GET /api/v1/hcps?q=…&limit=20)

$(search_table)

- Target: p99 ≤ $TARGET_P99_MS ms over HTTP on SQLite; the worst p99 of those runs: $WORST_P99 ms.
- medreach finds a page's ids in its in-memory HCP directory (src/engine/hcpdir.c) and reads those 20
  rows from the database by id. The peers run the SQL medreach runs without the directory (the capped
  count, then the page of 21 rows with the same select list) through the bare driver, one thread per wrk
  connection, on a database nobody writes to. Page check, the API's pages against the peer's: ${CHECKS[*]}.
- Every HTTP search also writes an audit record (a read of personal data) through the group-commit writer,
  committed within 20 ms (\`--read-audit-ms\`), with its neighbours. The writer during each HTTP run:

$(writer_table)

Other jobs on the machine: $NOT_QUIET measurement(s) did not get an idle machine within ${QUIET_WAIT}s.
REPORT
  if [ "$FAILED" != 0 ]; then
    echo
    echo "**FAILED**: see the messages above (a command failed, rows failed, wrk errors or a peer disagreed)."
  fi
}

mkdir -p "$OUT"
REPORT="$OUT/masterdata-$STAMP.md"
report | tee "$REPORT"
note "report written to ${REPORT#"$TOP"/}"
exit "$FAILED"

#!/usr/bin/env bash
# bench/run.sh — throughput and latency of `medreach serve` (SQLite) measured
# with wrk, side by side with a peer in the same run: nginx answering a static
# JSON file of the same bytes as GET /api/v1/me, on another loopback port.
#
#   bench/run.sh            the default run (what `make bench` does)
#   bench/run.sh --sweep    also try medreach --threads 2, 4, 8 under each CPU layout
#   bench/run.sh --perf     also record a perf profile of medreach under GET /api/v1/me
#
# Environment (defaults in brackets):
#   BENCH_DURATION [15s]  BENCH_WARMUP [3s]  BENCH_CONNECTIONS [64]  BENCH_WRK_THREADS [2]
#   BENCH_ROUNDS [3]      rounds of every measurement, interleaved; the median round is shown
#   BENCH_THREADS [4]     medreach --threads (the best of the sweep on the 2-core machine)
#   BENCH_LAYOUT [shared] shared: servers and wrk float on CPUs 0-1
#                         split:  servers on CPU 0, wrk on CPU 1
#                         none:   no pinning at all
#   BENCH_SWEEP_DURATION [10s]  BENCH_OUT [bench/out]
#   BENCH_MEDREACH [build/medreach]  another binary, to compare a change
#   BENCH_QUIET_WAIT [90]  before each measurement, wait up to this many seconds for the
#                          rest of the machine to go idle (it is shared with other jobs)
#   BENCH_RETRIES [2]      measure again when other jobs used > 0.3 CPU during a run
#
# Prints a Markdown report and writes it to bench/out/report-<date>.md.
# Exits non-zero when a server does not start or answer, or when wrk sees
# socket errors or error statuses. Missing the target is reported, not fatal.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
LUA="$TOP/bench/summary.lua"

DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
MR_THREADS=${BENCH_THREADS:-4}
LAYOUT=${BENCH_LAYOUT:-shared}
SWEEP_DURATION=${BENCH_SWEEP_DURATION:-10s}
OUT=${BENCH_OUT:-$TOP/bench/out}
TARGET_RPS=30000
TARGET_P99_MS=5

SWEEP=0
PERF=0
for a in "$@"; do
  case "$a" in
    --sweep) SWEEP=1 ;;
    --perf) PERF=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs it)"
done
[ -x "$BIN" ] || die "$BIN is missing; run make build"
[ "$(nproc)" -ge 1 ] || die "nproc failed"

DIR=$(mktemp -d /tmp/mr-bench-XXXXXX)
MR_PID=""
NG_PID=""
PERF_PID=""

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

# await_ready NAME PID PORT:PATH...: waits up to 10 s until every PORT:PATH answers 200 and PID
# is still alive a moment later (so the 200 came from it, not from a server that had the port).
await_ready() {
  local name=$1 pid=$2 target ready
  shift 2
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || die "$name exited at start (see log above)"
    ready=1
    for target in "$@"; do
      [ "$(http_status "${target%%:*}" "${target#*:}")" = 200 ] || { ready=0; break; }
    done
    if [ "$ready" = 1 ]; then
      sleep 0.2
      kill -0 "$pid" 2>/dev/null || die "$name exited at start (see log above)"
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer 200 within 10 s"
}

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local rc=$?
  [ -n "$PERF_PID" ] && stop_pid "$PERF_PID"
  stop_pid "$MR_PID"
  stop_pid "$NG_PID"
  if [ "$rc" -ne 0 ]; then
    for f in "$DIR"/medreach-*.log "$DIR"/nginx-error.log; do
      [ -s "$f" ] && { echo "--- tail of $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a private copy: others may rebuild build/medreach while the benchmark runs.
BIN_BUILT=$(date -u -r "$BIN" '+%Y-%m-%d %H:%M:%S UTC')
cp "$BIN" "$DIR/medreach"
BIN_SRC=$BIN
BIN="$DIR/medreach"
BIN_SHA=$(sha256sum "$BIN" | cut -c1-12)

# ---------------------------------------------------------------- CPU layout

NCPU=$(nproc)
layout_set() { # sets SRV_PIN / WRK_PIN (command prefixes), SRV_CPUS, LAYOUT_DESC
  case "$1" in
    shared)
      local last=$((NCPU >= 2 ? 1 : 0))
      SRV_CPUS=$((last + 1)); SRV_PIN=(taskset -c "0-$last"); WRK_PIN=(taskset -c "0-$last")
      LAYOUT_DESC="shared: medreach/nginx and wrk all on CPUs 0-$last (the scheduler shares them)" ;;
    split)
      [ "$NCPU" -ge 2 ] || die "layout split needs 2 CPUs"
      SRV_CPUS=1; SRV_PIN=(taskset -c 0); WRK_PIN=(taskset -c 1)
      LAYOUT_DESC="split: medreach/nginx on CPU 0, wrk on CPU 1" ;;
    none)
      SRV_CPUS=$NCPU; SRV_PIN=(); WRK_PIN=()
      LAYOUT_DESC="none: no pinning, everything on all $NCPU CPUs" ;;
    *) die "unknown BENCH_LAYOUT '$1' (shared, split, none)" ;;
  esac
}

# ---------------------------------------------------------------- HTTP probe

free_port() { # a loopback port nobody listens on
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

http_get() { # port path [token] -> whole response on stdout (no curl needed)
  local port=$1 path=$2 token=${3-} auth=""
  [ -n "$token" ] && auth="Authorization: Bearer $token"$'\r\n'
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n' "$path" "$auth" >&3
    timeout 5 cat <&3
  ) 2>/dev/null
}

http_status() { # port path [token] -> status code, or 000
  local s
  s=$(http_get "$@" | tr -d '\r' | awk 'NR == 1 { print $2 }')
  echo "${s:-000}"
}

http_body() { # port path [token] -> body, byte for byte (by Content-Length; never chunked here)
  local resp len
  resp=$(mktemp "$DIR/resp.XXXXXX")
  http_get "$@" >"$resp"
  len=$(tr -d '\r' <"$resp" | awk -F': *' 'tolower($1) == "content-length" { print $2; exit } /^$/ { exit }')
  [ -n "$len" ] && tail -c "$len" "$resp"
  rm -f "$resp"
}

# ---------------------------------------------------------------- servers

MR_N=0
start_medreach() { # log-level -> MR_PID, MR_PORT, MR_LOG
  local level=$1
  MR_N=$((MR_N + 1))
  MR_PORT=$(free_port)
  MR_LOG="$DIR/medreach-$MR_N-$level.log"
  "${SRV_PIN[@]}" "$BIN" serve --db "sqlite:$DIR/db.sqlite" --listen "127.0.0.1:$MR_PORT" \
    --web "$TOP/web" --threads "$MR_THREADS" --log-level "$level" >"$DIR/medreach-$MR_N.out" 2>"$MR_LOG" &
  MR_PID=$!
  await_ready "medreach serve" "$MR_PID" "$MR_PORT:/healthz"
}

stop_medreach() { stop_pid "$MR_PID"; MR_PID=""; }

start_nginx() { # workers -> NG_PID, NG_PORT (access_log off), NG_PORT_LOG (access_log to a file)
  local workers=$1 user=""
  NG_PORT=$(free_port)
  NG_PORT_LOG=$(free_port)
  [ "$NG_PORT" != "$NG_PORT_LOG" ] || NG_PORT_LOG=$(free_port)
  [ "$(id -u)" = 0 ] && user="user root;"
  mkdir -p "$DIR/nginx/tmp" "$DIR/nginx/www"
  cp "$DIR/me.json" "$DIR/nginx/www/me.json"
  : >"$DIR/nginx-access.log"
  # The same extra headers as medreach sends, so the responses are of similar size;
  # keep-alive without a request cap, like libmicrohttpd; the open-file cache, so that,
  # like medreach's answer (a cached principal), nginx's does not touch the file system.
  cat >"$DIR/nginx/nginx.conf" <<EOF
$user
worker_processes $workers;
daemon off;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $DIR/nginx/tmp/body;
  proxy_temp_path $DIR/nginx/tmp/proxy;
  fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
  scgi_temp_path $DIR/nginx/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  server_tokens off;
  etag off;
  types { application/json json; }
  default_type application/json;
  charset utf-8;
  charset_types application/json;
  root $DIR/nginx/www;
  add_header X-Request-Id \$request_id;
  add_header X-Content-Type-Options nosniff;
  add_header Referrer-Policy no-referrer;
  add_header X-Frame-Options DENY;
  add_header Cache-Control no-store;
  server { listen 127.0.0.1:$NG_PORT;     access_log off; }
  server { listen 127.0.0.1:$NG_PORT_LOG; access_log $DIR/nginx-access.log; }
}
EOF
  "${SRV_PIN[@]}" nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx-error.log" &
  NG_PID=$!
  await_ready nginx "$NG_PID" "$NG_PORT:/me.json" "$NG_PORT_LOG:/me.json"
}

stop_nginx() { stop_pid "$NG_PID"; NG_PID=""; }

# ---------------------------------------------------------------- wrk

FAILED=0
RESULTS="$DIR/results.tsv"
RAW="$DIR/raw.txt"
: >"$RESULTS"
: >"$RAW"

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

tree_ticks() { # pid -> CPU ticks (user+sys, all threads) of the process and its children
  local pid=$1 kids
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
  # shellcheck disable=SC2086
  for p in "$pid" $kids; do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}

stat_ticks() { # -> "busy steal total" ticks of the whole machine (/proc/stat)
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6 - $9, $9, t; exit }' /proc/stat
}

KSOFTIRQD=$(grep -l '^ksoftirqd/' /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 | tr '\n' ' ' || true)
ksoftirqd_ticks() { # -> CPU ticks of the ksoftirqd threads (network work the kernel deferred to them)
  local p
  # shellcheck disable=SC2086
  for p in $KSOFTIRQD; do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}

# Waits until the rest of the machine is nearly idle (< 0.25 CPU busy over 1 s), at most
# BENCH_QUIET_WAIT seconds: on a shared machine other jobs would otherwise decide the figures.
QUIET_WAIT=${BENCH_QUIET_WAIT:-90}
NOT_QUIET=0
RETRIES=${BENCH_RETRIES:-2}
OTHER_MAX=0.3
CONTAMINATED=0
wait_quiet() {
  local t0=$SECONDS a b busy
  while :; do
    a=$(stat_ticks); sleep 1; b=$(stat_ticks)
    busy=$(awk -v a="$a" -v b="$b" -v n="$NCPU" 'BEGIN { split(a, x, " "); split(b, y, " ");
      t = y[3] - x[3]; printf "%.2f", (t > 0 ? n * (y[1] - x[1]) / t : 0) }')
    awk -v v="$busy" 'BEGIN { exit !(v < 0.25) }' && return 0
    if [ $((SECONDS - t0)) -ge "$QUIET_WAIT" ]; then
      note "machine still busy ($busy CPUs) after ${QUIET_WAIT}s; measuring anyway"
      NOT_QUIET=$((NOT_QUIET + 1))
      return 0
    fi
  done
}

# measure section round label server-pid port path [token]
# Checks for a 200, warms up, runs wrk and appends one row to $RESULTS:
#  1 section 2 round 3 label 4 rps 5 p50_us 6 p90_us 7 p99_us 8 p999_us 9 max_us 10 bytes_per_resp
# 11 errors 12 requests 13 error detail 14 server cores 15 server CPU us/req 16 wrk cores
# 17 other cores (busy CPU that is neither server, wrk nor ksoftirqd: other jobs) 18 steal cores
# 19 seconds 20 ksoftirqd cores (loopback network work the kernel deferred to its threads)
measure() {
  local label=$3 port=$5 path=$6 token=${7-} st attempt busy
  st=$(http_status "$port" "$path" "$token")
  if [ "$st" != 200 ]; then
    note "$label: $path answered $st, not 200"
    FAILED=1
    return 0
  fi
  for attempt in $(seq $((RETRIES + 1))); do
    measure_once "$@"
    [ "$MEASURED" = 1 ] || return 0
    busy=$(tail -n 1 "$RESULTS" | cut -f17)
    awk -v v="$busy" -v m="$OTHER_MAX" 'BEGIN { exit !(v > m) }' || return 0
    if [ "$attempt" -le "$RETRIES" ]; then
      note "$label: other jobs used $busy CPUs during the run; measuring again"
      sed -i '$d' "$RESULTS"
    else
      note "$label: other jobs used $busy CPUs during the run; keeping it (retries used up)"
      sed -i '$ s/$/\tbusy/' "$RESULTS"
      CONTAMINATED=$((CONTAMINATED + 1))
    fi
  done
}

measure_once() {
  local section=$1 round=$2 label=$3 spid=$4 port=$5 path=$6 token=${7-} dur=$DURATION
  local url="http://127.0.0.1:$port$path" hdr=() line s0 s1 k0 k1 m0 m1 wcpu
  [ "$section" = sweep ] && dur=$SWEEP_DURATION
  [ -n "$token" ] && hdr=(-H "Authorization: Bearer $token")
  MEASURED=0
  wait_quiet
  note "$section r$round: $label — GET $path, $dur"
  if ! "${WRK_PIN[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$WARMUP" "${hdr[@]}" "$url" >/dev/null; then
    note "$label: wrk (warm-up) failed"
    FAILED=1
    return 0
  fi
  s0=$(tree_ticks "$spid")
  k0=$(ksoftirqd_ticks)
  m0=$(stat_ticks)
  if ! { TIMEFORMAT='%U %S'; time "${WRK_PIN[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$dur" --latency \
        -s "$LUA" "${hdr[@]}" "$url" >"$DIR/wrk.out" 2>"$DIR/wrk.err"; } 2>"$DIR/wrk.time"; then
    note "$label: wrk failed: $(head -c 300 "$DIR/wrk.err")"
    FAILED=1
    return 0
  fi
  s1=$(tree_ticks "$spid")
  k1=$(ksoftirqd_ticks)
  m1=$(stat_ticks)
  wcpu=$(awk '{ print $1 + $2 }' "$DIR/wrk.time")
  { echo "### $section round $round: $label — GET $path"; echo; echo '```'
    grep -v '^MRBENCH' "$DIR/wrk.out"; echo '```'; echo; } >>"$RAW"
  line=$(grep '^MRBENCH' "$DIR/wrk.out" || true)
  if [ -z "$line" ]; then
    note "$label: no summary from wrk"
    FAILED=1
    return 0
  fi
  echo "$line" | awk -v s="$section" -v r="$round" -v l="$label" -v s0="$s0" -v s1="$s1" \
      -v m0="$m0" -v m1="$m1" -v k0="$k0" -v k1="$k1" -v wcpu="$wcpu" -v hz="$CLK_TCK" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"] + v["err_status"]
      sec = v["duration_us"] / 1e6
      rps = sec > 0 ? v["requests"] / sec : 0
      bpr = v["requests"] > 0 ? v["bytes"] / v["requests"] : 0
      split(m0, a, " "); split(m1, b, " ")
      srv = (s1 - s0) / hz; steal = (b[2] - a[2]) / hz; sirq = (k1 - k0) / hz
      other = (b[1] - a[1]) / hz - srv - wcpu - sirq; if (other < 0) other = 0
      printf "%s\t%s\t%s\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.0f\t%d\t%d\t%s\t%.2f\t%.1f\t%.2f\t%.2f\t%.2f\t%.1f\t%.2f\n",
        s, r, l, rps, v["p50_us"], v["p90_us"], v["p99_us"], v["p999_us"], v["max_us"], bpr, err,
        v["requests"], sprintf("connect=%d read=%d write=%d timeout=%d status=%d", v["err_connect"],
        v["err_read"], v["err_write"], v["err_timeout"], v["err_status"]),
        (sec > 0 ? srv / sec : 0), (v["requests"] > 0 ? srv * 1e6 / v["requests"] : 0),
        (sec > 0 ? wcpu / sec : 0), (sec > 0 ? other / sec : 0), (sec > 0 ? steal / sec : 0), sec,
        (sec > 0 ? sirq / sec : 0)
    }' >>"$RESULTS"
  if [ "$(tail -n 1 "$RESULTS" | cut -f11)" != 0 ] || [ "$(tail -n 1 "$RESULTS" | cut -f12)" = 0 ]; then
    note "$label: wrk reported errors: $(tail -n 1 "$RESULTS" | cut -f13)"
    FAILED=1
    return 0
  fi
  MEASURED=1
}

# table section [cpu] -> Markdown table; for each label, the round with the median req/s
table() {
  local section=$1 kind=${2-latency}
  if [ "$kind" = cpu ]; then
    echo "| target | req/s | server CPU (cores) | server CPU µs/req | wrk CPU (cores) | ksoftirqd (cores) | other jobs (cores) | steal (cores) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  else
    echo "| target | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | bytes/resp | errors | req/s over rounds |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  fi
  awk -F'\t' -v s="$section" -v kind="$kind" '
    $1 == s { if (!($3 in n)) order[++k] = $3; i = ++n[$3]; row[$3, i] = $0; rps[$3, i] = $4; busy[$3, i] = $21 }
    END {
      for (o = 1; o <= k; o++) {
        l = order[o]; m = n[l]
        for (i = 1; i <= m; i++) idx[i] = i
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
          if (rps[l, idx[j]] < rps[l, idx[i]]) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
        split(row[l, idx[int((m + 1) / 2)]], f, "\t")
        all = ""
        for (i = 1; i <= m; i++) all = all (i > 1 ? ", " : "") rps[l, i] (busy[l, i] == "busy" ? "*" : "")
        if (kind == "cpu")
          printf "| %s | %d | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f |\n", l, f[4], f[14], f[15], f[16], f[20], f[17], f[18]
        else
          printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %d | %d | %s |\n", l, f[4], f[5] / 1000,
            f[6] / 1000, f[7] / 1000, f[8] / 1000, f[10], f[11], (m > 1 ? all : (f[21] == "busy" ? "*" : "—"))
      }
    }' "$RESULTS"
}

median_field() { # section label field -> the field of the median-req/s round
  awk -F'\t' -v s="$1" -v l="$2" -v fld="$3" '
    $1 == s && $3 == l { r[++m] = $4 "\t" $fld }
    END {
      if (!m) { print ""; exit }
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) {
        split(r[i], a, "\t"); split(r[j], b, "\t"); if (b[1] + 0 < a[1] + 0) { t = r[i]; r[i] = r[j]; r[j] = t }
      }
      split(r[int((m + 1) / 2)], x, "\t"); print x[2]
    }' "$RESULTS"
}

# ---------------------------------------------------------------- set-up

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
export MEDREACH_KEY_FILE="$DIR/key"
echo "bench-password-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" |
  "$BIN" user add bench --role field_rep --db "sqlite:$DIR/db.sqlite" --log-level warn >/dev/null ||
  die "medreach user add failed"
TOKEN=$("$BIN" token create bench --db "sqlite:$DIR/db.sqlite" --log-level warn) || die "medreach token create failed"
TOKEN=$(echo "$TOKEN" | tr -d '[:space:]')
[ -n "$TOKEN" ] || die "medreach token create printed no token"

# How busy the machine is before we start (other jobs skew every figure).
m0=$(stat_ticks); sleep 2; m1=$(stat_ticks)
IDLE_BUSY=$(awk -v a="$m0" -v b="$m1" -v n="$NCPU" 'BEGIN { split(a, x, " "); split(b, y, " ");
  t = y[3] - x[3]; if (t > 0) printf "%.2f", n * (y[1] - x[1]) / t; else print "?" }')
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

layout_set "$LAYOUT"
start_medreach warn
# The peer serves exactly the bytes of this user's /api/v1/me answer.
http_body "$MR_PORT" /api/v1/me "$TOKEN" >"$DIR/me.json"
ME_BYTES=$(wc -c <"$DIR/me.json")
[ "$ME_BYTES" -gt 0 ] || die "GET /api/v1/me returned no body"
stop_medreach

# ---------------------------------------------------------------- sweep

if [ "$SWEEP" = 1 ]; then
  SAVED_THREADS=$MR_THREADS
  SWEEP_LAYOUTS=(shared split)
  [ "$NCPU" -ge 2 ] || SWEEP_LAYOUTS=(shared)
  for lay in "${SWEEP_LAYOUTS[@]}"; do
    layout_set "$lay"
    start_nginx "$SRV_CPUS"
    measure sweep 1 "$lay · nginx static (workers $SRV_CPUS, log off)" "$NG_PID" "$NG_PORT" /me.json
    stop_nginx
    for t in 2 4 8; do
      MR_THREADS=$t
      start_medreach warn
      measure sweep 1 "$lay · medreach --threads $t · /healthz" "$MR_PID" "$MR_PORT" /healthz
      measure sweep 1 "$lay · medreach --threads $t · /api/v1/me" "$MR_PID" "$MR_PORT" /api/v1/me "$TOKEN"
      stop_medreach
    done
  done
  MR_THREADS=$SAVED_THREADS
  layout_set "$LAYOUT"
fi

# ---------------------------------------------------------------- main run

L_MR_H="medreach /healthz (log warn)"
L_MR_ME="medreach /api/v1/me (log warn)"
L_NG="nginx static $ME_BYTES B (access_log off)"
L_MR_H_I="medreach /healthz (log info → file)"
L_MR_ME_I="medreach /api/v1/me (log info → file)"
L_NG_I="nginx static $ME_BYTES B (access_log → file)"

start_nginx "$SRV_CPUS"
for round in $(seq "$ROUNDS"); do
  start_medreach warn
  measure main "$round" "$L_MR_H" "$MR_PID" "$MR_PORT" /healthz
  measure main "$round" "$L_MR_ME" "$MR_PID" "$MR_PORT" /api/v1/me "$TOKEN"
  stop_medreach
  measure main "$round" "$L_NG" "$NG_PID" "$NG_PORT" /me.json
  start_medreach info
  measure main "$round" "$L_MR_H_I" "$MR_PID" "$MR_PORT" /healthz
  measure main "$round" "$L_MR_ME_I" "$MR_PID" "$MR_PORT" /api/v1/me "$TOKEN"
  INFO_LOG_LINES=$(wc -l <"$MR_LOG")
  INFO_LOG_BYTES=$(wc -c <"$MR_LOG")
  stop_medreach
  measure main "$round" "$L_NG_I" "$NG_PID" "$NG_PORT_LOG" /me.json
done
stop_nginx

PERF_TXT=""
if [ "$PERF" = 1 ]; then
  command -v perf >/dev/null 2>&1 || die "perf is missing"
  start_medreach warn
  note "perf: recording medreach under GET /api/v1/me for $DURATION"
  perf record -q -N --call-graph dwarf,16384 -F 299 -p "$MR_PID" -o "$DIR/perf.data" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
  PERF_PID=$!
  "${WRK_PIN[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$MR_PORT/api/v1/me" >"$DIR/perf-wrk.txt"
  wait "$PERF_PID" || true
  PERF_PID=""
  stop_medreach
  mkdir -p "$OUT"
  PERF_TXT="$OUT/perf-$STAMP.txt"
  { echo "# perf, medreach --threads $MR_THREADS under GET /api/v1/me ($LAYOUT_DESC)"
    cat "$DIR/perf-wrk.txt"
    echo "## self time by symbol"
    perf report -i "$DIR/perf.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null | awk '/%/ && ++n <= 50' || true
    echo "## including callees (inclusive), by symbol"
    perf report -i "$DIR/perf.data" --stdio --children --sort symbol -g none 2>/dev/null | awk '/%/ && ++n <= 120' || true
  } >"$PERF_TXT"
fi

# ---------------------------------------------------------------- report

ME_RPS=$(median_field main "$L_MR_ME" 4)
ME_P99=$(median_field main "$L_MR_ME" 7)
NG_RPS=$(median_field main "$L_NG" 4)
ME_RPS_I=$(median_field main "$L_MR_ME_I" 4)
H_RPS=$(median_field main "$L_MR_H" 4)
H_RPS_I=$(median_field main "$L_MR_H_I" 4)
NG_RPS_I=$(median_field main "$L_NG_I" 4)
ME_US=$(median_field main "$L_MR_ME" 15)
ME_US_I=$(median_field main "$L_MR_ME_I" 15)
H_US=$(median_field main "$L_MR_H" 15)
H_US_I=$(median_field main "$L_MR_H_I" 15)
NG_US=$(median_field main "$L_NG" 15)
NG_US_I=$(median_field main "$L_NG_I" 15)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "?" }'; }
drop() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * (b - a) / b; else print "?" }'; }
if [ -n "$ME_RPS" ] && [ "$ME_RPS" -ge "$TARGET_RPS" ] && [ "$ME_P99" -le $((TARGET_P99_MS * 1000)) ]; then
  VERDICT="**met**"
else
  VERDICT="**not met**"
fi

CPU_MODEL=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
HYPER=$(lscpu 2>/dev/null | awk -F: '/^Hypervisor vendor/ { sub(/^[ \t]+/, "", $2); print " (" $2 " guest)"; exit }')
MR_VERSION=$("$BIN" version 2>&1 | tr '\n' ' ' | sed 's/ *$//')
NG_VERSION=$(nginx -v 2>&1)
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')

report() {
  cat <<EOF
# medreach benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')

| | |
|---|---|
| machine | $(hostname), \`nproc\` $NCPU, $CPU_MODEL$HYPER, kernel $(uname -r) |
| medreach | $MR_VERSION; binary \`${BIN_SRC#"$TOP"/}\` built $BIN_BUILT, sha256 $BIN_SHA… (a private copy runs) |
| server | \`medreach serve --threads $MR_THREADS\`, SQLite (WAL) in a fresh temp dir; one field_rep user, one API token |
| peer | $NG_VERSION (Debian nginx-light), worker_processes $SRV_CPUS, static file of the same $ME_BYTES bytes as the /api/v1/me answer, same extra response headers, sendfile on, open_file_cache on, keepalive_requests 1000000 |
| load | $WRK_VERSION \`-t$WRK_THREADS -c$CONNS -d$DURATION --latency\` after a $WARMUP warm-up, identical for every target; $ROUNDS round(s), interleaved, the median round shown |
| CPU layout | $LAYOUT_DESC |
| logging | "log warn" = \`--log-level warn\` (no access log) vs nginx \`access_log off\`; "log info → file" = medreach's access log (stderr) to a file vs nginx \`access_log\` to a file |

wrk runs on the same machine as the servers and uses CPU too; every figure is for server + load generator on $NCPU CPUs.
Before the run, other work kept $IDLE_BUSY of $NCPU CPUs busy (load average $LOADAVG); the "other jobs" column
below shows the same during each measurement (each one waited up to ${QUIET_WAIT}s for the machine to go idle;
$NOT_QUIET did not get an idle machine, and was measured again, up to ${RETRIES} times, when other jobs used more than
$OTHER_MAX CPU during it; $CONTAMINATED kept such a figure after the last retry, marked *). Figures are only comparable within one run.

## Results

$(table main)

- Target for authenticated \`GET /api/v1/me\`: ≥ $TARGET_RPS req/s with p99 ≤ $TARGET_P99_MS ms — $VERDICT ($ME_RPS req/s, p99 $(awk -v v="$ME_P99" 'BEGIN { printf "%.2f", v / 1000 }') ms).
- medreach /api/v1/me reaches $(pct "$ME_RPS" "$NG_RPS") % of nginx's static figure in the same run; /healthz $(pct "$H_RPS" "$NG_RPS") %.
- CPU accounting (median round; a "core" is one CPU busy for the whole run): the server's process tree and wrk
  (each including the kernel's TCP work done in its context), ksoftirqd (network work the kernel deferred to its
  threads), other jobs (all other busy CPU) and steal (time the hypervisor gave to other guests). Server CPU µs/req
  is the least noisy figure here:

$(table main cpu)

- Access log: info logging to a file costs medreach $(drop "$ME_RPS_I" "$ME_RPS") % on /api/v1/me and $(drop "$H_RPS_I" "$H_RPS") % on /healthz (nginx's access_log: $(drop "$NG_RPS_I" "$NG_RPS") %).
  In server CPU per request: /api/v1/me $ME_US → $ME_US_I µs, /healthz $H_US → $H_US_I µs, nginx $NG_US → $NG_US_I µs.
  The last info run wrote ${INFO_LOG_LINES:-?} lines, ${INFO_LOG_BYTES:-?} bytes.
EOF
  if [ "$SWEEP" = 1 ]; then
    echo
    echo "## Sweep: medreach --threads and CPU layout (one round, -d$SWEEP_DURATION each)"
    echo
    table sweep
    echo
    table sweep cpu
  fi
  if [ -n "$PERF_TXT" ]; then
    echo
    echo "Profile: \`${PERF_TXT#"$TOP"/}\`."
  fi
  if [ "$FAILED" != 0 ]; then
    echo
    echo "**FAILED**: a target did not answer 200 or wrk reported errors; see the errors column."
  fi
}

mkdir -p "$OUT"
REPORT="$OUT/report-$STAMP.md"
report | tee "$REPORT"
{ echo; echo "## Raw wrk output"; echo; cat "$RAW"; } >>"$REPORT"
note "report written to ${REPORT#"$TOP"/}"
exit "$FAILED"

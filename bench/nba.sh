#!/usr/bin/env bash
# bench/nba.sh — issue 6's speed figures for the next-best-action engine (docs/nba.md), over the
# 400,000-doctor world (420,000 records with their duplicates, their consents and identities) and
# 10,000,000 events, SQLite, with 8 expert rules and a contact policy defined here:
#
#  1. the batch: POST /api/v1/nba/run over every doctor, as a dry run (the median of a few
#     rounds) and once for real (it creates the tasks, so it comes last); took_ms from the answer
#     and the wall time at the client. Also `medreach nba run --dry-run --json` (the CLI loads the
#     projections itself first). Target: ≤ 5 s on 2 cores.
#  2. one doctor's GET /api/v1/hcps/{id}/recommendations?explain=true, as the doctor's page asks
#     it, by wrk over 20,000 doctors drawn at random (bench/nba.lua): one request at a time (1 ms
#     apart), at a moderate offered rate, and one connection flat out; and the server's own
#     latency histogram of them (/metrics). Target: p99 ≤ 5 ms over HTTP.
#  3. the learned policy: the response models trained (POST /api/v1/nba/models/train), the
#     policy set to learned, the dry run and one doctor's recommendations again.
#
# Issue 6 names no peer for these figures, so none runs.
#
#   bench/nba.sh        (make bench runs it)
#
# Environment (defaults in brackets):
#   BENCH_NBA_ROUNDS [5]      dry-run rounds under the rules (the median is reported)
#   BENCH_NBA_CLI [1]         0 leaves the CLI's dry run out
#   BENCH_NBA_LEARNED [1]     0 leaves the learned policy out (its dry run takes 15–35 s)
#   BENCH_NBA_CONNECTIONS [10] BENCH_NBA_PAUSE_MS [10]  the moderate load: each connection pauses
#                             this long between requests (offered ≤ connections × 1000 / pause)
#   BENCH_DURATION [10s]      each wrk run (after a 3 s warm-up)
#   BENCH_MEDREACH [build/medreach] BENCH_OUT [bench/out]
# Data comes from bench/data/ (bench/lib.sh; generated when missing): the demo world's CSV files
# and 10,000,000 events (bench/gen-events.mjs, seed 2, over the year before 2026-12-01). The
# runs decide at as_of 2026-12-01T00:00:00Z (08:00 in Beijing, the events' last day); one
# doctor's recommendations are asked without as_of, for now, as the UI asks them.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN=${BENCH_MEDREACH:-$TOP/build/medreach}
ROUNDS=${BENCH_NBA_ROUNDS:-5}
USE_CLI=${BENCH_NBA_CLI:-1}
USE_LEARNED=${BENCH_NBA_LEARNED:-1}
CONNS=${BENCH_NBA_CONNECTIONS:-10}
PAUSE_MS=${BENCH_NBA_PAUSE_MS:-10}
DURATION=${BENCH_DURATION:-10s}
OUT=${BENCH_OUT:-$TOP/bench/out}
AS_OF=2026-12-01T00:00:00Z
TARGET_BATCH_S=5
TARGET_P99_MS=5

die() { echo "nba bench: $*" >&2; exit 1; }
note() { echo "nba bench: $*" >&2; }
for tool in wrk curl jq sqlite3 node; do command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs it)"; done
[ -x "$BIN" ] || die "$BIN is missing; run make build"

DIR=$(mktemp -d /tmp/mr-nbabench-XXXXXX)
MR_PID=""
FAILED=0
cleanup() {
  local rc=$?
  [ -n "$MR_PID" ] && { kill -TERM "$MR_PID" 2>/dev/null; wait "$MR_PID" 2>/dev/null || true; }
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
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
bench_data
bench_content_csv "$DIR/content.csv"

note "loading the world (with consents and identities), the content and 10,000,000 events into SQLite"
DB="sqlite:$DIR/nba.db"
TOKEN=$(bench_load_sqlite "$DIR/nba.db" nbabench consents identities)
bench_serve "$DB" "$TOKEN"
URL="http://127.0.0.1:$PORT"
LOAD_START=$(loadavg)

# api METHOD PATH [BODY] → the answer's body on stdout; a status other than 2xx fails the bench
api() {
  local code
  code=$(curl -s -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} -o "$DIR/api.out" -w '%{http_code}' "$URL$2") || die "$1 $2: curl failed"
  case "$code" in 2??) cat "$DIR/api.out" ;; *) die "$1 $2: $code $(head -c 400 "$DIR/api.out")" ;; esac
}

# ---------------------------------------------------------------- the tags, the policy, the rules

note "defining the tags, the contact policy and 8 rules"
tag() { api PUT "/api/v1/tags/$1" "$(jq -nc --arg e "$2" --arg c "$3" '{expr: $e, category: $c, description: "nba bench"}')" >/dev/null; }
tag academic_need 'top(content.topic, channel = "content", 180d)' needs
tag engagement_score 'sum(weight, 180d)' engagement
api POST /api/v1/tags/recompute '{}' >/dev/null
api PUT /api/v1/nba/settings '{"weekly_budget": 3, "channel_caps": {"phone": 2, "wechat": 2, "wecom": 2, "email": 2,
  "sms": 1, "visit": 1}, "quiet_hours": {"from": 21, "to": 8}, "run_limit_per_rep": 0, "k": 3, "policy": "rules"}' >/dev/null

WORKDAYS='{"days": 7, "weekdays": [1, 2, 3, 4, 5], "hours": [9, 18]}'
# rule NAME PRIORITY CONDITION ACTION CHANNEL REPEAT_DAYS DESCRIPTION [CONTENT_JSON [WINDOW_JSON]]
rule() {
  api PUT "/api/v1/rules/$1" "$(jq -nc --argjson p "$2" --arg c "$3" --arg a "$4" --arg ch "$5" --argjson rep "$6" \
    --arg d "$7" --argjson content "${8:-null}" --argjson w "${9:-$WORKDAYS}" '{description: $d, condition: $c,
      priority: $p, action: ({action: $a, channel: $ch, window: $w, repeat_days: $rep}
        + (if $content then {content: $content} else {} end))}')" >/dev/null
}
rule kol-visit 1 'title in ("chief", "assoc_chief") and not exists(channel = "visit", 30d)' visit visit 30 \
  '主任、副主任医师一个月未拜访：安排面访'
rule call-answered 2 'exists(channel = "phone" and outcome >= "answered", 30d) and not exists(channel = "phone", 7d)' \
  call phone 14 '近 30 天接听过电话、本周未联系：内勤电话跟进'
rule wechat-responders 2 'exists(channel = "wechat" and outcome >= "responded", 60d)' wechat wechat 7 \
  '近 60 天微信回复过：微信跟进'
rule content-by-need 3 'exists(channel = "content", 180d)' send_content wechat 14 \
  '看过内容的医生：按学术需求标签推送同主题内容' '{"topic": "tag.academic_need"}' \
  '{"days": 7, "weekdays": [1, 2, 3, 4, 5, 6, 7], "hours": [8, 21]}'
rule meeting-invite 3 'exists(channel = "meeting_online" and outcome >= "registered", 180d)' meeting_invite email 30 \
  '半年内报名过线上会议：邀请下一场' null '{"days": 14, "weekdays": [1, 2, 3, 4, 5], "hours": [9, 18]}'
rule engaged-guidelines 3 'engagement_score >= 30' send_content wecom 14 '互动得分高：企业微信推送指南' \
  '{"topic": "guidelines"}'
rule email-readers 4 'count(channel = "email" and outcome >= "read", 180d) >= 2' send_content email 14 \
  '半年内读过两封以上邮件：邮件推送产品资料' '{"product": "P1"}'
rule lapsed-call 5 'days_since(channel = "phone" and outcome >= "successful") > 60' call phone 30 \
  '两个月没有成功通话：电话回访'
NRULES=$(api GET /api/v1/rules | jq '.items | length')
[ "$NRULES" = 8 ] || die "$NRULES rules defined, not 8"

RESULTS="$DIR/results.tsv"
: >"$RESULTS"

# run LABEL BODY → one line "run LABEL took_ms wall_s recommended tasks_created learned by_model"; the
# answer is kept as $DIR/run-last.json
run() {
  local t0 t1
  t0=$(date +%s.%N)
  api POST /api/v1/nba/run "$2" >"$DIR/run-last.json"
  t1=$(date +%s.%N)
  jq -r --arg l "$1" --arg w "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    '["run", $l, .took_ms, $w, .recommended, .tasks_created, (.learned // 0), (.by_model // 0)] | @tsv' \
    "$DIR/run-last.json" >>"$RESULTS"
}

# ---------------------------------------------------------------- 1. the dry run under the rules

for round in $(seq "$ROUNDS"); do
  note "dry run $round of $ROUNDS"
  run "dry run, rules" "{\"dry_run\": true, \"as_of\": \"$AS_OF\"}"
done
cp "$DIR/run-last.json" "$DIR/dry.json"

# ---------------------------------------------------------------- 2. one doctor's recommendations

sqlite3 "$DIR/nba.db" "SELECT ext_id FROM hcps ORDER BY random() LIMIT 20000" >"$DIR/ids.txt"
# how many of 200 of them get something (the rest are blocked: no consent, no owner, …)
SERVED=0
for id in $(head -n 200 "$DIR/ids.txt"); do
  n=$(api GET "/api/v1/hcps/$id/recommendations?explain=true" | jq '.items | length')
  if [ "$n" -gt 0 ]; then SERVED=$((SERVED + 1)); fi
done
recs_run() { # LABEL CONNECTIONS PAUSE_MS
  local threads=$(($2 < 2 ? 1 : 2))
  wrk -t"$threads" -c"$2" -d3s -s "$TOP/bench/nba.lua" -H "Authorization: Bearer $TOKEN" "$URL" -- "$DIR/ids.txt" "$3" >/dev/null
  wrk -t"$threads" -c"$2" -d"$DURATION" --latency -s "$TOP/bench/nba.lua" -H "Authorization: Bearer $TOKEN" \
    "$URL" -- "$DIR/ids.txt" "$3" >"$DIR/wrk.out" 2>&1 || die "wrk failed: $(tail -3 "$DIR/wrk.out")"
  grep '^MRBENCH' "$DIR/wrk.out" | awk -v l="$1" -v c="$2" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"] + v["err_status"]
      printf "recs\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", l, c, v["requests"] / (v["duration_us"] / 1e6),
        v["p50_us"] / 1000, v["p99_us"] / 1000, v["p999_us"] / 1000, v["max_us"] / 1000, err }' >>"$RESULTS"
  if [ "$(tail -n 1 "$RESULTS" | cut -f9)" != 0 ]; then
    note "$1: wrk counted errors: $(grep -A3 'Socket errors\|Non-2xx' "$DIR/wrk.out" | tr '\n' ' ')"
    FAILED=1
  fi
}
note "one doctor's recommendations: one request at a time, 1 ms apart"
recs_run "rules, one request at a time, 1 ms apart" 1 1
note "one doctor's recommendations: $CONNS connections, $PAUSE_MS ms pause"
recs_run "rules, offered ≤ $((CONNS * 1000 / PAUSE_MS)) req/s" "$CONNS" "$PAUSE_MS"
note "one doctor's recommendations: one connection flat out"
recs_run "rules, one connection flat out" 1 0
# the server's own view of those requests (and the warm-ups): its latency histogram
curl -s "$URL/metrics" | awk '/^medreach_http_request_duration_seconds_bucket/ && /recommendations/ && /GET/ {
    match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n[le] = $NF }
  END { if (n["+Inf"]) printf "%.2f %.2f %d\n", 100 * n["0.0025"] / n["+Inf"], 100 * n["0.005"] / n["+Inf"], n["+Inf"] }' \
  >"$DIR/server-hist.txt"
RSS_KB=$(awk '/VmRSS/ { print $2 }' "/proc/$MR_PID/status")

# ---------------------------------------------------------------- the CLI

if [ "$USE_CLI" != 0 ]; then
  note "medreach nba run --dry-run --json (loads the projections itself)"
  t0=$(date +%s.%N)
  mr nba run --dry-run --as-of "$AS_OF" --json --db "$DB" >"$DIR/cli.json" 2>"$DIR/cli.err" ||
    die "medreach nba run failed: $(tail -2 "$DIR/cli.err")"
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  jq -r --arg w "$wall" '["run", "CLI dry run (wall: with loading the projections)", .took_ms, $w, .recommended,
    .tasks_created, (.learned // 0), (.by_model // 0)] | @tsv' "$DIR/cli.json" >>"$RESULTS"
  [ "$(jq .recommended "$DIR/cli.json")" = "$(jq .recommended "$DIR/dry.json")" ] ||
    { note "the CLI recommended $(jq .recommended "$DIR/cli.json"), the server $(jq .recommended "$DIR/dry.json")"; FAILED=1; }
fi

# ---------------------------------------------------------------- 3. the learned policy

if [ "$USE_LEARNED" != 0 ]; then
  note "training the response models"
  t0=$(date +%s.%N)
  api POST /api/v1/nba/models/train "{\"window_days\": 180, \"as_of\": \"$AS_OF\"}" >"$DIR/train.json"
  TRAIN_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  TRAIN_VERSIONS=$(jq '.versions | length' "$DIR/train.json")
  api PUT /api/v1/nba/settings '{"policy": "learned"}' >/dev/null
  note "dry run under the learned policy"
  run "dry run, learned policy" "{\"dry_run\": true, \"as_of\": \"$AS_OF\"}"
  note "one doctor's recommendations under the learned policy: one request at a time"
  recs_run "learned policy, one request at a time, 1 ms apart" 1 1
  api PUT /api/v1/nba/settings '{"policy": "rules"}' >/dev/null
fi

# ---------------------------------------------------------------- 4. the run for real (last: it makes tasks)

note "the run for real"
run "run, creating the tasks" "{\"as_of\": \"$AS_OF\"}"
MADE=$(jq .tasks_created "$DIR/run-last.json")
STORED=$(sqlite3 "$DIR/nba.db" "SELECT COUNT(*) FROM tasks WHERE source = 'rule'")
[ "$STORED" = "$MADE" ] || { note "the run said $MADE tasks, the store holds $STORED"; FAILED=1; }
[ "$MADE" = "$(jq .recommended "$DIR/dry.json")" ] ||
  note "the run made $MADE tasks, the dry run recommended $(jq .recommended "$DIR/dry.json")"
LOAD_END=$(loadavg)

# ---------------------------------------------------------------- report

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "met" : "not met") }'; }
runs() { awk -F'\t' -v l="$1" '$1 == "run" && $2 == l { print $'"$2"' }' "$RESULTS"; } # LABEL COLUMN
DRY_MS=$(runs "dry run, rules" 3 | median)
DRY_WALL=$(runs "dry run, rules" 4 | median)
DRY_ROUNDS=$(runs "dry run, rules" 3 | awk '{ printf "%s%.0f", s, $1; s = ", " }')
REAL_WALL=$(runs "run, creating the tasks" 4)
RULES=$(api GET /api/v1/rules | jq -r '[.items[] | "\(.name) (\(.action.action), p\(.priority))"] | join(", ")')
COUNTS=$(jq -r '"\(.considered) doctors considered, \(.candidates) candidates, \(.recommended) recommended; blocked: "
  + ([.blocked | to_entries[] | "\(.key) \(.value)"] | join(", "))' "$DIR/dry.json")
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
{
  echo "# medreach next-best-action benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(uname -n | cut -c1-20), \`nproc\` $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs | cut -c1-40); load average $LOAD_START at the start, $LOAD_END at the end |"
  echo "| medreach | sha256 $BIN_SHA…, SQLite; the projections loaded in $LOAD_S s after the start; $((RSS_KB / 1024)) MiB resident |"
  echo "| data | 400,000 doctors (420,000 records) with their consents and identities, 500 content items, 10,000,000 events |"
  echo "| rules | $NRULES: $RULES |"
  echo "| contact policy | 3 contacts a week; caps phone 2, WeChat 2, WeCom 2, e-mail 2, SMS 1, visit 1; quiet 21:00–08:00 |"
  echo "| peers | none: issue 6 names no peer for these figures |"
  echo
  echo "## Batch: POST /api/v1/nba/run over every doctor at $AS_OF"
  echo
  echo "| run | target | took_ms (server) | wall s (client) | recommended | tasks made | learned doctors | chosen by a model |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '| dry run, rules (median of %d) | ≤ %d s | %.0f | %.2f | %d | 0 | 0 | 0 |\n' "$ROUNDS" "$TARGET_BATCH_S" \
    "$DRY_MS" "$DRY_WALL" "$(jq .recommended "$DIR/dry.json")"
  awk -F'\t' -v t="$TARGET_BATCH_S" '$1 == "run" && $2 != "dry run, rules" {
    printf "| %s | ≤ %d s | %.0f | %.2f | %d | %d | %d | %d |\n", $2, t, $3, $4, $5, $6, $7, $8 }' "$RESULTS"
  echo
  echo "- Dry run under the rules: **$(verdict "$DRY_WALL" "$TARGET_BATCH_S")** ($DRY_WALL s at the client; took_ms of the rounds: $DRY_ROUNDS)."
  echo "- The run that writes the tasks: **$(verdict "$REAL_WALL" "$TARGET_BATCH_S")** ($MADE tasks with their log rows and audit record; the store holds $STORED)."
  if [ "$USE_LEARNED" != 0 ]; then
    echo "- The learned policy (the models trained in $TRAIN_S s, $TRAIN_VERSIONS versions): **$(verdict "$(runs "dry run, learned policy" 4)" "$TARGET_BATCH_S")**;"
    echo "  each learned doctor costs one Thompson sampling (the posterior probability of each channel × slot being the best, on a 256-point grid) (docs/nba.md, \"The learned policy\")."
  fi
  echo "- The dry run's counts: $COUNTS."
  echo
  echo "## One doctor: GET /api/v1/hcps/{id}/recommendations?explain=true, 20,000 doctors at random"
  echo
  echo "| load | connections | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | p99 ≤ $TARGET_P99_MS ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' -v t="$TARGET_P99_MS" '$1 == "recs" { printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.1f | %d | %s |\n",
    $2, $3, $4, $5, $6, $7, $8, $9, ($6 <= t ? "met" : "**not met**") }' "$RESULTS"
  echo
  echo "- Asked without as_of (for now, as the doctor's page asks); $SERVED of 200 doctors drawn got at least one item,"
  echo "  the others only blocked candidates (consent, owner, …); wrk runs on the same 2 CPUs."
  if [ -s "$DIR/server-hist.txt" ]; then
    read -r within25 within5 nreq <"$DIR/server-hist.txt"
    echo "- In the server (its /metrics histogram over the rules' $nreq requests, warm-ups included): $within25 % within 2.5 ms,"
    echo "  $within5 % within 5 ms."
  fi
  [ "$FAILED" = 0 ] || printf '\n**FAILED**: see the messages above.\n'
} | tee "$OUT/nba-$STAMP.md"
exit "$FAILED"

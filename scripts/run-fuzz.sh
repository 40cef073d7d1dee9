#!/usr/bin/env bash
# Runs libFuzzer harnesses built by `make fuzz`, one after the other (the
# machine has two cores, and others may be using them), each for SECONDS on
# a fresh copy of its seed corpus (tests/fuzz/corpus/NAME), with the
# dictionary tests/fuzz/NAME.dict when there is one. A harness that crashes,
# breaks an invariant, leaks, times out or runs out of memory fails the run;
# its reproducer is kept in build/fuzz/crashes/ (replay it with
# `build/fuzz/NAME build/fuzz/crashes/FILE`). Logs: build/fuzz/logs/NAME.log.
#
# usage: scripts/run-fuzz.sh SECONDS NAME...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
	echo "usage: scripts/run-fuzz.sh SECONDS NAME..." >&2
	exit 2
fi
seconds=$1
shift

crashes=build/fuzz/crashes
logs=build/fuzz/logs
mkdir -p "$crashes" "$logs"

failed=()
passed=()
for name in "$@"; do
	bin=build/fuzz/$name
	seeds=tests/fuzz/corpus/$name
	work=build/fuzz/corpus/$name
	log=$logs/$name.log
	if [ ! -x "$bin" ]; then
		echo "run-fuzz: $bin is missing (make fuzz builds it)" >&2
		failed+=("$name")
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work"
	if [ -d "$seeds" ]; then
		cp -R "$seeds"/. "$work"/
	fi
	args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=4096
	      -print_final_stats=1 -artifact_prefix="$crashes/$name-")
	if [ -f "tests/fuzz/$name.dict" ]; then
		args+=(-dict="tests/fuzz/$name.dict")
	fi
	echo "== $name: ${seconds}s, $(find "$work" -type f | wc -l) seeds"
	before=$(find "$crashes" -name "$name-*" -type f | wc -l)
	"$bin" "${args[@]}" "$work" >"$log" 2>&1
	rc=$?
	after=$(find "$crashes" -name "$name-*" -type f | wc -l)
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		echo "   FAILED (exit $rc); the end of $log:"
		# The report: the sanitizer's or the invariant's message and its stack.
		grep -n -m1 -E 'ERROR: |invariant broken|runtime error|deadly signal|timeout|out-of-memory' "$log" |
			sed 's/^/   first sign, line /'
		tail -n 40 "$log" | sed 's/^/   | /'
		find "$crashes" -name "$name-*" -type f -newer "$bin" | sed 's/^/   reproducer: /'
		failed+=("$name")
	else
		passed+=("$name")
	fi
done

echo
echo "fuzz summary (${seconds}s each): passed: ${passed[*]-none}; failed: ${failed[*]-none}"
[ ${#failed[@]} -eq 0 ]

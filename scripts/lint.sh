#!/usr/bin/env bash
# The static checks behind `make lint`: the banned-call script, cppcheck and
# clang-tidy (checks and severities in .clang-tidy). Every step runs even when
# an earlier one fails, so one run shows everything; the summary at the end
# says which failed, and the exit status is non-zero if any did.
#
# `make lint` installs the tools (scripts/setup.sh lint) and generates
# build/gen/schema.c first; run alone, this script expects both.
#
# usage: scripts/lint.sh            LINT_JOBS (default 2) sets clang-tidy's parallelism
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

jobs=${LINT_JOBS:-2}
out=build/lint
rm -rf "$out"
mkdir -p "$out/tidy"

failed=()
passed=()

step() {
	local name=$1
	shift
	echo "== $name"
	if "$@"; then
		passed+=("$name")
	else
		failed+=("$name")
	fi
}

run_banned() {
	scripts/banned-calls.sh src tests/unit
}

run_cppcheck() {
	# --quiet prints findings only; the build's own flags, not every #ifdef variant.
	# autoVariables in writer.c: mr_writer_submit queues a stack job and waits, under
	# the mutex, until the writer thread has dequeued it and set done, so the address
	# never outlives the call (a false positive that cannot be fixed from here).
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr -I src --std=c11 -D_GNU_SOURCE --suppress=missingIncludeSystem \
		--suppress=autoVariables:src/store/writer.c \
		'-Djson_array_foreach(a,i,v)=for (i = 0; (v = json_array_get(a, i)); i++)' \
		'-Djson_object_foreach(o,k,v)=for (k = 0; (v = 0);)' \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
		src 2>&1 | tee "$out/cppcheck.log"
	return "${PIPESTATUS[0]}"
}

run_clang_tidy() {
	local tidy flags files rc
	tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || {
		echo "clang-tidy is not installed (scripts/setup.sh lint installs it)"
		return 1
	}
	flags="-std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen $(pkg-config --cflags libmicrohttpd jansson libsodium sqlite3 libpq)"
	files=(src/*/*.c src/*/*/*.c src/main.c)
	# One log per file so parallel runs do not interleave; printed in order after.
	# shellcheck disable=SC2016 # the inner script expands its own variables
	printf '%s\0' "${files[@]}" |
		TIDY="$tidy" FLAGS="$flags" OUT="$out/tidy" xargs -0 -P "$jobs" -n 1 sh -c '
			log="$OUT/$(echo "$1" | tr / _).log"
			# shellcheck disable=SC2086
			"$TIDY" --quiet "$1" -- $FLAGS >"$log" 2>&1 || echo "$1" >>"$OUT/failed"
		' sh
	rc=0
	for f in "${files[@]}"; do
		local log
		log="$out/tidy/$(echo "$f" | tr / _).log"
		# Drop clang-tidy's "N warnings generated" chatter; keep the findings.
		grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^[0-9]+ warnings? treated as errors?$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' \
			"$log" >>"$out/clang-tidy.log" || true
	done
	if [ -s "$out/clang-tidy.log" ]; then
		cat "$out/clang-tidy.log"
	fi
	if [ -s "$out/tidy/failed" ]; then
		echo "clang-tidy failed on: $(sort "$out/tidy/failed" | tr '\n' ' ')"
		rc=1
	fi
	# A header's finding shows once per file that includes it: list each once.
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out/clang-tidy.log" |
		sort -t: -k1,1 -k2,2n -k3,3n | uniq >"$out/clang-tidy-findings.txt" || true
	echo "clang-tidy: $(wc -l <"$out/clang-tidy-findings.txt") distinct finding(s) in ${#files[@]} files"
	return "$rc"
}

step banned-calls run_banned
step cppcheck run_cppcheck
step clang-tidy run_clang_tidy

echo
echo "lint summary: passed: ${passed[*]-none}; failed: ${failed[*]-none}"
echo "(logs in $out/)"
[ ${#failed[@]} -eq 0 ]

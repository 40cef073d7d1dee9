#!/usr/bin/env bash
# Runs the test suites; `make test` runs them all.
#   unit        cmocka unit tests (SQLite, and PostgreSQL through a private server)
#   unit-asan   the same under AddressSanitizer + UBSan
#   api         node:test API tests against a real `medreach serve`, on SQLite then PostgreSQL
#   browser     Playwright in Debian's chromium
#   all         every one of them, in that order
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
what=${1:-all}
pgdir=""
failed=()

start_pg() {
  [ -n "$pgdir" ] && return 0
  pgdir=$(mktemp -d /tmp/medreach-pg.XXXXXX)
  MEDREACH_TEST_PG_URL=$(scripts/pg-private.sh start "$pgdir") || { echo "cannot start PostgreSQL" >&2; exit 1; }
  export MEDREACH_TEST_PG_URL
}
stop_pg() { [ -n "$pgdir" ] && scripts/pg-private.sh stop "$pgdir"; pgdir=""; }
trap stop_pg EXIT

run_unit() { # dir label
  local dir=$1 label=$2 t
  echo "== $label"
  for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    if timeout 300 "$t"; then :; else failed+=("$label $(basename "$t")"); fi
  done
}

case "$what" in
  unit|unit-asan|api|all) start_pg ;;
esac
if [ "$what" = unit ] || [ "$what" = all ]; then
  run_unit build/tests "unit"
fi
if [ "$what" = unit-asan ] || [ "$what" = all ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_unit build/tests-asan "unit (ASan+UBSan)"
fi
if [ "$what" = api ] || [ "$what" = all ]; then
  for backend in sqlite pg; do
    echo "== api ($backend)"
    MEDREACH_TEST_BACKEND=$backend node --test --test-concurrency=2 tests/api/ || failed+=("api $backend")
  done
fi
if [ "$what" = browser ] || [ "$what" = all ]; then
  echo "== browser"
  node --test --test-concurrency=1 tests/browser/ || failed+=("browser")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "tests passed ($what)"

#!/usr/bin/env bash
# Installs what a step of the build needs and is missing, on Debian: packages
# through apt-get (only the missing ones, so a warm machine does nothing), and
# the pinned npm packages of package-lock.json when node_modules is stale.
#
# usage: scripts/setup.sh build|test|bench|lint|fuzz|run ...
set -euo pipefail

build_pkgs=(gcc make pkg-config libmicrohttpd-dev libsqlite3-dev libpq-dev
            libjansson-dev libsodium-dev libicu-dev libxlsxwriter-dev
            libssl-dev libexpat1-dev zlib1g-dev libyajl-dev libroaring-dev)
node_pkgs=(nodejs npm)
test_pkgs=(libcmocka-dev postgresql sqlite3 chromium libclang-rt-14-dev procps)
bench_pkgs=(wrk nginx-light postgresql procps)
lint_pkgs=(clang-tidy cppcheck)
fuzz_pkgs=(clang libclang-rt-14-dev)

want=()
npm_needed=0
for step in "$@"; do
  case "$step" in
    build) want+=("${build_pkgs[@]}") ;;
    run)   want+=("${build_pkgs[@]}"); npm_needed=1 ;;
    test)  want+=("${build_pkgs[@]}" "${test_pkgs[@]}"); npm_needed=1 ;;
    bench) want+=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
    lint)  want+=("${build_pkgs[@]}" "${lint_pkgs[@]}") ;;
    fuzz)  want+=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    *) echo "setup.sh: unknown step '$step'" >&2; exit 2 ;;
  esac
done
if [ "$npm_needed" = 1 ] && ! command -v npm >/dev/null 2>&1; then
  want+=("${node_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    case " ${missing[*]-} " in *" $p "*) ;; *) missing+=("$p") ;; esac
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/medreach-apt.log 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/medreach-apt.log 2>&1 ||
      { cat /tmp/medreach-apt.log >&2; exit 1; }
  fi
fi

if [ "$npm_needed" = 1 ]; then
  top=$(cd "$(dirname "$0")/.." && pwd)
  stamp="$top/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$top/package-lock.json" -nt "$stamp" ]; then
    echo "setup: npm ci"
    (cd "$top" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

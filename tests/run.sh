#!/usr/bin/env bash
# Build vmpack and run every test: the release build (gcc) runs the whole
# suite; an ASan+UBSan build (clang) runs the format and CLI tests and the
# fuzz targets for a bounded time. Prints one totals line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh

jobs=$(nproc)
total_pass=0
total_fail=0

run_ctest() { # build-dir label-regex
  local dir=$1 labels=$2 log
  log=$(mktemp)
  set +e
  (cd "$dir" && ctest --output-on-failure -j"$jobs" ${labels:+-L "$labels"} -LE bench) 2>&1 | tee "$log"
  set -e
  local line n f
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "tests/run.sh: $dir: ctest printed no totals" >&2
    total_fail=$((total_fail + 1))
  else
    n=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    f=$(sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/' <<<"$line")
    total_pass=$((total_pass + n - f))
    total_fail=$((total_fail + f))
  fi
  rm -f "$log"
}

echo "== release build (gcc) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
run_ctest build ""

echo "== sanitizer build (clang, ASan + UBSan, libFuzzer) =="
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVMP_SANITIZE=ON -DVMP_FUZZ=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest build-asan 'format|tools|fuzz'

echo "tests: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

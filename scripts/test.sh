#!/usr/bin/env bash
# Every test Sluice has, as `make test` runs it: the format check; the unit and integration tests
# in a release build; the same tests under AddressSanitizer + UndefinedBehaviorSanitizer; and each
# fuzz target for FUZZ_SECONDS (default 60). Prints one summary line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}
log_dir=build/test-logs
mkdir -p "$log_dir"
passed=0
failed=0

step() { printf '\n==> %s\n' "$*"; }

# Runs ctest in a build directory and adds its counts to the totals.
run_ctest() {
  local dir=$1 name=$2 status=0
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600) 2>&1 | tee "$log_dir/$name.log" \
    || status=$?
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_dir/$name.log" | tail -1)
  if [ -z "$line" ]; then
    echo "ctest in $dir printed no summary"
    failed=$((failed + 1))
    return
  fi
  local total bad
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
}

step "format check"
if ! scripts/format-check.sh; then failed=$((failed + 1)); fi

step "release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build/release -j "$jobs"
step "release tests"
run_ctest build/release release

step "ASan + UBSan build"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
ninja -C build/asan -j "$jobs"
step "ASan + UBSan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest build/asan asan

step "fuzzing (${fuzz_seconds}s per target)"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLUICE_FUZZ=ON >/dev/null
ninja -C build/fuzz -j "$jobs" fuzz_targets
for target in build/fuzz/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="build/fuzz/corpus/$name"
  mkdir -p "$corpus"
  if "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 -rss_limit_mb=2048 \
      "$corpus" "fuzz/corpus/${name#fuzz_}" >"$log_dir/$name.log" 2>&1; then
    echo "$name: no finding in ${fuzz_seconds}s ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log_dir/$name.log" | grep -o '[0-9]*$') runs)"
    passed=$((passed + 1))
  else
    echo "$name: FINDING, see $log_dir/$name.log"
    tail -40 "$log_dir/$name.log"
    failed=$((failed + 1))
  fi
done

echo
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

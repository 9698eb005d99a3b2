#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test:
#   1. a Release build (build/) and all its tests;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/) and all its tests;
#   3. a ThreadSanitizer build (build-tsan/) of the tests labelled "concurrency";
#   4. a clang libFuzzer build (build-fuzz/) of every parser, each fuzzed for
#      KESTREL_FUZZ_SECONDS (default 10) seconds.
# Usage: tests/run.sh [--quick]   (--quick: step 1 only)
# Exit status: non-zero when any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --test

jobs=2  # the machine has 2 cores: builds use both
# Tests are independent (own temp dirs, ports and servers) and most of their
# time is spent waiting on timers (health checks, failovers, crawl delays),
# so ctest runs 3 at a time; the TSan stage, CPU-bound, runs 2.
test_jobs=${KESTREL_TEST_JOBS:-3}
export CTEST_OUTPUT_ON_FAILURE=1
run_stage() {  # name, build dir, ctest args, cmake args...
  local name=$1 dir=$2 ctest_args=$3; shift 3
  echo "=== $name: configure and build ($dir) ==="
  local t0=$SECONDS
  mkdir -p "$dir"
  cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; }
  if [ -n "$ctest_args" ]; then
    # Only the selected tests' executables (a test is named after its
    # executable, kestrel_add_test) and what they run: the daemon, the CLI
    # and every plugin. The TSan stage would spend minutes on the rest.
    # shellcheck disable=SC2086
    local tests
    tests=$(ctest --test-dir "$dir" -N $ctest_args | sed -n 's/^ *Test *#[0-9]*: *//p')
    # shellcheck disable=SC2086
    cmake --build "$dir" -j"$jobs" --target kestreld kestrelctl kestrel-plugins $tests
  else
    cmake --build "$dir" -j"$jobs"
  fi
  echo "=== $name: tests (built in $((SECONDS - t0)) s) ==="
  # shellcheck disable=SC2086
  local tj=$test_jobs
  [ "$name" = tsan ] && tj=$jobs
  ctest --test-dir "$dir" -j"$tj" $ctest_args
  echo "=== $name: done in $((SECONDS - t0)) s ==="
}

run_stage release build "" -DCMAKE_BUILD_TYPE=Release
[ "${1:-}" = "--quick" ] && exit 0

# Leaks fail the tests; no library needs a suppression (glib/libvips did until
# image headers were read by libpng, libjpeg, giflib and libwebp).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_stage "asan+ubsan" build-asan "" -DCMAKE_BUILD_TYPE=Debug -DKESTREL_SANITIZE=ON

unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
export TSAN_OPTIONS="halt_on_error=1"
run_stage tsan build-tsan "-L concurrency" -DCMAKE_BUILD_TYPE=Debug -DKESTREL_TSAN=ON

# libFuzzer (clang): every parser for a bounded time, seeded from the fixtures.
unset TSAN_OPTIONS
echo "=== fuzz: configure and build (build-fuzz) ==="
t0=$SECONDS
mkdir -p build-fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DKESTREL_FUZZ=ON -DKESTREL_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-fuzz/configure.log 2>&1 || { cat build-fuzz/configure.log; exit 1; }
cmake --build build-fuzz -j"$jobs" --target kestrel-fuzz
bash tests/fuzz/run.sh build-fuzz "${KESTREL_FUZZ_SECONDS:-10}"
echo "=== fuzz: done in $((SECONDS - t0)) s ==="

#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test:
#   1. a Release build (build/) and all its tests;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/) and all its tests;
#   3. a ThreadSanitizer build (build-tsan/) of the tests labelled "concurrency";
#   4. a clang libFuzzer build (build-fuzz/) of every parser, each fuzzed for
#      KESTREL_FUZZ_SECONDS (default 10) seconds.
# A stage's tests run while the next stage builds: the tests mostly wait on
# timers (health checks, failovers, crawl delays), the builds use the CPU,
# so the two overlap (builds at a lower priority, so tests keep their pace).
# Each stage's test output is printed whole when it ends.
# Usage: tests/run.sh [--quick]   (--quick: step 1 only)
# Exit status: non-zero when any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --test

jobs=2  # the machine has 2 cores: builds use both
# Tests are independent (own temp dirs, ports and servers) and wait more than
# they compute, so ctest runs 3 at a time; the TSan stage, CPU-bound, runs 2.
test_jobs=${KESTREL_TEST_JOBS:-3}
export CTEST_OUTPUT_ON_FAILURE=1
T0=$SECONDS

build_stage() {  # name, build dir, ctest args, cmake args...
  local name=$1 dir=$2 ctest_args=$3; shift 3
  echo "=== $name: configure and build ($dir) at $((SECONDS - T0)) s ==="
  local t0=$SECONDS
  mkdir -p "$dir"
  cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; }
  if [ -n "$ctest_args" ]; then
    # Only the selected tests' executables (a test is named after its
    # executable, kestrel_add_test) and what they run: the daemon, the CLI
    # and every plugin. The TSan stage would spend minutes on the rest.
    local tests
    # shellcheck disable=SC2086
    tests=$(ctest --test-dir "$dir" -N $ctest_args | sed -n 's/^ *Test *#[0-9]*: *//p')
    # shellcheck disable=SC2086
    nice -n 5 cmake --build "$dir" -j"$jobs" --target kestreld kestrelctl kestrel-plugins $tests
  else
    nice -n 5 cmake --build "$dir" -j"$jobs"
  fi
  echo "=== $name: built in $((SECONDS - t0)) s ==="
}

test_stage() {  # name, build dir, ctest jobs, ctest args
  local name=$1 dir=$2 tj=$3 ctest_args=$4 t0=$SECONDS
  # shellcheck disable=SC2086
  ctest --test-dir "$dir" -j"$tj" $ctest_args && echo "=== $name: tests passed in $((SECONDS - t0)) s ===" ||
    { echo "=== $name: tests FAILED (after $((SECONDS - t0)) s) ==="; return 1; }
}

# A stage's tests in the background, their output in $dir/tests.log.
pending_name="" pending_dir="" pending_pid=""
start_tests() {  # name, build dir, ctest jobs, ctest args (sanitizer options from the caller's environment)
  pending_name=$1 pending_dir=$2
  echo "=== $1: tests started at $((SECONDS - T0)) s ==="
  test_stage "$@" >"$2/tests.log" 2>&1 &
  pending_pid=$!
}
finish_tests() {  # waits for the pending stage's tests; prints their output
  [ -n "$pending_pid" ] || return 0
  local rc=0
  wait "$pending_pid" || rc=$?
  cat "$pending_dir/tests.log"
  pending_pid=""
  [ "$rc" = 0 ] || { echo "=== $pending_name: failed ==="; exit "$rc"; }
}
trap '[ -z "$pending_pid" ] || kill "$pending_pid" 2>/dev/null || true' EXIT

build_stage release build "" -DCMAKE_BUILD_TYPE=Release
if [ "${1:-}" = "--quick" ]; then
  test_stage release build "$test_jobs" ""
  exit 0
fi
start_tests release build "$test_jobs" ""

# Leaks fail the tests; no library needs a suppression (glib/libvips did until
# image headers were read by libpng, libjpeg, giflib and libwebp).
asan_env=(ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
          UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
build_stage "asan+ubsan" build-asan "" -DCMAKE_BUILD_TYPE=Debug -DKESTREL_SANITIZE=ON
finish_tests
export "${asan_env[@]}"
start_tests "asan+ubsan" build-asan "$test_jobs" ""
unset ASAN_OPTIONS UBSAN_OPTIONS

build_stage tsan build-tsan "-L concurrency" -DCMAKE_BUILD_TYPE=Debug -DKESTREL_TSAN=ON
finish_tests
TSAN_OPTIONS="halt_on_error=1" test_stage tsan build-tsan "$jobs" "-L concurrency"

# libFuzzer (clang): every parser for a bounded time, seeded from the fixtures.
echo "=== fuzz: configure and build (build-fuzz) at $((SECONDS - T0)) s ==="
t0=$SECONDS
mkdir -p build-fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DKESTREL_FUZZ=ON -DKESTREL_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-fuzz/configure.log 2>&1 || { cat build-fuzz/configure.log; exit 1; }
cmake --build build-fuzz -j"$jobs" --target kestrel-fuzz
bash tests/fuzz/run.sh build-fuzz "${KESTREL_FUZZ_SECONDS:-10}"
echo "=== fuzz: done in $((SECONDS - t0)) s; all stages in $((SECONDS - T0)) s ==="

#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every unit
# and integration test through ctest:
#   1. normal build, Kafka ${KAFKA_VERSION:-4.4.0} (unit + integration, the
#      web page in headless Chromium, the Helm chart, the alert rules, the
#      packaging, and the README's demo command end to end)
#   2. the Kafka integration tests whose outcome can depend on the broker's
#      version again against a 3.9.x broker (label compat)
#   3. the benchmarks once, small size, as a smoke test (they must keep
#      working; figures are only checked for sanity, never timed)
#   4. the libFuzzer targets (clang 19), 15 s each from the committed seeds
#   5. AddressSanitizer + UndefinedBehaviorSanitizer build (unit + integration;
#      the 3-broker coordinator test runs only here, two long logic tests
#      only in step 1: labels asan_only / not_asan in tests/integration)
#   6. ThreadSanitizer build (the concurrency-heavy tests, label tsan)
#   7. a 10-minute soak with group and topic churn (tests/integration/
#      test_soak.py): RSS, descriptors and threads must level off. It runs
#      in the background during steps 4 to 6 (builds, niced), which it
#      barely slows: about 12 % of one core.
# Exits non-zero if any step fails; every step still runs.
set -uo pipefail
cd "$(dirname "$0")/.."

KAFKA_4=${KAFKA_VERSION:-4.4.0}
KAFKA_3=${KAFKA_3_VERSION:-3.9.1}
JOBS=${JOBS:-2}
failed=()

bash scripts/install-deps.sh || exit 1
# Fetch both brokers' jars up front (cached under ~/.cache/klag-exporter).
KAFKA_VERSION=$KAFKA_4 tools/kafka/kafka-local.sh fetch >/dev/null || exit 1
KAFKA_VERSION=$KAFKA_3 tools/kafka/kafka-local.sh fetch >/dev/null || exit 1
# The official OpenTelemetry protobuf definitions, to decode our OTLP output.
scripts/otlp-venv.sh >/dev/null || exit 1
# helm for the chart tests, built once from its Go module.
scripts/helm.sh >/dev/null || exit 1
# playwright-core to drive Debian's Chromium in the web page test.
scripts/browser-env.sh >/dev/null || exit 1

# Every broker the tests start lives under this run's own root, so cleanup
# stops exactly those (a demo broker running beside it is left alone).
export KLAG_IT_ROOT
KLAG_IT_ROOT=$(mktemp -d /tmp/klag-test-run.XXXXXX)
cleanup() {
  tools/kafka/kafka-local.sh stop-all --purge --under "$KLAG_IT_ROOT" >/dev/null 2>&1 || true
  tools/kafka/krb5-local.sh stop-all --under "$KLAG_IT_ROOT" >/dev/null 2>&1 || true
  rm -rf "$KLAG_IT_ROOT"
}
trap cleanup EXIT

step() {
  local name=$1; shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    echo "=== $name: ok ($((SECONDS - start))s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start))s)"
    failed+=("$name")
  fi
}

build() {  # build-dir [cmake args...] [--target targets...]; prints the compiler output only on failure
  local dir=$1; shift
  local configure=() targets=()
  while [ $# -gt 0 ]; do
    if [ "$1" = --target ]; then shift; targets=("$@"); break; fi
    configure+=("$1"); shift
  done
  mkdir -p "$dir"
  if cmake -S . -B "$dir" -G Ninja "${configure[@]}" >"$dir/build.log" 2>&1 &&
     ${NICE_BUILD:-} cmake --build "$dir" -j "$JOBS" ${targets[@]:+--target "${targets[@]}"} >>"$dir/build.log" 2>&1; then
    grep -E "warning:" "$dir/build.log" | sort -u | head -20 || true
  else
    tail -60 "$dir/build.log"
    return 1
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}

step "build (RelWithDebInfo)" build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "tests, Kafka $KAFKA_4" env KAFKA_VERSION="$KAFKA_4" ctest --test-dir build -LE '^asan_only$' --output-on-failure -j "$JOBS"
step "Kafka integration tests, Kafka $KAFKA_3" \
  env KAFKA_VERSION="$KAFKA_3" ctest --test-dir build -L '^compat$' --output-on-failure -j "$JOBS"
step "benchmark smoke (small size)" bash -c \
  'KAFKA_VERSION='"$KAFKA_4"' python3 bench/scale_bench.py --smoke && build/bench/micro/klag-microbench --benchmark_filter=/10/10/20/ --benchmark_min_time=0.01 >/dev/null'
# The soak starts now and is collected after the sanitizer builds.
soak_log="$KLAG_IT_ROOT/soak.log"
(cd tests/integration && exec env KAFKA_VERSION="$KAFKA_4" KLAG_SOAK_SECONDS="${SOAK_SECONDS:-600}" \
   KLAG_EXPORTER="$PWD/../../build/src/app/klag-exporter" KLAG_WORKLOAD="$PWD/../../build/tools/workload/klag-workload" \
   timeout -k 30 1200 python3 -m unittest -v test_soak) >"$soak_log" 2>&1 &
soak_pid=$!
# Builds beside the soak yield the CPU to it (its broker and exporter).
niced() { NICE_BUILD="nice -n 10" "$@"; }
soak_result() {
  local rc=0
  wait "$soak_pid" || rc=$?
  # The sample table and the verdict (the full log only on failure).
  if [ "$rc" -eq 0 ]; then grep -aE '^ +[0-9.]+ +[0-9.]+ |growth|^(OK|FAILED|Ran )' "$soak_log"; else tail -80 "$soak_log"; fi
  return "$rc"
}

step "fuzzing (libFuzzer, ${FUZZ_SECONDS:-15} s per target)" nice -n 10 scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
step "build (ASan+UBSan)" niced build build-asan -DCMAKE_BUILD_TYPE=Debug -DKLAG_SANITIZE=ON
# Only what the tsan-labelled tests run (docs/sanitizers.md).
step "build (TSan)" niced build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLAG_TSAN=ON \
  --target klag-exporter klag-workload unit_kafka unit_collect unit_metrics unit_http unit_otlp unit_ha
step "soak (${SOAK_SECONDS:-600} s, Kafka $KAFKA_4, started before the fuzzing step)" soak_result
step "tests under ASan+UBSan, Kafka $KAFKA_4" \
  env KAFKA_VERSION="$KAFKA_4" ctest --test-dir build-asan -LE '^(demo|not_asan)$' --output-on-failure -j "$JOBS"
step "tests under TSan, Kafka $KAFKA_4" \
  env KAFKA_VERSION="$KAFKA_4" TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan -L '^tsan$' --output-on-failure -j "$JOBS"

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED steps: ${failed[*]}"
  exit 1
fi
echo "all test steps passed"

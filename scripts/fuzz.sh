#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-19 in build-fuzz and
# runs each for a bounded time from the committed seeds. New inputs go to a
# temporary directory, never into the repository; a crash leaves its input in
# build-fuzz/crashes/ and fails the run.
#   scripts/fuzz.sh [seconds-per-target] [target...]
# Longer local runs: scripts/fuzz.sh 3600 fuzz_http_request (see docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_config fuzz_duration fuzz_label_escaping fuzz_http_request fuzz_groups_json)

if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLAG_FUZZ=ON \
    -DKLAG_BUILD_TESTS=OFF >/tmp/klag-fuzz-configure.log 2>&1 || { tail -30 /tmp/klag-fuzz-configure.log; exit 1; }
fi
cmake --build build-fuzz -j "${JOBS:-2}" --target "${TARGETS[@]}" >build-fuzz/build.log 2>&1 || { tail -40 build-fuzz/build.log; exit 1; }

mkdir -p build-fuzz/crashes
failed=()
for t in "${TARGETS[@]}"; do
  seeds=tests/fuzz/corpus/${t#fuzz_}
  work=$(mktemp -d /tmp/klag-fuzz.XXXXXX)
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak.
  if build-fuzz/tests/fuzz/"$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/"$t"- "$work" "$seeds" >build-fuzz/"$t".log 2>&1; then
    echo "fuzz: $t ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' build-fuzz/"$t".log | grep -o '[0-9]*$') runs in ${SECONDS_PER_TARGET}s)"
  else
    echo "fuzz: $t FAILED; input in build-fuzz/crashes/, log build-fuzz/$t.log"
    tail -30 build-fuzz/"$t".log
    failed+=("$t")
  fi
  rm -rf "$work"
done
[ ${#failed[@]} -eq 0 ]

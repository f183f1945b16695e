#!/usr/bin/env bash
# Installs everything klag-exporter needs to build, test and run its demo, from
# Debian's packages only. Idempotent: packages already present are skipped, and
# apt-get runs only when something is missing.
set -euo pipefail

# Profiles: "all" (default; build, test and demo), "build" (compile only:
# the Dockerfile's builder stage) and "runtime" (what the binary needs to run:
# the Dockerfile's runtime stage; tests/integration/test_packaging.py checks
# it against the binary's shared libraries).
BUILD=(
  # toolchain
  g++ cmake ninja-build pkg-config make
  # libraries
  librdkafka-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libre2-dev nlohmann-json3-dev libcpp-httplib-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  protobuf-compiler libprotobuf-dev libcurl4-openssl-dev libgrpc++-dev protobuf-compiler-grpc
  # the HTTP server's TLS and basic auth (web config file)
  libssl-dev libyaml-cpp-dev libcrypt-dev
)
TEST=(
  # local Kafka harness (broker jars come from Maven Central); the JDK's
  # javac builds the Kafka Streams test app (tools/kafka/streams)
  openjdk-17-jre-headless openjdk-17-jdk-headless maven
  # end-to-end checks: real Prometheus server and promtool
  prometheus curl procps python3 python3-venv python3-yaml iproute2 openssl
  # benchmarks: HTTP load generator for /metrics latency
  wrk
  # Kerberos test: a throwaway MIT KDC (tools/kafka/krb5-local.sh), kinit,
  # and Cyrus SASL's GSSAPI plugin that librdkafka needs for GSSAPI
  krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit
  # fuzzing: clang 19 with libFuzzer (tests/fuzz, scripts/fuzz.sh)
  clang-19 libclang-rt-19-dev
  # the web page test: headless Chromium (driven by playwright-core from npm,
  # with the machine's Node.js)
  chromium
)
RUNTIME=(
  # the exporter's shared libraries (libc6, libstdc++6 and libgcc-s1 are in
  # every Debian image)
  librdkafka1 libtomlplusplus3 libspdlog1.10 libfmt9 libre2-9 zlib1g
  libprotobuf32 libgrpc++1.51 libgrpc29 libabsl20220623 libcurl4
  libssl3 libyaml-cpp0.7 libcrypt1
  # Kerberos (GSSAPI) to brokers: Cyrus SASL's GSSAPI plugin
  libsasl2-modules-gssapi-mit
  # TLS to brokers and receivers; the image's HEALTHCHECK
  ca-certificates curl
)

case "${1:-all}" in
  all) PACKAGES=("${BUILD[@]}" "${TEST[@]}") ;;
  build) PACKAGES=("${BUILD[@]}") ;;
  runtime) PACKAGES=("${RUNTIME[@]}") ;;
  *) echo "usage: $0 [all|build|runtime]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps the prometheus package from pulling in extras.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

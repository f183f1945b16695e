#!/usr/bin/env bash
# The demo: a local single-node Kafka, a workload that makes lag (a steady
# producer, a group that keeps up, one that falls behind, one that stopped
# and then loses data to retention), the exporter on port 8000 with
# config/demo.toml, and Debian's Prometheus on port 9090 scraping it with the
# alert rules of deploy/prometheus/alerts.yml. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${JOBS:-2}" --target klag-exporter klag-workload

state=$(mktemp -d /tmp/klag-demo-broker.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "demo: stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  tools/kafka/kafka-local.sh stop --purge "$state" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: starting a local Kafka ${KAFKA_VERSION:-4.4.0} broker (first run downloads its jars with Maven)"
bootstrap=$(tools/kafka/kafka-local.sh start "$state")
echo "demo: broker at $bootstrap"

build/tools/workload/klag-workload demo --bootstrap "$bootstrap" &
pids+=($!)
KLAG_DEMO_BOOTSTRAP=$bootstrap build/src/app/klag-exporter -c config/demo.toml &
pids+=($!)

# 9090 unless taken (Debian's prometheus package runs its own service there).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
prom_port=${KLAG_DEMO_PROMETHEUS_PORT:-9090}
if ! port_free "$prom_port"; then
  prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
cat >"$state/prometheus.yml" <<YML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $PWD/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: klag-exporter
    static_configs:
      - targets: ["127.0.0.1:8000"]
YML
prometheus --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$state/prometheus.log" 2>&1 &
pids+=($!)

cat <<MSG

  klag-exporter is running:
    metrics  http://localhost:8000/metrics
    status   http://localhost:8000/
    health   http://localhost:8000/health   ready http://localhost:8000/ready
  Prometheus with the alert rules: http://localhost:$prom_port/alerts
  Lag grows for group demo-slow (falls behind) and demo-stopped (no consumer).
  Within about two minutes retention deletes records demo-stopped never read:
  KafkaConsumerDataLoss fires (and KafkaConsumerNotConsuming after ~6 min).
  Try: curl -s localhost:8000/metrics | grep 'kafka_consumergroup_group_sum_lag'
  After 30 s: curl -s localhost:8000/metrics | grep 'kafka_consumergroup_group_status.* 1$'
  Press Ctrl-C to stop everything.

MSG
# Runs until Ctrl-C; if a part dies first, say which and why.
if wait -n "${pids[@]}"; then status=0; else status=$?; fi
echo "demo: a process exited (status $status); Prometheus log tail:"
tail -5 "$state/prometheus.log" 2>/dev/null || true
exit "$status"

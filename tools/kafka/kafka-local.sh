#!/usr/bin/env bash
# Local single-node Apache Kafka (combined KRaft broker+controller) for tests,
# the demo and benchmarks. Jars come from Maven Central through pom.xml next
# to this script: no Docker, no tarball. See README.md.
#
#   kafka-local.sh fetch                      prints the libs dir
#   kafka-local.sh start [--prop K=V]... <state-dir>   prints HOST:PORT once ready
#   kafka-local.sh start-cluster [--nodes N] [--prop K=V]... <dir>
#                                             N combined nodes (default 3) in
#                                             <dir>/node1..N, replication factor
#                                             min(N,3); prints HOST:PORT,...
#                                             once all N are ready. Each node
#                                             dir takes stop/restart/status.
#   kafka-local.sh stop-cluster [--purge] <dir>   stops every node at once
#   kafka-local.sh restart <state-dir>        same ports and data; prints HOST:PORT
#   kafka-local.sh stop [--purge] <state-dir>      --purge also deletes the state dir
#   kafka-local.sh stop-all [--purge] [--under DIR] every registered broker (below DIR)
#   kafka-local.sh status <state-dir>         prints HOST:PORT, or exits 1 if not running
#   kafka-local.sh tool <main-class> [args...]
#   kafka-local.sh cgc <bootstrap> [kafka-consumer-groups args...]
#   kafka-local.sh acls <bootstrap> [kafka-acls args...]
#   kafka-local.sh streams-app BOOTSTRAP APP_ID IN OUT PROTOCOL GATE STATE_DIR
#                                             runs the Kafka Streams test app
#                                             (streams/KlagStreamsApp.java)
#
# Environment: KAFKA_VERSION (default 4.4.0), KLAG_CACHE_DIR (default
# ~/.cache/klag-exporter), KLAG_KAFKA_READY_TIMEOUT (s, default 90),
# KLAG_KAFKA_JAVA_OPTS, KLAG_TOOL_JAVA_OPTS, KLAG_KAFKA_CDS=0.
# Only results go to stdout; progress and errors go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_DIR="${KLAG_CACHE_DIR:-$HOME/.cache/klag-exporter}"
REGISTRY_DIR="$CACHE_DIR/running"
READY_TIMEOUT_S="${KLAG_KAFKA_READY_TIMEOUT:-90}"
STOP_TIMEOUT_S=20
START_ATTEMPTS=3

# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/fetch.sh
source "$HERE/lib/fetch.sh"
# shellcheck source=lib/jvm.sh
source "$HERE/lib/jvm.sh"
# shellcheck source=lib/registry.sh
source "$HERE/lib/registry.sh"
# shellcheck source=lib/broker.sh
source "$HERE/lib/broker.sh"
# shellcheck source=lib/tools.sh
source "$HERE/lib/tools.sh"
# shellcheck source=lib/streams.sh
source "$HERE/lib/streams.sh"
# shellcheck source=lib/cli.sh
source "$HERE/lib/cli.sh"

cmd_fetch() {
  ensure_libs "$KAFKA_VERSION"
  ensure_streams_app "$KAFKA_VERSION" >/dev/null
  libs_dir "$KAFKA_VERSION"
  echo
}

cmd_streams_app() {
  [[ $# -eq 7 ]] || usage
  local libs classes
  classes="$(ensure_streams_app "$KAFKA_VERSION")"
  libs="$(streams_libs_dir "$KAFKA_VERSION")"
  exec java "${TOOL_JAVA_OPTS[@]}" "${JVM_COMMON_OPTS[@]}" "${QUIET_SLF4J[@]}" -cp "$classes:$libs/*" \
    KlagStreamsApp "$@"
}

# Parses leading --prop K=V options into the array PROPS; sets SHIFTED to
# the number of arguments consumed.
parse_props() {
  PROPS=()
  SHIFTED=0
  while [[ $# -ge 2 && "$1" == --prop ]]; do
    [[ "$2" == *=* ]] || die "--prop wants KEY=VALUE, got '$2'"
    PROPS+=("$2")
    shift 2
    SHIFTED=$((SHIFTED + 2))
  done
}

cmd_start() {
  parse_props "$@"
  shift "$SHIFTED"
  [[ $# -eq 1 ]] || die "usage: start [--prop K=V]... <state-dir>"
  local sd libs attempt rc t0
  mkdir -p "$1"
  sd="$(realdir "$1")"
  broker_runs "$sd" && die "a broker already runs in $sd"
  [[ -e "$sd/data" ]] && die "$sd already holds a cluster: use 'restart', or 'stop --purge' first"
  ensure_libs "$KAFKA_VERSION"
  libs="$(libs_dir "$KAFKA_VERSION")"
  echo "$KAFKA_VERSION" >"$sd/version"
  rm -f "$sd/extra.properties"
  if ((${#PROPS[@]})); then printf '%s\n' "${PROPS[@]}" >"$sd/extra.properties"; fi
  : >"$sd/broker.log"
  t0=$SECONDS
  for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
    allocate_ports "$sd"
    write_server_properties "$sd" "$libs"
    log "formatting $sd/data (kafka $KAFKA_VERSION)"
    if ! format_storage "$sd" "$libs"; then
      tail -n 20 "$sd/format.log" >&2
      unregister "$sd"
      die "formatting $sd/data failed (see $sd/format.log)"
    fi
    log "starting broker on $(cat "$sd/bootstrap") (controller port $(kv "$sd/ports" controller))"
    rc=0
    launch_and_wait "$sd" "$libs" || rc=$?
    if ((rc == 0)); then
      log "ready after $((SECONDS - t0)) s"
      cat "$sd/bootstrap"
      return 0
    fi
    # A program outside this harness may have taken a port between our
    # check and the broker's bind: retry with new ports.
    if ((rc == 1 && attempt < START_ATTEMPTS)) && grep -q 'Address already in use' "$sd/broker.log"; then
      log "port collision; retrying with new ports"
      stop_broker "$sd"
      unregister "$sd"
      continue
    fi
    break
  done
  show_log_tail "$sd"
  stop_broker "$sd"
  unregister "$sd"
  if ((rc == 1)); then die "the broker exited during start-up"; fi
  die "the broker was not ready after ${READY_TIMEOUT_S} s"
}

cmd_start_cluster() {
  local nodes=3
  local args=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--nodes wants a positive number"
        nodes="$2"
        shift 2
        ;;
      --prop)
        [[ $# -ge 2 ]] || die "--prop wants KEY=VALUE"
        args+=(--prop "$2")
        shift 2
        ;;
      *) break ;;
    esac
  done
  parse_props "${args[@]}"
  [[ $# -eq 1 ]] || die "usage: start-cluster [--nodes N] [--prop K=V]... <dir>"
  local dir libs i sd voters="" cid bootstraps=() t0 rc
  mkdir -p "$1"
  dir="$(realdir "$1")"
  ensure_libs "$KAFKA_VERSION"
  libs="$(libs_dir "$KAFKA_VERSION")"
  t0=$SECONDS
  for ((i = 1; i <= nodes; i++)); do
    sd="$dir/node$i"
    mkdir -p "$sd"
    broker_runs "$sd" && die "a broker already runs in $sd"
    [[ -e "$sd/data" ]] && die "$sd already holds a cluster: use 'restart', or 'stop-cluster --purge' first"
    echo "$KAFKA_VERSION" >"$sd/version"
    : >"$sd/broker.log"
    rm -f "$sd/extra.properties"
    if ((${#PROPS[@]})); then printf '%s\n' "${PROPS[@]}" >"$sd/extra.properties"; fi
    allocate_ports "$sd"
    voters+="${voters:+,}$i@127.0.0.1:$(kv "$sd/ports" controller)"
    bootstraps+=("$(cat "$sd/bootstrap")")
  done
  cid="$(new_cluster_id)"
  for ((i = 1; i <= nodes; i++)); do
    sd="$dir/node$i"
    printf 'node_id=%s\nnodes=%s\nvoters=%s\ncluster_id=%s\n' "$i" "$nodes" "$voters" "$cid" >"$sd/cluster"
    write_server_properties "$sd" "$libs"
    format_storage "$sd" "$libs" || { tail -n 20 "$sd/format.log" >&2; cmd_stop_cluster --purge "$dir"; die "formatting $sd/data failed"; }
  done
  # A KRaft node is ready only once a quorum of controllers runs: launch
  # every node before waiting for any.
  log "starting $nodes nodes on $(IFS=,; echo "${bootstraps[*]}") (kafka $KAFKA_VERSION)"
  for ((i = 1; i <= nodes; i++)); do launch "$dir/node$i" "$libs"; done
  for ((i = 1; i <= nodes; i++)); do
    rc=0
    wait_ready "$dir/node$i" "$nodes" || rc=$?
    if ((rc != 0)); then
      show_log_tail "$dir/node$i"
      cmd_stop_cluster "$dir"
      die "node $i was not ready (rc $rc)"
    fi
  done
  log "$nodes nodes ready after $((SECONDS - t0)) s"
  (IFS=,; echo "${bootstraps[*]}")
}

# SIGTERM to every node first, then wait for each: a node stopped alone
# after its peers would wait for a quorum that is gone.
cmd_stop_cluster() {
  local purge=() sd pid
  if [[ "${1:-}" == --purge ]]; then
    purge=(--purge)
    shift
  fi
  [[ $# -eq 1 ]] || die "usage: stop-cluster [--purge] <dir>"
  [[ -d "$1" ]] || return 0
  for sd in "$1"/node*; do
    [[ -d "$sd" ]] || continue
    pid="$(broker_pid "$sd")"
    if broker_runs "$sd"; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; fi
    # A stopped (SIGSTOPped) node would never act on SIGTERM.
    if [[ -n "$pid" ]]; then kill -CONT -- "-$pid" 2>/dev/null || true; fi
  done
  for sd in "$1"/node*; do
    [[ -d "$sd" ]] || continue
    cmd_stop "${purge[@]}" "$sd"
  done
  if ((${#purge[@]})); then rm -rf "$1"; fi
}

cmd_restart() {
  [[ $# -eq 1 ]] || die "usage: restart <state-dir>"
  local sd libs rc=0 t0
  [[ -d "$1" ]] || die "no state dir $1"
  sd="$(realdir "$1")"
  [[ -f "$sd/server.properties" && -d "$sd/data" ]] || die "$sd holds no cluster; use 'start'"
  broker_runs "$sd" && die "a broker already runs in $sd"
  # The data was formatted by the version recorded at start, whatever
  # KAFKA_VERSION says now.
  libs="$(libs_dir "$(cat "$sd/version")")"
  ensure_libs "$(cat "$sd/version")"
  t0=$SECONDS
  log "restarting broker on $(cat "$sd/bootstrap") (kafka $(cat "$sd/version"))"
  launch_and_wait "$sd" "$libs" || rc=$?
  if ((rc != 0)); then
    show_log_tail "$sd"
    stop_broker "$sd"
    register "$sd"
    if ((rc == 1)); then die "the broker exited during start-up (are its ports taken?)"; fi
    die "the broker was not ready after ${READY_TIMEOUT_S} s"
  fi
  log "ready after $((SECONDS - t0)) s"
  cat "$sd/bootstrap"
}

cmd_stop() {
  local purge=0 sd
  if [[ "${1:-}" == --purge ]]; then
    purge=1
    shift
  fi
  [[ $# -eq 1 ]] || die "usage: stop [--purge] <state-dir>"
  sd="$1"
  if [[ -d "$sd" ]]; then sd="$(realdir "$sd")"; fi
  stop_broker "$sd"
  if ((purge)); then
    unregister "$sd"
    rm -rf "$sd"
  elif [[ -f "$sd/ports" ]]; then
    register "$sd" # with no pid: keeps the ports reserved for `restart`
  else
    unregister "$sd"
  fi
}

# The registry is shared by everything using this cache dir, including
# other test runs on the machine: --under limits the sweep to state dirs
# below one directory (a test suite's own temporary root).
cmd_stop_all() {
  local entry sd under="" args=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --purge) args=(--purge) ;;
      --under)
        [[ $# -ge 2 ]] || die "usage: stop-all [--purge] [--under DIR]"
        under="$(realdir "$2" 2>/dev/null || echo "$2")"
        shift
        ;;
      *) die "usage: stop-all [--purge] [--under DIR]" ;;
    esac
    shift
  done
  for entry in "$REGISTRY_DIR"/*; do
    [[ -f "$entry" ]] || continue
    sd="$(kv "$entry" state_dir)"
    if [[ -z "$sd" ]]; then
      rm -f "$entry"
    elif [[ -z "$under" || "$sd" == "$under" || "$sd" == "$under"/* ]]; then
      cmd_stop "${args[@]}" "$sd"
      unregister "$sd"
    fi
  done
}

cmd_status() {
  [[ $# -eq 1 ]] || die "usage: status <state-dir>"
  [[ -d "$1" ]] || exit 1
  local sd
  sd="$(realdir "$1")"
  broker_runs "$sd" || exit 1
  cat "$sd/bootstrap"
}

cmd_tool() {
  [[ $# -ge 1 ]] || die "usage: tool <main-class> [args...]"
  run_tool "$@"
}

cmd_cgc() {
  [[ $# -ge 1 ]] || die "usage: cgc <bootstrap> [kafka-consumer-groups args...]"
  local bootstrap="$1"
  shift
  ensure_libs "$KAFKA_VERSION"
  run_tool "$(consumer_group_command_class)" --bootstrap-server "$bootstrap" "$@"
}

cmd_acls() {
  [[ $# -ge 1 ]] || die "usage: acls <bootstrap> [kafka-acls args...]"
  local bootstrap="$1"
  shift
  ensure_libs "$KAFKA_VERSION"
  run_tool "$(acl_command_class)" --bootstrap-server "$bootstrap" "$@"
}

dispatch "$@"

# shellcheck shell=bash
# One combined KRaft broker+controller per state dir: configure, format,
# launch, wait, stop. Sourced.
#
# State dir layout:
#   server.properties  version  ports (broker=, controller=)  bootstrap (HOST:PORT)
#   broker.pid  broker.log  format.log  data/

broker_pid() { if [[ -f "$1/broker.pid" ]]; then cat "$1/broker.pid"; fi; }

# The broker's command line names its server.properties, which identifies it.
broker_runs() { pid_runs "$(broker_pid "$1")" "$1/server.properties"; }

# Secured listeners are added when the state dir holds tls/ca.pem and
# tls/broker.pem (the broker's PKCS#8 key and certificate) before `start`.
secure() { [[ -f "$1/tls/ca.pem" && -f "$1/tls/broker.pem" ]]; }

# A Kerberos (SASL_PLAINTEXT, GSSAPI only) listener is added when the state
# dir holds gssapi/krb5.conf, gssapi/kafka.keytab and gssapi/principal (the
# broker's principal, e.g. kafka/localhost@KLAG.TEST) before `start`. It is
# advertised as localhost: clients derive the service principal from the
# host name they connect to.
gssapi() { [[ -f "$1/gssapi/krb5.conf" && -f "$1/gssapi/kafka.keytab" && -f "$1/gssapi/principal" ]]; }

# The listeners a state dir asks for beyond PLAINTEXT and CONTROLLER, one
# per line, lower case.
extra_listeners() {
  if secure "$1"; then printf '%s\n' sasl_plaintext ssl mtls sasl_ssl; fi
  if gssapi "$1"; then echo gssapi; fi
  return 0
}

# The host a listener is advertised with.
advertised_host() { if [[ "$1" == gssapi ]]; then echo localhost; else echo 127.0.0.1; fi; }

# Users the secured listeners accept (test credentials, never real ones).
# viewer starts with no rights of its own; tests grant it ACLs.
SASL_PLAIN_USERS='user_alice="alice-secret" user_admin="admin-secret" user_viewer="viewer-secret"'
SCRAM_USERS=('SCRAM-SHA-256=[name="scram256",password="scram256-secret"]'
             'SCRAM-SHA-512=[name="scram512",password="scram512-secret"]')

# Listener settings for SASL_PLAINTEXT (PLAIN and SCRAM), SSL, mutual TLS
# (MTLS) and SASL_SSL, and the KRaft ACL authorizer. A resource without ACLs
# stays open to everyone, so only tests that add ACLs see denials. ANONYMOUS
# (the PLAINTEXT and controller listeners: the broker itself, the workload
# tool, Kafka's own tools; also SSL without a client certificate) and admin
# bypass ACLs.
# $2: listeners, $3: advertised listeners.
secure_properties() {
  local sd="$1" l
  printf 'listeners=%s\n' "$2"
  printf 'advertised.listeners=%s\n' "$3"
  printf '%s\n' \
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL" \
    "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" \
    "ssl.keystore.type=PEM" \
    "ssl.keystore.location=$sd/tls/broker.pem" \
    "ssl.truststore.type=PEM" \
    "ssl.truststore.location=$sd/tls/ca.pem" \
    "listener.name.mtls.ssl.client.auth=required" \
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" \
    "allow.everyone.if.no.acl.found=true" \
    "super.users=User:ANONYMOUS;User:admin"
  for l in sasl_plaintext sasl_ssl; do
    printf 'listener.name.%s.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required %s;\n' \
      "$l" "$SASL_PLAIN_USERS"
    printf 'listener.name.%s.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n' "$l"
    printf 'listener.name.%s.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n' "$l"
  done
}

# The Kerberos listener's settings. $2: listeners, $3: advertised listeners.
gssapi_properties() {
  local sd="$1" principal
  principal="$(cat "$sd/gssapi/principal")"
  printf '%s\n' "listeners=$2" "advertised.listeners=$3" \
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,GSSAPI:SASL_PLAINTEXT" \
    "sasl.enabled.mechanisms=GSSAPI" "sasl.kerberos.service.name=${principal%%/*}" \
    "listener.name.gssapi.gssapi.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\"$sd/gssapi/kafka.keytab\" principal=\"$principal\";"
}

# A node of a multi-node cluster (`start-cluster`) has a `cluster` file:
# node_id=, nodes=, voters= (the controller quorum) and cluster_id= (shared
# by all nodes). Without it the state dir is a single node, id 1.
node_id() { local v; v="$(kv "$1/cluster" node_id)"; echo "${v:-1}"; }
node_count() { local v; v="$(kv "$1/cluster" nodes)"; echo "${v:-1}"; }

write_server_properties() {
  local sd="$1" libs="$2" port ctrl listeners advertised name name_port host voters nodes rf min_isr parts
  port="$(kv "$sd/ports" broker)"
  ctrl="$(kv "$sd/ports" controller)"
  voters="$(kv "$sd/cluster" voters)"
  voters="${voters:-1@127.0.0.1:$ctrl}"
  nodes="$(node_count "$sd")"
  # Replicas of internal and new topics: one per node up to three, and
  # writes need two in sync once there are three (as in production).
  rf=$((nodes < 3 ? nodes : 3))
  min_isr=$((rf >= 3 ? 2 : 1))
  # One node: one partition of each internal topic, so the first group or
  # transaction is ready sooner. Several nodes: enough __consumer_offsets
  # partitions that every node coordinates some groups.
  parts=$((nodes > 1 ? 2 * nodes : 1))
  listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl"
  advertised="PLAINTEXT://127.0.0.1:$port"
  rm -f "$sd/listeners"
  if secure "$sd" && gssapi "$sd"; then die "$sd: TLS and Kerberos listeners together are not supported"; fi
  for name in $(extra_listeners "$sd"); do
    name_port="$(kv "$sd/ports" "$name")"
    host="$(advertised_host "$name")"
    listeners+=",${name^^}://127.0.0.1:$name_port"
    advertised+=",${name^^}://$host:$name_port"
    printf '%s=%s:%s\n' "$name" "$host" "$name_port" >>"$sd/listeners"
  done
  {
    printf '%s\n' "# Written by tools/kafka/kafka-local.sh: one combined KRaft node for tests." \
      "process.roles=broker,controller" "node.id=$(node_id "$sd")" "controller.quorum.voters=$voters" \
      "controller.listener.names=CONTROLLER" "inter.broker.listener.name=PLAINTEXT" "log.dirs=$sd/data"
    if secure "$sd"; then
      secure_properties "$sd" "$listeners" "$advertised"
    elif gssapi "$sd"; then
      gssapi_properties "$sd" "$listeners" "$advertised"
    else
      printf '%s\n' "listeners=$listeners" "advertised.listeners=$advertised" \
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    fi
    cat <<EOF
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.num.partitions=$parts
transaction.state.log.num.partitions=$parts
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# Retention and compaction tests must not wait minutes: check every second,
# starting at once rather than after the default 30 s.
log.retention.check.interval.ms=1000
log.cleaner.backoff.ms=1000
log.initial.task.delay.ms=0
EOF
    # Share groups (4.x) have their own internal topic. 3.x has no share
    # coordinator module and would only warn about unknown settings.
    if compgen -G "$libs/kafka-share-coordinator-*.jar" >/dev/null; then
      cat <<EOF
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
share.coordinator.state.topic.num.partitions=$parts
EOF
    fi
    # Extra broker properties given with --prop at start: last, so they win.
    if [[ -f "$sd/extra.properties" ]]; then
      echo "# --prop"
      cat "$sd/extra.properties"
    fi
  } >"$sd/server.properties"
}

# A Kafka cluster id is 16 random bytes in unpadded URL-safe base64; Kafka's
# own generator also avoids a leading '-'. Made here to save a JVM start.
new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    if [[ "$id" != -* ]]; then
      echo "$id"
      return
    fi
  done
}

# kafka.tools.StorageTool is the class in 3.9 and 4.x alike (kafka_2.13 jar).
# Returns non-zero on failure, with the tool's output in format.log.
format_storage() {
  local sd="$1" libs="$2" cds cid
  cds="$(cds_use_opt "$libs")"
  cid="$(kv "$sd/cluster" cluster_id)"
  cid="${cid:-$(new_cluster_id)}"
  rm -rf "$sd/data"
  local scram=() u
  if secure "$sd"; then
    for u in "${SCRAM_USERS[@]}"; do scram+=(--add-scram "$u"); done
  fi
  java "${TOOL_JAVA_OPTS[@]}" ${cds:+"$cds"} "${JVM_COMMON_OPTS[@]}" "${QUIET_SLF4J[@]}" -cp "$libs/*" \
    kafka.tools.StorageTool format -t "$cid" -c "$sd/server.properties" "${scram[@]}" \
    >"$sd/format.log" 2>&1 && return 0
  # A JVM that crashed while mapping the class-data archive: drop the
  # archive (a later broker writes a new one) and format without it.
  [[ -n "$cds" ]] && grep -q 'A fatal error has been detected' "$sd/format.log" || return 1
  log "formatting failed with the class-data archive; dropping the archive and retrying"
  cds_forget "$libs"
  format_storage "$sd" "$libs"
}

# Starts java in a new session, hence its own process group: `stop` signals
# the whole group, and a Ctrl-C in the caller's terminal does not reach it.
# The process writes its own pid: when the caller is a process group leader,
# setsid forks and $! would be the wrong pid.
launch() {
  local sd="$1" libs="$2" cds i
  cds="$(broker_cds_opts "$libs" "$sd")"
  rm -f "$sd/broker.pid"
  echo "--- launch $(date -Is) kafka $(cat "$sd/version") ${cds}" >>"$sd/broker.log"
  # shellcheck disable=SC2016 # expanded by the inner bash
  local krb5=()
  if gssapi "$sd"; then krb5=("-Djava.security.krb5.conf=$sd/gssapi/krb5.conf"); fi
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$sd/broker.pid" \
    java "${BROKER_JAVA_OPTS[@]}" ${cds:+"$cds"} "${JVM_COMMON_OPTS[@]}" "${krb5[@]}" -XX:ErrorFile="$sd/hs_err_pid%p.log" \
    -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
    -cp "$libs/*" kafka.Kafka "$sd/server.properties" >>"$sd/broker.log" 2>&1 </dev/null &
  for ((i = 0; i < 200; i++)); do
    if [[ -s "$sd/broker.pid" ]]; then
      register "$sd"
      return 0
    fi
    sleep 0.05
  done
  die "the broker did not start (no pid file in $sd)"
}

# Waits until the broker answers a Metadata request listing a broker.
# Returns 0 when ready, 1 if the process died, 2 on timeout.
wait_ready() {
  local sd="$1" rc=0
  python3 "$HERE/metadata_probe.py" "$(cat "$sd/bootstrap")" --wait "$READY_TIMEOUT_S" --pid "$(broker_pid "$sd")" \
    --brokers "${2:-1}" || rc=$?
  return "$rc"
}

# Launches and waits. If the JVM crashed while it mapped a CDS archive,
# drops the archive and tries once more without. Returns like wait_ready.
launch_and_wait() {
  local sd="$1" libs="$2" rc=0 log_lines this_run
  touch "$sd/broker.log"
  log_lines="$(wc -l <"$sd/broker.log")"
  launch "$sd" "$libs"
  wait_ready "$sd" || rc=$?
  ((rc == 1)) || return "$rc"
  this_run="$(tail -n "+$((log_lines + 1))" "$sd/broker.log")"
  # The launch line records the CDS option; HotSpot prints the crash banner.
  if [[ "$this_run" == *SharedArchiveFile* && "$this_run" == *"A fatal error has been detected"* ]]; then
    log "the JVM crashed with the class-data archive; dropping the archive and retrying"
    cds_forget "$libs"
    rc=0
    launch "$sd" "$libs"
    wait_ready "$sd" || rc=$?
  fi
  return "$rc"
}

show_log_tail() {
  log "last lines of $1/broker.log:"
  tail -n 40 "$1/broker.log" >&2 || true
}

# SIGTERM the process group (Kafka shuts down cleanly), wait, then SIGKILL.
# A no-op when pid $1 is not the broker configured by $2.
stop_pid() {
  local pid="$1" props="$2" i
  pid_runs "$pid" "$props" || return 0
  log "stopping broker $pid ($(dirname "$props"))"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  # A SIGSTOPped broker (a fault test) acts on SIGTERM only once resumed.
  kill -CONT -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    pid_runs "$pid" "$props" || return 0
    sleep 0.1
  done
  log "broker $pid ignored SIGTERM for ${STOP_TIMEOUT_S} s; killing it"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_runs "$pid" "$props" || return 0
    sleep 0.1
  done
  die "broker $pid survived SIGKILL"
}

# Stops the broker of state dir $1, which may no longer exist (the registry
# still knows the pid). Idempotent. The registry entry is the caller's call.
stop_broker() {
  local sd="$1"
  stop_pid "$(broker_pid "$sd")" "$sd/server.properties"
  stop_pid "$(kv "$(registry_entry "$sd")" pid)" "$sd/server.properties"
  if [[ -f "$sd/version" ]]; then
    cds_collect_dump "$(libs_dir "$(cat "$sd/version")")" "$sd"
  fi
  rm -f "$sd/broker.pid"
}

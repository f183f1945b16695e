# shellcheck shell=bash
# JVM options for the broker and for short-lived tools, including the
# class-data sharing (CDS) archive. Sourced.
#
# Start-up, not peak throughput, dominates a test broker's life: C1-only JIT
# and SerialGC cut its start-up CPU by ~40%, and a CDS archive of the classes
# a broker loads cuts it by ~40% again (numbers in README.md).
# shellcheck disable=SC2034 # these arrays are used by broker.sh and tools.sh
read -r -a BROKER_JAVA_OPTS <<<"${KLAG_KAFKA_JAVA_OPTS--Xms256m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto}"
# Benchmarks running e.g. ProducerPerformance may want KLAG_TOOL_JAVA_OPTS="".
# shellcheck disable=SC2034
read -r -a TOOL_JAVA_OPTS <<<"${KLAG_TOOL_JAVA_OPTS--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto}"
# JVM warnings (e.g. an unusable CDS archive) go to stdout by default, which
# would corrupt a tool's output that tests parse. Crash reports go to /tmp,
# not into the caller's working directory (the broker's go to its state dir).
# shellcheck disable=SC2034
JVM_COMMON_OPTS=(-Xlog:disable -Xlog:all=warning:stderr "-XX:ErrorFile=${TMPDIR:-/tmp}/hs_err_pid%p.log")
# Tools log client internals at INFO through slf4j-simple; warnings suffice.
# shellcheck disable=SC2034
QUIET_SLF4J=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn)

# --- CDS -----------------------------------------------------------------
# The first broker of a version runs with -XX:ArchiveClassesAtExit and dumps
# the archive when it exits after SIGTERM; `stop` then checks the dump and
# moves it into place. Later JVMs on the same classpath map it. A truncated
# archive makes the JVM die with SIGBUS, hence: unique dump names, a strict
# -Xshare:on trial before use, and an atomic rename.
# KLAG_KAFKA_CDS=0 turns all of this off.

# The archive is only valid for the JVM build that wrote it.
cds_archive() {
  local libs="$1" jvm key
  jvm="$(dirname "$(readlink -f "$(command -v java)")")/../lib/server/libjvm.so"
  key="$(stat -Lc '%s-%Y' "$jvm" 2>/dev/null || echo unknown)"
  printf '%s/.cds/jvm-%s.jsa' "$libs" "$key"
}

# Prints the option that uses the archive, if there is one.
cds_use_opt() {
  local archive
  [[ "${KLAG_KAFKA_CDS:-1}" == 0 ]] && return 0
  archive="$(cds_archive "$1")"
  [[ -f "$archive" ]] && printf -- '-XX:SharedArchiveFile=%s\n' "$archive"
  return 0
}

# CDS options for a broker in state dir $2: use the archive, or dump one at
# exit (recorded in $2/cds-dump for `stop`).
broker_cds_opts() {
  local libs="$1" sd="$2" archive dump
  rm -f "$sd/cds-dump"
  [[ "${KLAG_KAFKA_CDS:-1}" == 0 ]] && return 0
  archive="$(cds_archive "$libs")"
  if [[ -f "$archive" ]]; then
    printf -- '-XX:SharedArchiveFile=%s\n' "$archive"
    return 0
  fi
  mkdir -p "$(dirname "$archive")"
  dump="$archive.dump-$$-$RANDOM"
  echo "$dump" >"$sd/cds-dump"
  printf -- '-XX:ArchiveClassesAtExit=%s\n' "$dump"
}

# After the broker of state dir $2 has exited: promote its dump if a JVM can
# really map it, else drop it.
cds_collect_dump() {
  local libs="$1" sd="$2" dump archive
  [[ -f "$sd/cds-dump" ]] || return 0
  dump="$(cat "$sd/cds-dump")"
  rm -f "$sd/cds-dump"
  [[ -s "$dump" ]] || { rm -f "$dump"; return 0; }
  archive="$(cds_archive "$libs")"
  if [[ ! -f "$archive" ]] &&
    java -XX:SharedArchiveFile="$dump" -Xshare:on -XX:ErrorFile=/dev/null "${QUIET_SLF4J[@]}" \
      -cp "$libs/*" kafka.tools.StorageTool random-uuid >/dev/null 2>&1; then
    mv -f "$dump" "$archive"
    log "class-data archive ready: $archive"
  else
    rm -f "$dump"
  fi
}

# Drops the archive; used when a broker that mapped it died at start-up.
cds_forget() { rm -f "$(cds_archive "$1")"; }

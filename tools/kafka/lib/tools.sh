# shellcheck shell=bash
# Running Kafka's own command-line tools on the cached classpath. Sourced.

# Replaces the shell with `java <main-class> [args...]`.
run_tool() {
  local libs cds
  ensure_libs "$KAFKA_VERSION"
  libs="$(libs_dir "$KAFKA_VERSION")"
  cds="$(cds_use_opt "$libs")"
  exec java "${TOOL_JAVA_OPTS[@]}" ${cds:+"$cds"} "${JVM_COMMON_OPTS[@]}" "${QUIET_SLF4J[@]}" -cp "$libs/*" "$@"
}

# kafka-consumer-groups.sh. The class moved from kafka.admin (Scala, up to
# 3.6) to org.apache.kafka.tools.consumer.group (3.7 on, so 3.9 and 4.x).
consumer_group_command_class() {
  local jar
  jar="$(libs_dir "$KAFKA_VERSION")/kafka-tools-$KAFKA_VERSION.jar"
  # unzip exits non-zero when the named entry is absent. (Not `| grep -q`:
  # with pipefail, unzip's SIGPIPE would turn a match into a failure.)
  if unzip -l "$jar" 'org/apache/kafka/tools/consumer/group/ConsumerGroupCommand.class' >/dev/null 2>&1; then
    echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
  else
    echo kafka.admin.ConsumerGroupCommand
  fi
}

# kafka-acls.sh. The class moved from kafka.admin (Scala, up to 3.9) to
# org.apache.kafka.tools (4.0 on).
acl_command_class() {
  local jar
  jar="$(libs_dir "$KAFKA_VERSION")/kafka-tools-$KAFKA_VERSION.jar"
  if unzip -l "$jar" 'org/apache/kafka/tools/AclCommand.class' >/dev/null 2>&1; then
    echo org.apache.kafka.tools.AclCommand
  else
    echo kafka.admin.AclCommand
  fi
}

# shellcheck shell=bash
# The Kafka Streams test application (streams/KlagStreamsApp.java): its
# jars, resolved once per version like the broker's, and its class,
# compiled once per source version with the machine's javac. Sourced.

streams_libs_dir() { printf '%s/kafka-streams-libs-%s' "$CACHE_DIR" "$1"; }

ensure_streams_libs() {
  maven_fetch "Kafka Streams" "$HERE/streams/pom.xml" "$1" "$(streams_libs_dir "$1")" "kafka-streams-$1.jar"
}

# Prints the folder holding KlagStreamsApp.class built from the current
# source against Kafka Streams $1, compiling it first if needed. Called in
# command substitutions, where set -e does not hold: every failure exits.
ensure_streams_app() {
  local version="$1" libs src sum out
  ensure_streams_libs "$version" || exit 1
  libs="$(streams_libs_dir "$version")"
  src="$HERE/streams/KlagStreamsApp.java"
  sum="$(sha256sum "$src" | cut -c1-12)" || exit 1
  out="$libs/classes-$sum"
  if [[ ! -f "$out/KlagStreamsApp.class" ]]; then
    command -v javac >/dev/null || die "javac not found; it is needed to build the Kafka Streams test app"
    # Tests start several apps at once: one compiles, the others wait for
    # it; a finished folder is never replaced (a JVM may be loading it).
    (
      flock 9
      [[ -f "$out/KlagStreamsApp.class" ]] && exit 0
      local tmp="$out.tmp.$$"
      rm -rf "$tmp" "$out"
      mkdir -p "$tmp"
      javac -nowarn -cp "$libs/*" -d "$tmp" "$src" >&2 || { rm -rf "$tmp"; die "javac failed on $src"; }
      mv -T "$tmp" "$out"
    ) 9>"$libs/.compile.lock" || exit 1
  fi
  printf '%s' "$out"
}

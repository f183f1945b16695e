# shellcheck shell=bash
# Resolving Kafka's jars into the cache, once per version. Sourced.

libs_dir() { printf '%s/kafka-libs-%s' "$CACHE_DIR" "$1"; }

# Resolves a pom's dependencies into a cache folder, once: a marker file
# written last means "complete"; a lock per folder lets parallel test runs
# share one download instead of racing on it.
#   maven_fetch WHAT POM VERSION DIR EXPECTED_JAR
maven_fetch() {
  local what="$1" pom="$2" version="$3" dir="$4" jar="$5" marker
  marker="$dir/.complete"
  [[ -f "$marker" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found; it is needed once to fetch $what $version"
  mkdir -p "$CACHE_DIR"
  (
    flock 9
    [[ -f "$marker" ]] && exit 0
    local tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    log "fetching $what $version jars from Maven Central into $dir"
    # Maven prints to stdout, which is reserved for results.
    if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -Dkafka.version="$version" -DoutputDirectory="$tmp" >&2; then
      rm -rf "$tmp"
      die "maven could not resolve $what $version"
    fi
    if [[ ! -f "$tmp/$jar" ]]; then
      rm -rf "$tmp"
      die "$jar missing after the fetch"
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
    touch "$marker"
  ) 9>"$dir.lock"
}

ensure_libs() {
  maven_fetch Kafka "$HERE/pom.xml" "$1" "$(libs_dir "$1")" "kafka_2.13-$1.jar"
}

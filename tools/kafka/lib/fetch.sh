# shellcheck shell=bash
# Resolving Kafka's jars into the cache, once per version. Sourced.

libs_dir() { printf '%s/kafka-libs-%s' "$CACHE_DIR" "$1"; }

# A marker file written last means "complete"; a per-version lock lets
# parallel test runs share one download instead of racing on the folder.
ensure_libs() {
  local version="$1" dir marker
  dir="$(libs_dir "$version")"
  marker="$dir/.complete"
  [[ -f "$marker" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found; it is needed once to fetch Kafka $version"
  mkdir -p "$CACHE_DIR"
  (
    flock 9
    [[ -f "$marker" ]] && exit 0
    local tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    log "fetching Kafka $version jars from Maven Central into $dir"
    # Maven prints to stdout, which is reserved for results.
    if ! mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
      -Dkafka.version="$version" -DoutputDirectory="$tmp" >&2; then
      rm -rf "$tmp"
      die "maven could not resolve Kafka $version"
    fi
    if [[ ! -f "$tmp/kafka_2.13-$version.jar" ]]; then
      rm -rf "$tmp"
      die "kafka_2.13-$version.jar missing after the fetch"
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
    touch "$marker"
  ) 9>"$CACHE_DIR/.fetch-$version.lock"
}

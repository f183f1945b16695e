# shellcheck shell=bash
# The command-line front end of kafka-local.sh and krb5-local.sh. Sourced,
# not run. The script defines log() and one cmd_<name> function per
# subcommand (a dash in the name becomes an underscore: stop-all runs
# cmd_stop_all), then ends with `dispatch "$@"`.

# Prints the running script's header comment (line 2 up to `set -euo`) to
# stderr and exits 2.
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[-1]}" >&2
  exit 2
}

dispatch() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"
  shift
  case "$cmd" in
    -h | --help | help) usage ;;
  esac
  local fn="cmd_${cmd//-/_}"
  if [[ "$cmd" =~ ^[a-z][a-z-]*$ ]] && declare -F "$fn" >/dev/null; then
    "$fn" "$@"
  else
    log "unknown command: $cmd"
    usage
  fi
}

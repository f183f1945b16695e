# shellcheck shell=bash
# Shared helpers for kafka-local.sh. Sourced, not run.

log() { printf 'kafka-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Absolute, symlink-free path of an existing directory.
realdir() { (cd "$1" && pwd -P); }

# Value of key $2 in the key=value file $1; empty if file or key is absent.
kv() { if [[ -f "$1" ]]; then sed -n "/^$2=/{s/^$2=//p;q}" "$1"; fi; }

# True if pid $1 is alive (not a zombie) and its command line contains the
# argument $2. Guards every signal we send against stale pid files and
# reused pids.
pid_runs() {
  local pid="$1" arg="$2" state
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/stat" ]] || return 1
  # Field 3 of /proc/pid/stat, read after the ")" that ends the command name.
  state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  # No pipe into `grep -q`: under pipefail, the writer's SIGPIPE would make
  # a match look like a failure.
  grep -qxF -- "$arg" <<<"$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)"
}

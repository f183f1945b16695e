#!/usr/bin/env bash
# A throwaway MIT Kerberos KDC for tests: its own realm, database, keytabs
# and config files in one state dir, run as an ordinary process on a free
# loopback port. Nothing under /etc is read or written (KRB5_CONFIG and
# KRB5_KDC_PROFILE point into the state dir).
#
#   krb5-local.sh start <state-dir> [principal...]   prints the KDC's HOST:PORT once it answers
#   krb5-local.sh stop [--purge] <state-dir>         --purge also deletes the state dir
#   krb5-local.sh stop-all --under <dir>              every KDC whose state dir is below <dir>
#   krb5-local.sh env <state-dir>                    prints KRB5_CONFIG=... and KRB5CCNAME=...
#
# Each principal gets a random key and a keytab <state-dir>/<name>.keytab,
# where <name> is the principal with '/' turned into '_' (kafka/localhost ->
# kafka_localhost.keytab). Principals without a realm get KLAG_KRB5_REALM.
# Default principals: kafka/localhost and klag.
#
# State dir: krb5.conf (clients, Java included: -Djava.security.krb5.conf),
# kdc.conf, kadm5.acl, db/ (database and stash), kdc.log, kdc.pid, port,
# ccache (the credential cache KRB5CCNAME points to), *.keytab.
#
# Environment: KLAG_KRB5_REALM (default KLAG.TEST). Needs Debian's krb5-kdc
# (krb5kdc, kdb5_util), krb5-admin-server (kadmin.local) and krb5-user
# (kinit, klist) packages. Progress and errors go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REALM="${KLAG_KRB5_REALM:-KLAG.TEST}"
PATH="$PATH:/usr/sbin:/sbin"

log() { printf 'krb5-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=lib/cli.sh
source "$HERE/lib/cli.sh"

need() {
  local tool pkg
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    case "$tool" in
      krb5kdc | kdb5_util) pkg=krb5-kdc ;;
      kadmin.local) pkg=krb5-admin-server ;;
      *) pkg=krb5-user ;;
    esac
    die "$tool not found (Debian package $pkg)"
  done
}

kdc_pid() { if [[ -f "$1/kdc.pid" ]]; then cat "$1/kdc.pid"; fi; }

# True while the pid file names a live krb5kdc reading this state dir's profile.
kdc_runs() {
  local pid
  pid="$(kdc_pid "$1")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/environ" ]] || return 1
  grep -qzxF "KRB5_KDC_PROFILE=$1/kdc.conf" "/proc/$pid/environ" 2>/dev/null
}

write_configs() {
  local sd="$1" port="$2"
  cat >"$sd/krb5.conf" <<EOF
# Written by tools/kafka/krb5-local.sh: a throwaway test realm.
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  ignore_acceptor_hostname = true
  udp_preference_limit = 1
  ticket_lifetime = 1h
  renew_lifetime = 1d
  forwardable = false
  default_ccache_name = FILE:$sd/ccache

[realms]
  $REALM = {
    kdc = 127.0.0.1:$port
  }

[domain_realm]
  localhost = $REALM
  127.0.0.1 = $REALM
EOF
  cat >"$sd/kdc.conf" <<EOF
# Written by tools/kafka/krb5-local.sh.
[kdcdefaults]
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port

[realms]
  $REALM = {
    database_name = $sd/db/principal
    key_stash_file = $sd/db/stash
    acl_file = $sd/kadm5.acl
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port
    max_life = 1h
    max_renewable_life = 1d
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }

[logging]
  kdc = FILE:$sd/kdc.log
  default = FILE:$sd/kdc.log
EOF
  : >"$sd/kadm5.acl"
}

# Keytab file name for a principal: kafka/localhost@R -> kafka_localhost.keytab
keytab_name() { local p="${1%@*}"; printf '%s.keytab' "${p//\//_}"; }

cmd_start() {
  [[ $# -ge 1 ]] || die "usage: start <state-dir> [principal...]"
  need krb5kdc kdb5_util kadmin.local kinit
  local sd port p principals attempt
  mkdir -p "$1"
  sd="$(cd "$1" && pwd -P)"
  shift
  principals=("$@")
  ((${#principals[@]})) || principals=(kafka/localhost klag)
  kdc_runs "$sd" && die "a KDC already runs in $sd"
  export KRB5_CONFIG="$sd/krb5.conf" KRB5_KDC_PROFILE="$sd/kdc.conf"
  rm -rf "$sd/db" "$sd"/*.keytab "$sd/ccache"
  mkdir -p "$sd/db"
  port="$(python3 "$HERE/free_ports.py" 1)"
  echo "$port" >"$sd/port"
  write_configs "$sd" "$port"
  # -W: the weak random source is enough for a throwaway test realm and
  # does not block on a machine short of entropy.
  kdb5_util -r "$REALM" create -s -W -P "klag-test-master-$RANDOM$RANDOM" >"$sd/kdb5_util.log" 2>&1 ||
    { cat "$sd/kdb5_util.log" >&2; die "kdb5_util create failed"; }
  for p in "${principals[@]}"; do
    [[ "$p" == *@* ]] || p="$p@$REALM"
    if ! kadmin.local -r "$REALM" -q "addprinc -randkey $p" >>"$sd/kadmin.log" 2>&1 ||
      ! kadmin.local -r "$REALM" -q "ktadd -k $sd/$(keytab_name "$p") $p" >>"$sd/kadmin.log" 2>&1 ||
      [[ ! -s "$sd/$(keytab_name "$p")" ]]; then
      tail -n 20 "$sd/kadmin.log" >&2
      die "could not create $p"
    fi
    chmod 600 "$sd/$(keytab_name "$p")"
  done
  p="${principals[0]}"
  [[ "$p" == *@* ]] || p="$p@$REALM"
  # Another program may take the port (TCP or UDP) before krb5kdc binds it:
  # then try again with a new one.
  for attempt in 1 2 3; do
    if launch_kdc "$sd" "$p"; then
      log "KDC for $REALM ready on 127.0.0.1:$(cat "$sd/port") ($sd)"
      echo "127.0.0.1:$(cat "$sd/port")"
      return 0
    fi
    cmd_stop "$sd"
    grep -q 'Address already in use' "$sd/kdc.log" || break
    log "port $(cat "$sd/port") taken (attempt $attempt); retrying with a new port"
    port="$(python3 "$HERE/free_ports.py" 1)"
    echo "$port" >"$sd/port"
    write_configs "$sd" "$port"
  done
  tail -n 20 "$sd/kdc.log" >&2 || true
  die "the KDC did not start (see $sd/kdc.log)"
}

# Starts krb5kdc and waits until a keytab login of principal $2 gets a
# ticket (10 s). Returns non-zero if it exited or did not answer.
launch_kdc() {
  local sd="$1" p="$2" i
  rm -f "$sd/kdc.pid"
  # -n: stay in the foreground, in its own session so that a Ctrl-C in the
  # caller's terminal does not reach it; the pid file names it.
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$sd/kdc.pid" \
    krb5kdc -n -r "$REALM" >>"$sd/kdc.log" 2>&1 </dev/null &
  for ((i = 0; i < 100; i++)); do
    if [[ -s "$sd/kdc.pid" ]] && ! kdc_runs "$sd"; then return 1; fi
    if kdc_runs "$sd" && KRB5CCNAME="FILE:$sd/ccache.probe" kinit -k -t "$sd/$(keytab_name "$p")" "$p" 2>/dev/null; then
      rm -f "$sd/ccache.probe"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

cmd_stop() {
  local purge=0 sd pid i
  if [[ "${1:-}" == --purge ]]; then
    purge=1
    shift
  fi
  [[ $# -eq 1 ]] || die "usage: stop [--purge] <state-dir>"
  [[ -d "$1" ]] || return 0
  sd="$(cd "$1" && pwd -P)"
  if kdc_runs "$sd"; then
    pid="$(kdc_pid "$sd")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kdc_runs "$sd" || break
      sleep 0.1
    done
    if kdc_runs "$sd"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$sd/kdc.pid"
  if ((purge)); then rm -rf "$sd"; fi
}

# For a test run's clean-up: KDCs of tests that died before their own.
cmd_stop_all() {
  [[ $# -eq 2 && "$1" == --under ]] || die "usage: stop-all --under <dir>"
  [[ -d "$2" ]] || return 0
  local pidfile
  while IFS= read -r pidfile; do
    cmd_stop "$(dirname "$pidfile")"
  done < <(find "$2" -name kdc.pid -type f 2>/dev/null)
}

cmd_env() {
  [[ $# -eq 1 && -f "$1/krb5.conf" ]] || die "usage: env <state-dir> (after start)"
  local sd
  sd="$(cd "$1" && pwd -P)"
  printf 'KRB5_CONFIG=%s\nKRB5CCNAME=FILE:%s\n' "$sd/krb5.conf" "$sd/ccache"
}

dispatch "$@"

# shellcheck shell=bash
# The registry of brokers: one key=value file per state dir under
# $REGISTRY_DIR, so that `stop-all` finds brokers whose tests forgot them,
# even after their state dir was deleted. A stopped (not purged) broker keeps
# its entry with an empty pid: its ports stay reserved for `restart`, so that
# a parallel start cannot take them during a fault test. Sourced.

registry_entry() { printf '%s/%s' "$REGISTRY_DIR" "$(printf '%s' "$1" | sha1sum | cut -c1-16)"; }

# (Re)writes the entry for state dir $1 from its files.
register() {
  local sd="$1" entry
  mkdir -p "$REGISTRY_DIR"
  entry="$(registry_entry "$sd")"
  printf 'state_dir=%s\npid=%s\nports=%s\n' "$sd" "$(broker_pid "$sd")" \
    "$(sed -n 's/^[a-z_]*=//p' "$sd/ports" 2>/dev/null | paste -sd,)" >"$entry.tmp.$$"
  mv -f "$entry.tmp.$$" "$entry"
}

unregister() { rm -f "$(registry_entry "$1")"; }

# Ports of every registered broker, space-separated; entries whose state
# dir is gone and whose broker is not running reserve nothing.
reserved_ports() {
  local entry sd
  for entry in "$REGISTRY_DIR"/*; do
    [[ -f "$entry" ]] || continue
    sd="$(kv "$entry" state_dir)"
    if [[ -d "$sd" ]] || pid_runs "$(kv "$entry" pid)" "$sd/server.properties"; then
      kv "$entry" ports | tr ',' ' '
    fi
  done
  return 0
}

# Picks a broker and a controller port for state dir $1 and registers them,
# under one lock, so parallel starts of this harness never pick the same
# ports. Other programs may still race us; `start` retries on a bind failure.
allocate_ports() {
  local sd="$1" ports names got i
  mkdir -p "$REGISTRY_DIR"
  {
    flock 9
    # shellcheck disable=SC2207 # one word per listener name
    names=(broker controller $(extra_listeners "$sd"))
    # shellcheck disable=SC2046 # one argument per reserved port
    ports="$(python3 "$HERE/free_ports.py" "${#names[@]}" --exclude $(reserved_ports))" || die "could not find free ports"
    read -r -d '' -a got <<<"$ports" || true
    for i in "${!names[@]}"; do printf '%s=%s\n' "${names[$i]}" "${got[$i]}"; done >"$sd/ports"
    printf '127.0.0.1:%s\n' "${got[0]}" >"$sd/bootstrap"
    register "$sd"
  } 9>"$REGISTRY_DIR/.lock"
}

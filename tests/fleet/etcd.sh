# Shared by the fleet tests (and perf/fleet): an etcd of their own on
# loopback, on free ports, with its data in a temporary directory.
# Source, then:
#   etcd_require             exit 77 (skipped) with a message if etcd is missing
#   etcd_start DIR [FLAGS]   start etcd with its data in DIR/etcd; sets
#                            ETCD_URL and ETCD_PID (FLAGS: TLS, limits...)
#   etcd_stop                kill -9 (a crash), keep the data
#   etcd_restart             start again on the same port and data
#   ctl ARGS...              etcdctl against it
ETCD_PID=""
ETCD_URL=""
ETCD_SCHEME=${ETCD_SCHEME:-http}
ETCDCTL_TLS=()

etcd_require() {
  if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "SKIP: etcd and etcdctl are not installed (Debian: etcd-server," \
         "etcd-client; scripts/bootstrap installs them)"
    exit 77
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

etcd_start() {
  ETCD_DIR=$1
  shift
  ETCD_FLAGS=("$@")
  ETCD_CLIENT_PORT=$(free_port)
  ETCD_PEER_PORT=$(free_port)
  ETCD_URL="$ETCD_SCHEME://127.0.0.1:$ETCD_CLIENT_PORT"
  etcd_restart
}

etcd_restart() {
  local peer="http://127.0.0.1:$ETCD_PEER_PORT"
  etcd --name sgate-test --data-dir "$ETCD_DIR/etcd" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "sgate-test=$peer" "${ETCD_FLAGS[@]}" \
    >>"$ETCD_DIR/etcd.log" 2>&1 &
  ETCD_PID=$!
  for _ in $(seq 100); do
    if ctl endpoint health >/dev/null 2>&1; then return 0; fi
    kill -0 "$ETCD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "etcd did not start:" >&2
  tail -20 "$ETCD_DIR/etcd.log" >&2
  return 1
}

etcd_stop() {
  [[ -n "$ETCD_PID" ]] || return 0
  kill -9 "$ETCD_PID" 2>/dev/null || true
  wait "$ETCD_PID" 2>/dev/null || true
  ETCD_PID=""
}

ctl() {
  ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" "${ETCDCTL_TLS[@]}" \
    --command-timeout 5s "$@"
}

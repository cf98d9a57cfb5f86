#!/usr/bin/env bash
# sgate on shared-memory virtual ports, the single-machine set-up of
# perf/pktgen/README.md: its two ports are net_memif servers, then net_vhost
# back-ends, and two dpdk-testpmd processes sit on the other side of them
# (net_memif clients, then net_virtio_user front-ends):
#
#   testpmd "send" (txonly) ── sgate port 1 (outside) | port 0 (inside) ── testpmd "recv" (rxonly)
#
# The sender sends UDP 203.0.113.7:40000 -> 198.51.100.10:5000 (testpmd
# --tx-ip/--tx-udp) for a few seconds. With a policy that allows udp 5000
# sgate must forward it to the receiver and drop nothing for a rule; with
# one that allows only udp 5001 it must drop every packet as
# no_rule_matched and the receiver must get nothing. Counts come from
# sgatectl stats --json and from testpmd's closing statistics.
# Usage: virtual_ports_test.sh SGATE SGATECTL
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root (DPDK processes)"; exit 77; }
SGATE=$1
SGATECTL=$2
TESTPMD=$(command -v dpdk-testpmd) || {
  echo "dpdk-testpmd not found (Debian: dpdk-dev); cannot drive the virtual ports"
  exit 77
}
SEND_SECONDS=${SEND_SECONDS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/sgate-vports.XXXXXX")
prefix="sgvp$$"   # EAL file prefixes: $prefix-sgate, -send, -recv
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  # EAL's runtime directories (telemetry socket, config) outlive the
  # processes; the memif and vhost sockets live in $work.
  rm -rf "/var/run/dpdk/$prefix-sgate" "/var/run/dpdk/$prefix-send" \
    "/var/run/dpdk/$prefix-recv" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT   # a signal (meson's timeout) still runs cleanup
trap 'exit 143' TERM

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok      $description"
  else
    failed=$((failed + 1)); echo "FAILED  $description"
    return 1
  fi
}

write_policy() {  # write_policy FILE PORT: udp PORT from 203.0.113.0/24
  cat >"$1" <<EOF
version: 1
security_groups:
  sg-srv:
    ingress:
      - {protocol: udp, ports: $2, cidr: 203.0.113.0/24}
interfaces:
  eni-srv: {addresses: [198.51.100.10], security_groups: [sg-srv]}
EOF
}
write_policy "$work/allow.yaml" 5000
write_policy "$work/deny.yaml" 5001

# Cores: sgate's worker gets a core of its own when there are two; both
# testpmd processes share core 0 with the main lcores (which mostly sleep).
worker_core=$(( $(nproc) > 1 ? 1 : 0 ))

# The vdev strings of each kind: sgate's port N, and its peer in testpmd.
sgate_vdev() {  # sgate_vdev KIND N SOCKET
  case $1 in
    memif) echo "net_memif$2,role=server,socket=$3,socket-abstract=no,id=0" ;;
    vhost) echo "net_vhost$2,iface=$3,queues=1" ;;
  esac
}
peer_vdev() {  # peer_vdev KIND SOCKET
  case $1 in
    memif) echo "net_memif0,role=client,socket=$2,socket-abstract=no,id=0" ;;
    vhost) echo "net_virtio_user0,path=$2,queues=1" ;;
  esac
}

wait_for() {  # wait_for PID LOG TEXT: until LOG has TEXT (10 s at most)
  local i
  for i in $(seq 100); do
    grep -q "$3" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  echo "  no '$3' in $2:"; tail -n 15 "$2" | sed 's/^/    /'
  return 1
}

wait_for_sockets() {  # wait_for_sockets PATH...: until each exists (10 s)
  local path i
  for path in "$@"; do
    for i in $(seq 100); do
      [[ -S $path ]] && break
      sleep 0.1
    done
    [[ -S $path ]] || { echo "  no socket $path"; return 1; }
  done
}

stop() {  # stop PID: SIGINT (testpmd and sgate print their totals), wait
  kill -INT "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  local p rest=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || rest+=("$p"); done
  pids=("${rest[@]}")
}

# testpmd_total LOG RX-packets|TX-packets: from the closing "Accumulated
# forward statistics for all ports" block.
testpmd_total() {
  awk -v key="$2:" '/Accumulated forward statistics/ {found = 1}
    found { for (i = 1; i < NF; i++) if ($i == key) { print $(i + 1); exit } }' "$1"
}

testpmd() {  # testpmd NAME VDEV TESTPMD-OPTIONS...: starts it, logs NAME.log
  local name=$1 vdev=$2
  shift 2
  "$TESTPMD" --no-huge -m 256 --no-pci --file-prefix "$prefix-$name" \
    --lcores 0@0,1@0 --log-level 'lib.*:warning' --vdev "$vdev" \
    -- --stats-period 1 --no-mlockall --total-num-mbufs=8192 "$@" \
    </dev/null >"$work/$name.log" 2>&1 &
}

# run_case KIND allow|deny: one sgate, receiver and sender; checks.
run_case() {
  local kind=$1 verdict=$2
  local in_sock="$work/$kind-in.sock" out_sock="$work/$kind-out.sock"
  local control="$work/control.sock" case="$kind/$verdict"
  rm -f "$in_sock" "$out_sock" "$control"

  "$SGATE" --no-huge -m 512 --no-pci --file-prefix "$prefix-sgate" \
    --lcores "0@0,1@$worker_core" --log-level 'lib.*:warning' \
    --vdev "$(sgate_vdev "$kind" 0 "$in_sock")" \
    --vdev "$(sgate_vdev "$kind" 1 "$out_sock")" \
    -- --policy "$work/$verdict.yaml" --pair 0:1 --control "$control" \
    </dev/null >"$work/sgate.log" 2>&1 &
  local sgate=$!
  pids+=("$sgate")
  # The vhost back-end may create its sockets after sgate says it
  # forwards: a front-end started before then fails to connect.
  if ! wait_for "$sgate" "$work/sgate.log" "forwarding with" ||
     ! wait_for_sockets "$in_sock" "$out_sock"; then
    check "$case: sgate starts on $kind ports" false
    stop "$sgate"
    return
  fi
  check "$case: sgate starts on $kind ports" true

  testpmd recv "$(peer_vdev "$kind" "$in_sock")" --forward-mode=rxonly
  local recv=$!
  pids+=("$recv")
  testpmd send "$(peer_vdev "$kind" "$out_sock")" --forward-mode=txonly \
    --tx-ip=203.0.113.7,198.51.100.10 --tx-udp=40000,5000
  local send=$!
  pids+=("$send")
  local up=true
  wait_for "$recv" "$work/recv.log" "packet forwarding - ports=1 " || up=false
  wait_for "$send" "$work/send.log" "packet forwarding - ports=1 " || up=false
  check "$case: testpmd connects to both ports" $up || show_logs "$case"

  sleep "$SEND_SECONDS"
  stop "$send"
  sleep 1  # the receiver drains what sgate still forwards
  local stats
  stats=$("$SGATECTL" --control "$control" stats --json)
  stop "$recv"
  stop "$sgate"
  local sent received
  sent=$(testpmd_total "$work/send.log" TX-packets)
  received=$(testpmd_total "$work/recv.log" RX-packets)
  python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print("  testpmd sent %s, received %s; sgate received %d, forwarded %d, "
      "no_rule_matched %d, tx_full %d" % (sys.argv[2], sys.argv[3], s["received"],
      s["forwarded"], s["drops"]["no_rule_matched"], s["drops"]["tx_full"]))' \
    "$stats" "${sent:-?}" "${received:-?}" || echo "  sgatectl stats: $stats"

  # Ring sizes bound what may still sit between two processes when they
  # stop: net_memif's default ring is 1024 slots, virtio's queue 256.
  check "$case: counts add up" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
verdict, sent, received, slack = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), 2048
ports = {p["port"]: p for p in s["ports"]}
ok = (s["received"] == s["forwarded"] + sum(s["drops"].values())
      and s["received"] >= 1000                       # traffic did flow
      and sent - slack <= ports[1]["rx_packets"] <= sent
      and ports[0]["tx_packets"] == s["forwarded"])
if verdict == "allow":
    ok = ok and (s["forwarded"] >= 1000 and s["drops"]["no_rule_matched"] == 0
                 and s["flows"]["created"] == 1
                 and s["rules_admitted"].get("sg-srv/ingress/0") == 1
                 and s["forwarded"] - slack <= received <= s["forwarded"])
else:
    ok = ok and (s["forwarded"] == 0 and received == 0
                 and s["drops"]["no_rule_matched"] == s["received"]
                 and s["flows"]["created"] == 0)
sys.exit(0 if ok else 1)' "$stats" "$verdict" "${sent:--1}" "${received:--1}" ||
    show_logs "sgatectl stats: $stats"
}

show_logs() {  # show_logs LINE: after a failure, LINE and each log's end
  echo "  $1"
  local log
  for log in sgate send recv; do
    echo "  --- $log.log"
    grep -Ev '[RT]X-|[RT]x-|####|\+\+\+\+|Throughput|statistics|^ *$' \
      "$work/$log.log" | head -n 25 | sed 's/^/    /'
  done
}

for kind in ${KINDS:-memif vhost}; do
  for verdict in allow deny; do
    run_case "$kind" "$verdict"
  done
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

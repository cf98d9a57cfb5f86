# Shared by the integration tests and scripts/demo: two network namespaces
# joined through sgate, which runs on net_af_packet vdevs bound to the
# root-namespace ends of two veth pairs (DESIGN.md §7):
#
#   ns OUT (clients) ── veth ── [sgate port 1 | port 0] ── veth ── ns IN (servers)
#
# Addresses are documentation ranges only. Source with PREFIX set to a short
# unique name (veth names are limited to 15 characters).

: "${PREFIX:?set PREFIX before sourcing netns.sh}"
: "${SGATE:?set SGATE to the sgate binary}"
NS_OUT="${PREFIX}-out"
NS_IN="${PREFIX}-in"
IF_OUT="${PREFIX}o"   # root end towards NS_OUT (sgate's outside port)
IF_IN="${PREFIX}i"    # root end towards NS_IN (sgate's inside port)
SGATE_PID=""
SGATE_LOG="${TMPDIR:-/tmp}/${PREFIX}-sgate.log"

netns_up() {
  netns_down
  ip netns add "$NS_OUT"
  ip netns add "$NS_IN"
  ip link add "$IF_OUT" type veth peer name "${IF_OUT}p"
  ip link add "$IF_IN" type veth peer name "${IF_IN}p"
  ip link set "${IF_OUT}p" netns "$NS_OUT" name eth0
  ip link set "${IF_IN}p" netns "$NS_IN" name eth0
  for ns in "$NS_OUT" "$NS_IN"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    # af_packet hands frames to sgate before the kernel fills in checksums
    # offloaded to the veth: compute them in software instead.
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
  done
  for ifc in "$IF_OUT" "$IF_IN"; do
    ip link set "$ifc" up
    ethtool -K "$ifc" tx off >/dev/null
    # sgate owns these ends: keep the root namespace's IPv6 quiet on them.
    sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
  done
}

# netns_addr NS ADDRESS/LEN...: adds addresses to a namespace's eth0.
netns_addr() {
  local ns=$1
  shift
  for a in "$@"; do
    if [[ $a == *:* ]]; then
      ip -n "$ns" addr add "$a" dev eth0 nodad  # usable at once
    else
      ip -n "$ns" addr add "$a" dev eth0
    fi
  done
}

netns_down() {
  sgate_stop
  ip netns del "$NS_OUT" 2>/dev/null || true
  ip netns del "$NS_IN" 2>/dev/null || true
  ip link del "$IF_OUT" 2>/dev/null || true
  ip link del "$IF_IN" 2>/dev/null || true
}

# sgate_start POLICY [EXTRA SGATE OPTIONS...]: starts sgate in the
# background and waits until it forwards. WORKERS (default 1) workers.
sgate_start() {
  local policy=$1
  shift
  local workers=${WORKERS:-1}
  local lcores="0@0"
  for ((w = 1; w <= workers; w++)); do lcores="$lcores,$w@$((w % $(nproc)))"; done
  # Emptied here, not by the background job's redirection, which may come
  # after the first look below: a previous run's log says "forwarding with".
  : >"$SGATE_LOG"
  "$SGATE" --no-huge -m 512 --no-pci --file-prefix "$PREFIX" \
    --lcores "$lcores" --log-level 'lib.*:warning' \
    --vdev "net_af_packet0,iface=$IF_IN,qpairs=$workers" \
    --vdev "net_af_packet1,iface=$IF_OUT,qpairs=$workers" \
    -- --policy "$policy" --pair 0:1 "$@" </dev/null >"$SGATE_LOG" 2>&1 &
  SGATE_PID=$!
  for _ in $(seq 50); do
    grep -q "forwarding with" "$SGATE_LOG" && return 0
    kill -0 "$SGATE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "sgate did not start:" >&2
  cat "$SGATE_LOG" >&2
  return 1
}

# sgate_stop: SIGTERM, wait; the totals JSON is the last line of the log.
sgate_stop() {
  [[ -n "$SGATE_PID" ]] || return 0
  kill -TERM "$SGATE_PID" 2>/dev/null || true
  wait "$SGATE_PID" 2>/dev/null || true
  SGATE_PID=""
}

source "$(dirname "${BASH_SOURCE[0]}")/../support/check.sh"

# eventually CMD...: 0 as soon as CMD succeeds, retried for up to 3 s.
# For counters the control thread publishes a moment after the worker
# counts (a loaded machine delays both).
eventually() {
  local tries
  for tries in $(seq 30); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# tcp_connects NS SRC DST PORT: 0 if a TCP connection from SRC succeeds.
# The listener runs in the peer namespace for the duration of the check.
tcp_connects() {
  local ns=$1 src=$2 dst=$3 port=$4
  local peer=$NS_IN
  [[ $ns == "$NS_IN" ]] && peer=$NS_OUT
  local family=-4
  [[ $dst == *:* ]] && family=-6
  ip netns exec "$peer" timeout 5 nc $family -l -p "$port" >/dev/null 2>&1 &
  local listener=$!
  # Connect only once the listener is up (a loaded machine can take longer
  # than any fixed pause to start it).
  local tries
  for tries in $(seq 40); do
    ip netns exec "$peer" ss -Hltn "sport = :$port" | grep -q . && break
    sleep 0.05
  done
  local rc=0
  # 2 s: room for one ARP retry (1 s apart) should the first request have
  # reached sgate before its ports were polled.
  ip netns exec "$ns" nc -z -w 2 -s "$src" "$dst" "$port" >/dev/null 2>&1 || rc=1
  kill "$listener" 2>/dev/null
  wait "$listener" 2>/dev/null
  return $rc
}

# udp_delivers NS SRC DST PORT: 0 if a datagram from SRC arrives.
udp_delivers() {
  local ns=$1 src=$2 dst=$3 port=$4
  local peer=$NS_IN
  [[ $ns == "$NS_IN" ]] && peer=$NS_OUT
  local got="${TMPDIR:-/tmp}/${PREFIX}-udp"
  rm -f "$got"
  local family=-4
  [[ $dst == *:* ]] && family=-6
  ip netns exec "$peer" timeout 2 nc $family -u -l -p "$port" >"$got" 2>/dev/null &
  local listener=$!
  sleep 0.2
  echo "sgate-udp-probe" | ip netns exec "$ns" nc -u -w 1 -s "$src" "$dst" "$port" \
    >/dev/null 2>&1
  sleep 0.3
  kill "$listener" 2>/dev/null
  wait "$listener" 2>/dev/null
  grep -q "sgate-udp-probe" "$got"
}

# pings NS SRC DST: 0 if one echo request gets its reply.
pings() {
  local ns=$1 src=$2 dst=$3
  local six=""
  [[ $dst == *:* ]] && six=-6
  ip netns exec "$ns" ping $six -c 1 -W 1 -I "$src" "$dst" >/dev/null 2>&1
}

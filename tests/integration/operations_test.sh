#!/usr/bin/env bash
# Operations (DESIGN.md §8) with real traffic between network namespaces:
#   1. flow logs: TCP, UDP and ICMP accepted, TCP rejected; every record
#      read back by a strict parser of the VPC Flow Logs v2 format, its
#      packets and bytes checked against what the namespaces' kernels say
#      they sent; rotation on SIGUSR1; a refused reload keeps logging;
#   2. /metrics: scraped with curl, checked by promtool, its values equal
#      to `sgatectl stats --json`'s;
#   3. per-interface flow caps: a flood of new flows to one interface,
#      while another keeps connecting; across a reload that renumbers the
#      interfaces, and after the flows expire;
#   4. anti-spoofing: a namespace sending with another interface's address
#      is dropped and counted; IPv6 neighbour discovery still works;
#   5. bad options: a metrics address in use, a flow-log path that cannot
#      be opened.
# Usage: operations_test.sh SGATE SGATECTL
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root (network namespaces)"; exit 77; }
SGATE=$1
SGATECTL=$2
PREFIX=sgo
here=$(cd "$(dirname "$0")" && pwd)
source "$here/netns.sh"
work=$(mktemp -d)
trap 'netns_down; rm -rf "$work"' EXIT
socket=$work/control.sock
ctl() { "$SGATECTL" --control "$socket" "$@"; }


netns_up
# The servers' namespace sends from one MAC, eni-web's.
ip -n "$NS_IN" link set eth0 address 02:00:00:00:00:0a
netns_addr "$NS_OUT" 198.51.100.200/24 198.51.100.201/24 2001:db8::201/64
netns_addr "$NS_IN" 198.51.100.10/24 198.51.100.20/24 198.51.100.30/24 \
  2001:db8::10/64

# What a namespace's kernel counted so far: IPv4 packets and IP bytes
# received ("in"), or sent ("out"). TCP hands the IP layer segments of up
# to 64 KiB that are cut to the MTU on the way out, so what arrived is the
# count to compare with the packets sgate forwarded; what was sent, for the
# packets sgate refused (SYNs, never cut).
ip_count() {  # ip_count NS in|out
  ip netns exec "$1" python3 -c '
import sys
snmp = [l.split() for l in open("/proc/net/snmp") if l.startswith("Ip:")]
ext = [l.split() for l in open("/proc/net/netstat") if l.startswith("IpExt:")]
way = "In" if sys.argv[1] == "in" else "Out"
packets = "InReceives" if way == "In" else "OutRequests"
print(snmp[1][snmp[0].index(packets)], ext[1][ext[0].index(way + "Octets")])' "$2"
}
# Runs a command and prints what arrived in each namespace meanwhile, then
# what the clients' namespace sent:
# "IN_PACKETS IN_BYTES OUT_PACKETS OUT_BYTES CLIENT_SENT_PACKETS BYTES"
# (IN: arrived at the servers, OUT: arrived at the clients).
counted_during() {
  local before after
  before="$(ip_count "$NS_IN" in) $(ip_count "$NS_OUT" in) $(ip_count "$NS_OUT" out)"
  "$@" >/dev/null 2>&1
  sleep 0.3
  after="$(ip_count "$NS_IN" in) $(ip_count "$NS_OUT" in) $(ip_count "$NS_OUT" out)"
  python3 -c 'import sys; a = list(map(int, sys.argv[1:]))
print(*[a[i + 6] - a[i] for i in range(6)])' $before $after
}

# ---------------------------------------------------------------------------
# 1-2. Flow logs and metrics.
logs=$work/logs
mkdir -p "$logs"
policy=$work/policy.yaml
write_logs_policy() {  # write_logs_policy FLOW_LOG_PATH
  cat >"$policy" <<EOF
version: 1
settings:
  flow_logs: {path: $1, interval: 2}
  account_id: "123456789012"
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}
      - {protocol: udp, ports: 5000, cidr: 198.51.100.0/24}
      - {protocol: icmp, icmp_type: 8, cidr: 198.51.100.0/24}
    egress: []
interfaces:
  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web]}
  eni-idle: {addresses: [198.51.100.20], security_groups: [sg-web]}
EOF
}
write_logs_policy "$logs/flows.log"
sgate_start "$policy" --control "$socket" --metrics 127.0.0.1:0 || exit 1
metrics_port=$(sed -n 's/.*metrics on .* (port \([0-9]*\)).*/\1/p' "$SGATE_LOG")

# A TCP transfer: 200 KB from the client, closed.
tcp_transfer() {
  head -c 200000 /dev/urandom >"$work/data"
  ip netns exec "$NS_IN" timeout 10 nc -l -p 80 >/dev/null 2>&1 &
  local listener=$!
  sleep 0.2
  ip netns exec "$NS_OUT" timeout 10 nc -N -p 41000 -s 198.51.100.201 \
    198.51.100.10 80 <"$work/data"
  wait "$listener"
}
udp_datagrams() {  # 5 datagrams of 100 bytes from port 42000
  ip netns exec "$NS_OUT" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.201", 42000))
for _ in range(5): s.sendto(b"x" * 100, ("198.51.100.10", 5000))'
}
echo_requests() { ip netns exec "$NS_OUT" ping -c 3 -i 0.2 -I 198.51.100.200 198.51.100.10; }
rejected_tcp() {  # port 81: no rule; the client retries its SYN
  ip netns exec "$NS_OUT" nc -z -w 2 -p 43000 -s 198.51.100.201 198.51.100.10 81
}
read -r tcp_in_p tcp_in_b tcp_out_p tcp_out_b _ _ < <(counted_during tcp_transfer)
read -r udp_in_p udp_in_b _ _ _ _ < <(counted_during udp_datagrams)
read -r icmp_in_p icmp_in_b icmp_out_p icmp_out_b _ _ < <(counted_during echo_requests)
read -r _ _ _ _ rej_p rej_b < <(counted_during rejected_tcp)

# /metrics while sgate runs: promtool's checks, and the values of
# `sgatectl stats --json` (scraped twice around it, until both agree: flows
# may expire meanwhile).
metrics_match_stats() {
  for _ in 1 2 3 4 5; do
    curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$work/m1" || return 1
    ctl stats --json >"$work/stats.json" || return 1
    curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$work/m2" || return 1
    cmp -s "$work/m1" "$work/m2" && break
  done
  promtool check metrics <"$work/m1" || return 1
  python3 - "$work/m1" "$work/stats.json" <<'EOF'
import json, re, sys
samples = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    samples[name] = float(value)
s = json.load(open(sys.argv[2]))
want = {
    "sgate_policy_generation": s["generation"],
    "sgate_packets_received_total": s["received"],
    "sgate_packets_forwarded_total": s["forwarded"],
    "sgate_flows_active": s["flows"]["active"],
    "sgate_flows_created_total": s["flows"]["created"],
    "sgate_flow_log_records_total": s["flow_logs"]["records"],
    'sgate_reloads_total{result="rejected"}': s["reloads_rejected"],
}
for reason, n in s["drops"].items():
    want[f'sgate_packets_dropped_total{{reason="{reason}"}}'] = n
for p in s["ports"]:
    labels = f'{{port="{p["port"]}",name="{p["name"]}"}}'
    want["sgate_port_rx_packets_total" + labels] = p["rx_packets"]
for i in s["interfaces"]:
    want[f'sgate_interface_flows{{interface="{i["name"]}"}}'] = i["flows"]
for rule, n in s["rules_admitted"].items():
    g, d, x = rule.split("/")
    want[f'sgate_rule_flows_admitted_total{{group="{g}",direction="{d}",index="{x}"}}'] = n
bad = {k: (samples.get(k), v) for k, v in want.items() if samples.get(k) != v}
assert not bad, bad
assert s["drops"]["no_rule_matched"] > 0 and s["rules_admitted"], s
EOF
}
check "/metrics passes promtool and matches sgatectl stats" metrics_match_stats

# logrotate: move the file, SIGUSR1; sgate writes a new one.
sleep 2.5
mv "$logs/flows.log" "$logs/flows.log.1"
kill -USR1 "$SGATE_PID"
sleep 0.3
# A reload that names a file sgate cannot open is refused; the old policy
# keeps logging and /metrics keeps serving.
write_logs_policy /nonexistent-sgate-dir/flows.log
refused_reload() {
  ctl reload 2>"$work/reload.err"
  [[ $? -ne 0 ]] && grep -q \
    "policy.yaml:3:21: settings.flow_logs.path: cannot open '/nonexistent-sgate-dir/flows.log' for writing: No such file or directory" \
    "$work/reload.err"
}
check "a flow-log path that cannot be opened refuses the reload" refused_reload
read -r late_p late_b _ _ _ _ < <(counted_during udp_datagrams)
check "/metrics still serves after a refused reload" \
  grep -q 'sgate_reloads_total{result="rejected"} 1' \
  <(curl -sf "http://127.0.0.1:$metrics_port/metrics")
sgate_stop  # a clean stop writes the interval in progress

check "the rotated file and the new one both start with the header" \
  test "$(head -n 1 "$logs/flows.log.1")" = "$(head -n 1 "$logs/flows.log")"
python3 "$here/flow_log.py" "$logs/flows.log.1" "$logs/flows.log" \
  >"$work/summary.json"
check "every line is a well-formed VPC flow log v2 record" test -s "$work/summary.json"
record_is() {  # record_is "ACTION SRC DST SPORT DPORT PROTO" PACKETS BYTES
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["records"].get(sys.argv[2])
print("   ", sys.argv[2], "logged", r, "counted", sys.argv[3:])
sys.exit(0 if r == [int(sys.argv[3]), int(sys.argv[4])] else 1)' \
    "$work/summary.json" "$@"
}
check "tcp client -> server: packets and bytes as the server received them" \
  record_is "ACCEPT 198.51.100.201 198.51.100.10 41000 80 6" "$tcp_in_p" "$tcp_in_b"
check "tcp server -> client: as the client received them" \
  record_is "ACCEPT 198.51.100.10 198.51.100.201 80 41000 6" "$tcp_out_p" "$tcp_out_b"
check "udp: two batches of 5 datagrams, one 5-tuple" \
  record_is "ACCEPT 198.51.100.201 198.51.100.10 42000 5000 17" \
  $((udp_in_p + late_p)) $((udp_in_b + late_b))
check "icmp echo requests, ports 0" \
  record_is "ACCEPT 198.51.100.200 198.51.100.10 0 0 1" "$icmp_in_p" "$icmp_in_b"
check "icmp echo replies" \
  record_is "ACCEPT 198.51.100.10 198.51.100.200 0 0 1" "$icmp_out_p" "$icmp_out_b"
check "rejected SYNs, as the client sent them, aggregated by 5-tuple" \
  record_is "REJECT 198.51.100.201 198.51.100.10 43000 81 6" "$rej_p" "$rej_b"
check "an interface without traffic has NODATA records" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if set(s["interfaces"]["eni-idle"]) == {"NODATA"}
         and s["account"] == ["123456789012"] else 1)' "$work/summary.json"

# ---------------------------------------------------------------------------
# 3. Per-interface flow caps.
write_caps_policy() {  # write_caps_policy [EXTRA INTERFACE LINE]
  cat >"$policy" <<EOF
version: 1
settings:
  max_flows_per_interface: 1000
  timeouts: {udp: 10}
  flow_logs: {path: $logs/caps.log, interval: 600}
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}
      - {protocol: udp, ports: 5000-5999, cidr: 198.51.100.0/24}
  sg-app:
    ingress:
      - {protocol: tcp, ports: 9000, cidr: 198.51.100.0/24}
interfaces:
  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web], max_flows: 5}
  eni-app: {addresses: [198.51.100.20], security_groups: [sg-app]}
$1
EOF
}
write_caps_policy ""
sgate_start "$policy" --control "$socket" || exit 1
flood() {  # flood FIRST_PORT COUNT: new UDP flows to eni-web, one datagram each
  ip netns exec "$NS_OUT" python3 -c '
import socket, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.201", 0))
for port in range(first, first + count):
    s.sendto(b"flood", ("198.51.100.10", port))' "$1" "$2"
  sleep 0.2
}
interface_counter() {  # interface_counter NAME COUNTER
  ctl stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(next(i[sys.argv[2]] for i in s["interfaces"] if i["name"] == sys.argv[1]))' "$1" "$2"
}
# refused_by_flood FIRST_PORT COUNT REFUSED: the flood's packets refused
# as interface_flow_cap, counted against eni-web.
refused_by_flood() {
  local before
  before=$(interface_counter eni-web interface_flow_cap)
  flood "$1" "$2"
  eventually refused_since "$before" "$3"
}
refused_since() {  # refused_since BEFORE N: eni-web refused N flows since
  test $(($(interface_counter eni-web interface_flow_cap) - $1)) = "$2"
}
eni_web_flows() { test "$(interface_counter eni-web flows)" = "$1"; }
check "a flood of 40 new flows: 35 refused as interface_flow_cap" \
  refused_by_flood 5000 40 35
check "eni-web tracks its cap of 5 flows" eventually eni_web_flows 5
check "eni-app still accepts connections" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.20 9000
check "and again" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.20 9000
refused() { ! "$@"; }
check "eni-web at its cap refuses a new connection" \
  refused tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
check "eni-app had nothing refused" test "$(interface_counter eni-app interface_flow_cap)" = 0
check "sgatectl stats shows the top interfaces" \
  bash -c "'$SGATECTL' --control '$socket' stats | grep -A3 '^interfaces (top' | grep -q '^eni-web .* 5 .* 5 '"
# A reload that adds an interface sorting first renumbers the table's
# interfaces: the cap still counts eni-web's 5 flows.
write_caps_policy "  eni-aaa: {addresses: [198.51.100.30], security_groups: [sg-app]}"
check "reload adding an interface" ctl reload
check "after the reload, 10 new flows are all refused" refused_by_flood 5100 10 10
check "the cap still holds at 5" eventually eni_web_flows 5
# The UDP flows time out (10 s): room for 5 new ones.
sleep 10.5
check "expired flows leave the count" eventually eni_web_flows 0
check "8 new flows: 3 refused" refused_by_flood 5200 8 3
check "5 new flows fit again" eventually eni_web_flows 5
sgate_stop
python3 "$here/flow_log.py" "$logs/caps.log" >"$work/caps.json"
check "refused flows are REJECT records in the flow log" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["records"]
udp = " 17"
rejected = [k for k in r if k.startswith("REJECT 198.51.100.201 198.51.100.10 ") and k.endswith(udp)]
accepted = [k for k in r if k.startswith("ACCEPT 198.51.100.201 198.51.100.10 ") and k.endswith(udp)]
print("    flood: %d REJECT, %d ACCEPT records" % (len(rejected), len(accepted)))
sys.exit(0 if len(rejected) == 48 and len(accepted) == 10 else 1)' "$work/caps.json"

# ---------------------------------------------------------------------------
# 4. Anti-spoofing. The servers' namespace holds eni-web's addresses and
# 198.51.100.30, eni-other's, whose MAC is another.
write_spoof_policy() {  # write_spoof_policy true|false
  cat >"$policy" <<EOF
version: 1
settings:
  anti_spoofing: $1
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [198.51.100.0/24, "2001:db8::/64"]}
      - {protocol: icmpv6, icmp_type: 128, cidr: "2001:db8::/64"}
interfaces:
  eni-web:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-web]
    macs: ["02:00:00:00:00:0a"]
  eni-other:
    addresses: [198.51.100.30]
    macs: ["02:00:00:00:00:99"]
EOF
}
write_spoof_policy true
sgate_start "$policy" --control "$socket" || exit 1
check "eni-web from its own MAC connects" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
check "IPv6 with neighbour discovery works" tcp_connects "$NS_OUT" 2001:db8::201 2001:db8::10 80
check "ping6 too" pings "$NS_OUT" 2001:db8::201 2001:db8::10
spoofed_is_refused() { ! udp_delivers "$NS_IN" 198.51.100.30 198.51.100.201 53; }
check "a namespace sending with eni-other's address is dropped" spoofed_is_refused
check "counted as spoofed_source" \
  test "$(ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"]["spoofed_source"] > 0)')" = True
check "and charged to eni-other" test "$(interface_counter eni-other spoofed_source)" -gt 0
check "eni-web had no spoofed frame" test "$(interface_counter eni-web spoofed_source)" = 0
write_spoof_policy false
check "reload turning anti_spoofing off" ctl reload
check "then the same traffic passes" udp_delivers "$NS_IN" 198.51.100.30 198.51.100.201 53
sgate_stop

# ---------------------------------------------------------------------------
# 5. Bad options stop sgate at start-up, naming the option.
python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True)
time.sleep(30)' >"$work/port" &
holder=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
busy=$(cat "$work/port")
start_fails_with() {  # start_fails_with MESSAGE SGATE OPTIONS...
  local message=$1
  shift
  if sgate_start "$policy" --control "$socket" "$@" 2>/dev/null; then
    sgate_stop
    return 1
  fi
  # sgate_start gives up after 5 s; on a loaded machine sgate may still be
  # on its way to the error: let it get there (10 s at most).
  for _ in $(seq 100); do kill -0 "$SGATE_PID" 2>/dev/null || break; sleep 0.1; done
  grep -qF -- "$message" "$SGATE_LOG"
}
check "a metrics address in use is refused at start-up" \
  start_fails_with "--metrics 127.0.0.1:$busy: cannot listen: Address already in use" \
  --metrics "127.0.0.1:$busy"
kill "$holder"
check "a flow log that cannot be opened is refused at start-up" \
  start_fails_with "--flow-log: cannot open '/nonexistent-sgate-dir/f.log' for writing" \
  --flow-log /nonexistent-sgate-dir/f.log
SGATE_PID=""

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

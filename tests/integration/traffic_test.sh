#!/usr/bin/env bash
# Real kernel traffic through sgate between network namespaces: TCP, UDP,
# ICMP over IPv4 and IPv6, allowed and denied, replies of admitted flows,
# referenced groups with a member on another node, unknown interfaces,
# egress omitted vs [], and a bulk transfer that must arrive intact.
# Usage: traffic_test.sh SGATE_BINARY [WORKERS]
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root (network namespaces)"; exit 77; }
SGATE=$1
WORKERS=${2:-1}
PREFIX=sgt$WORKERS
here=$(cd "$(dirname "$0")" && pwd)
source "$here/netns.sh"
trap netns_down EXIT

passed=0
failed=0
# expect allow|deny DESCRIPTION COMMAND...
expect() {
  local want=$1 description=$2
  shift 2
  local got=deny
  "$@" && got=allow
  if [[ $got == "$want" ]]; then
    passed=$((passed + 1))
    echo "ok      $description ($got)"
  else
    failed=$((failed + 1))
    echo "FAILED  $description: expected $want, got $got"
  fi
}

netns_up
# Clients: an admin (.200, ::200), anyone (.201, ::201), and 198.51.100.7,
# the address of eni-lb, a member of sg-lb living on node host-b.
netns_addr "$NS_OUT" 198.51.100.200/24 198.51.100.201/24 198.51.100.7/24 \
  2001:db8::200/64 2001:db8::201/64
# Servers: eni-web, eni-db, eni-app, and .99 which no interface owns.
netns_addr "$NS_IN" 198.51.100.10/24 198.51.100.20/24 198.51.100.30/24 \
  198.51.100.99/24 2001:db8::10/64
control="${TMPDIR:-/tmp}/$PREFIX-control.sock"
sgate_start "$here/policy.yaml" --control "$control" || exit 1

out=$NS_OUT
in=$NS_IN
expect allow "http from anyone"               tcp_connects $out 198.51.100.201 198.51.100.10 80
expect allow "http over IPv6"                 tcp_connects $out 2001:db8::201 2001:db8::10 80
expect deny  "another port"                   tcp_connects $out 198.51.100.201 198.51.100.10 81
expect allow "ssh from the admin prefix list" tcp_connects $out 198.51.100.200 198.51.100.10 22
expect deny  "ssh from anyone else"           tcp_connects $out 198.51.100.201 198.51.100.10 22
expect allow "ssh from the IPv6 admin"        tcp_connects $out 2001:db8::200 2001:db8::10 22
expect deny  "ssh from another IPv6 host"     tcp_connects $out 2001:db8::201 2001:db8::10 22
expect allow "8080 from sg-lb's member on host-b" tcp_connects $out 198.51.100.7 198.51.100.10 8080
expect deny  "8080 from a non-member"         tcp_connects $out 198.51.100.201 198.51.100.10 8080
expect allow "udp at the range start"         udp_delivers $out 198.51.100.200 198.51.100.10 5000
expect allow "udp at the range end"           udp_delivers $out 198.51.100.200 198.51.100.10 5010
expect deny  "udp past the range"             udp_delivers $out 198.51.100.200 198.51.100.10 5011
expect deny  "udp from outside the CIDR"      udp_delivers $out 198.51.100.201 198.51.100.10 5000
expect allow "ping from the admin"            pings $out 198.51.100.200 198.51.100.10
expect deny  "ping from anyone else"          pings $out 198.51.100.201 198.51.100.10
expect allow "ping6 from the admin"           pings $out 2001:db8::200 2001:db8::10
expect deny  "ping6 from anyone else"         pings $out 2001:db8::201 2001:db8::10
expect deny  "an address no interface owns"   tcp_connects $out 198.51.100.201 198.51.100.99 80
expect deny  "postgres from outside sg-web"   tcp_connects $out 198.51.100.201 198.51.100.20 5432
expect deny  "web may not open tcp out"       tcp_connects $in 198.51.100.10 198.51.100.201 7000
expect allow "web may send dns to the subnet" udp_delivers $in 198.51.100.10 198.51.100.201 53
expect deny  "db has egress: []"              tcp_connects $in 198.51.100.20 198.51.100.201 7000
expect allow "app's omitted egress allows all" tcp_connects $in 198.51.100.30 198.51.100.201 7000
expect allow "app accepts 9000 from the subnet" tcp_connects $out 198.51.100.201 198.51.100.30 9000

# A bulk transfer through an admitted flow arrives intact.
bulk() {
  local data="${TMPDIR:-/tmp}/$PREFIX-bulk" got="${TMPDIR:-/tmp}/$PREFIX-bulk-got"
  head -c 8000000 /dev/urandom >"$data"
  rm -f "$got"
  ip netns exec "$NS_IN" timeout 15 nc -l -p 80 >"$got" 2>/dev/null &
  local listener=$!
  sleep 0.2
  ip netns exec "$NS_OUT" timeout 15 nc -N -s 198.51.100.201 198.51.100.10 80 \
    <"$data" >/dev/null 2>&1
  wait "$listener" 2>/dev/null
  cmp -s "$data" "$got"
}
expect allow "8 MB over TCP arrives intact" bulk

# The workers' flows, listed through the control socket, name their
# interface, state and admitting rule.
flows_listed() {
  local flows
  flows=$("${SGATE%/sgate}/sgatectl" --control "$control" flows --json) || return 1
  python3 -c '
import json, sys
f = json.loads(sys.argv[1])["flows"]
web = [x for x in f if x["interface"] == "eni-web" and x.get("rule") == "sg-web/ingress/0"]
sys.exit(0 if web and all(x["protocol"] == "tcp" and x["local_port"] == 80 for x in web)
         else 1)' "$flows"
}
expect allow "sgatectl flows lists the web flows with their rule" flows_listed

# sgatectl trace on the live table finds the flow of an open connection.
traced_flow() {  # traced_flow SPORT: 0 if the trace says the flow exists
  "${SGATE%/sgate}/sgatectl" --control "$control" trace --in 198.51.100.10 \
    198.51.100.201 tcp 80 --sport "$1" | grep -q "flow:      exists"
}
ip netns exec "$NS_IN" timeout 6 nc -l -p 80 >/dev/null 2>&1 &
held_listener=$!
sleep 0.2
(sleep 3) | ip netns exec "$NS_OUT" timeout 5 nc -p 41000 -s 198.51.100.201 \
  198.51.100.10 80 >/dev/null 2>&1 &
held=$!
sleep 0.5
expect allow "trace finds an open connection's flow" traced_flow 41000
expect deny  "trace finds no flow for another source port" traced_flow 41001
wait "$held" "$held_listener" 2>/dev/null

# DPDK telemetry's /sgate/rules gives the per-rule counts sgatectl gives
# (the control loop publishes its snapshot every 20 ms).
telemetry_rules_match() {
  sleep 0.1
  python3 -c '
import json, socket, sys
ctl = json.loads(sys.argv[2])["rules_admitted"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
json.loads(s.recv(16384))  # the greeting
s.send(b"/sgate/rules")
rules = json.loads(s.recv(65536))["/sgate/rules"]
got = dict(zip(rules["rules"], rules["admitted"]))
sys.exit(0 if ctl and got == ctl and rules["rules_left_out"] == 0 else 1)
' "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" \
    "$("${SGATE%/sgate}/sgatectl" --control "$control" stats --json)"
}
expect allow "telemetry /sgate/rules matches sgatectl" telemetry_rules_match

sgate_stop
totals=$(tail -n 1 "$SGATE_LOG")
echo "sgate totals: $totals"
# Every packet is forwarded or dropped for one counted reason.
accounted() {
  python3 -c '
import json, sys
t = json.loads(sys.argv[1])
sys.exit(0 if t["received"] == t["forwarded"] + sum(t["drops"].values())
         and t["drops"]["no_rule_matched"] > 0 and t["flows"]["created"] > 0
         else 1)' "$totals"
}
expect allow "received = forwarded + drops, by reason" accounted
# Flows are counted against the rule that admitted them: sg-web's http rule
# admitted the IPv4 and IPv6 http checks and the bulk transfer.
rule_counts() {
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])["rules_admitted"]
sys.exit(0 if r.get("sg-web/ingress/0", 0) >= 3 and r.get("sg-app/egress/0", 0) >= 1
         else 1)' "$totals"
}
expect allow "flows admitted per rule" rule_counts

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

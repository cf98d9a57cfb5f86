#!/usr/bin/env bash
# sgatectl against a live sgate (on net_null ports, no namespaces needed):
# trace on the live table, rules, stats; then --watch: an edit in place and
# an atomic rename each reload the policy exactly once (a reload with the
# same rules, or a new interface, shares every rte_acl context), a bad edit
# is refused and the rules stay.
# Usage: live_sgate_test.sh SGATE SGATECTL POLICY (examples/demo.yaml)
set -uo pipefail
SGATE=$1
SGATECTL=$2
work=$(mktemp -d)
cp "$3" "$work/policy.yaml"
socket=$work/control.sock
"$SGATE" --no-huge -m 512 --no-pci --file-prefix "watch$$" --lcores 0@0,1@0 \
  --log-level 'lib.*:warning' \
  --vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 \
  -- --policy "$work/policy.yaml" --watch --control "$socket" \
  </dev/null >"$work/sgate.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [[ -S $socket ]] && break; sleep 0.1; done

passed=0
failed=0
expect_generation() {  # expect_generation N DESCRIPTION
  local got
  got=$("$SGATECTL" --control "$socket" generation 2>&1)
  if [[ $got == "$1" ]]; then
    passed=$((passed + 1)); echo "ok      $2 (generation $got)"
  else
    failed=$((failed + 1)); echo "FAILED  $2: expected generation $1, got $got"
  fi
}
settle() { sleep 0.8; }  # past the 200 ms debounce and the compile

expect_generation 1 "started"

expect_status() {  # expect_status STATUS DESCRIPTION COMMAND...
  local want=$1 description=$2 got
  shift 2
  "$@" >"$work/out" 2>&1
  got=$?
  if [[ $got == "$want" ]]; then
    passed=$((passed + 1)); echo "ok      $description"
  else
    failed=$((failed + 1)); echo "FAILED  $description: exit $got"; cat "$work/out"
  fi
}
ctl() { "$SGATECTL" --control "$socket" "$@"; }
expect_status 0 "live trace: http allowed" ctl trace --in 198.51.100.10 203.0.113.50 tcp 80
expect_status 3 "live trace: ssh from a non-admin denied" ctl trace --in 198.51.100.10 198.51.100.201 tcp 22
expect_status 0 "live trace: ping6 allowed" ctl trace --in 2001:db8::10 2001:db8::99 icmpv6 128/0
expect_status 3 "live trace: unknown interface" ctl trace --in 198.51.100.99 203.0.113.50 tcp 80
expect_status 1 "live trace: a bad packet is a usage error" ctl trace --in 198.51.100.10 203.0.113.50 tcp
ctl trace --in 198.51.100.10 198.51.100.200 tcp 22 --json >"$work/trace.json"
expect_status 0 "live trace names the deciding rule" \
  grep -q '"group":"sg-web","direction":"ingress","index":1' "$work/trace.json"
expect_status 0 "rules lists every rule" grep -q "udp ports 5000-5010" <(ctl rules)
expect_status 0 "stats --json has the documented names" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert {"generation", "ports", "drops", "flows"} <= s.keys()
assert {"port", "rx_packets", "tx_packets", "rx_dropped"} <= s["ports"][0].keys()
assert {"active", "created", "expired", "insert_failed"} <= s["flows"].keys()
' "$(ctl stats --json)"
# DPDK telemetry, as dpdk-telemetry.py reads it.
# /sgate/stats carries what `sgatectl stats --json` does (but the TSC, which
# makes rates from two snapshots of the same source; the ports and the
# per-rule counts are /sgate/ports and /sgate/rules).
expect_status 0 "telemetry /sgate/stats, ports, rules, interfaces and generation" python3 -c '
import json, socket, sys
ctl = json.loads(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
json.loads(s.recv(16384))  # the greeting
s.send(b"/sgate/stats")
stats = json.loads(s.recv(65536))["/sgate/stats"]
assert stats["generation"] == 1 and "no_rule_matched" in stats["drops"]
missing = ctl.keys() - stats.keys() - {"tsc", "tsc_hz", "ports",
                                       "rules_admitted", "interfaces"}
assert not missing, missing
s.send(b"/sgate/ports")
ports = json.loads(s.recv(65536))["/sgate/ports"]
assert sorted(ports) == sorted(str(p["port"]) for p in ctl["ports"]), ports
for p in ctl["ports"]:
    assert ports[str(p["port"])]["name"] == p["name"], ports
    assert p.keys() <= ports[str(p["port"])].keys(), ports
assert ctl["flows"].keys() <= stats["flows"].keys(), stats["flows"]
assert ctl["drops"].keys() <= stats["drops"].keys(), stats["drops"]
s.send(b"/sgate/rules")
rules = json.loads(s.recv(65536))["/sgate/rules"]
assert rules["generation"] == 1 and rules["rules_left_out"] == 0, rules
assert rules["rules"] == [] and rules["admitted"] == [], rules
s.send(b"/sgate/interfaces")
interfaces = json.loads(s.recv(65536))["/sgate/interfaces"]
assert interfaces["interfaces"] == [i["name"] for i in ctl["interfaces"]], interfaces
assert interfaces["flows"] == [i["flows"] for i in ctl["interfaces"]], interfaces
assert interfaces["interfaces_left_out"] == 0, interfaces
s.send(b"/sgate/generation")
assert json.loads(s.recv(4096))["/sgate/generation"]["generation"] == 1
' "/var/run/dpdk/watch$$/dpdk_telemetry.v2" "$(ctl stats --json)"

# Several writes in place: one reload.
echo "# edited in place" >>"$work/policy.yaml"
echo "# and again" >>"$work/policy.yaml"
settle
expect_generation 2 "edit in place reloads once"
# The rules did not change: the new table shares every rte_acl context.
expect_status 0 "a reload with the same rules builds no rte_acl context" \
  python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["acl_contexts_built"] == 0 and s["acl_contexts_reused"] > 0, s
' "$(ctl stats --json)"
# Another interface in a group: the address side is built again, the ACL
# is not.
cat >>"$work/policy.yaml" <<'EOF2'
  eni-new:
    addresses: [198.51.100.77]
    security_groups: [sg-web]
EOF2
settle
expect_generation 3 "a new interface reloads"
expect_status 0 "a new interface builds no rte_acl context" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["acl_contexts_built"] == 0 and s["acl_contexts_reused"] > 0, s
' "$(ctl stats --json)"
expect_status 0 "the new interface is enforced" \
  ctl trace --in 198.51.100.77 203.0.113.50 tcp 80
# Atomic rename, as editors and config tools do.
cp "$work/policy.yaml" "$work/.policy.yaml.tmp"
echo "# renamed over" >>"$work/.policy.yaml.tmp"
mv "$work/.policy.yaml.tmp" "$work/policy.yaml"
settle
expect_generation 4 "atomic rename reloads once"
# Another file in the same directory changes nothing.
echo "x" >"$work/unrelated.yaml"
settle
expect_generation 4 "other files are ignored"
# A bad edit is refused; the live rules stay.
echo "version: 2" >"$work/policy.yaml"
settle
expect_generation 4 "a bad edit is refused"
if grep -q "reload rejected" "$work/sgate.log"; then
  passed=$((passed + 1)); echo "ok      the refusal is logged"
else
  failed=$((failed + 1)); echo "FAILED  the refusal is not logged"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

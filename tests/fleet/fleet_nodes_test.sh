#!/usr/bin/env bash
# A fleet of three sgate nodes on one etcd (issue 14): node-0 forwards real
# traffic between network namespaces (net_af_packet), node-1 and node-2 run
# on net_null ports. Pushes, refusals, 100 pushes in a row, etcd killed
# under traffic, compaction while a node is away, starts without etcd
# (cache, then none: no_policy), a 3 MB policy, a node that dies.
# Usage: fleet_nodes_test.sh SGATE SGATECTL SOURCE_ROOT
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
SGATE=$1
SGATECTL=$2
ROOT=$3
PREFIX=sgf
here=$(cd "$(dirname "$0")" && pwd)
source "$here/etcd.sh"
source "$ROOT/tests/integration/netns.sh"
etcd_require
work=$(mktemp -d)
declare -A NODE_PID=()
nodes_stop() { for n in "${!NODE_PID[@]}"; do node_stop "$n"; done; }
finish() {
  nodes_stop
  netns_down
  etcd_stop
  if ((failed > 0)); then  # the logs tell why
    for log in "$work"/*.log; do echo "--- $log"; tail -25 "$log"; done
  fi
  rm -rf "$work"
}
trap finish EXIT


fleet() {  # fleet SUBCOMMAND ARGS...: sgatectl fleet against our etcd
  local sub=$1
  shift
  "$SGATECTL" fleet "$sub" "$@" --etcd "$ETCD_URL" --etcd-prefix /sgf
}
ctl_node() { local n=$1; shift; "$SGATECTL" --control "$work/$n.sock" "$@"; }

# node_start NAME: node-0 on the namespaces' veths, the others on net_null.
# Every worker shares CPU 1 (two cores, other tests alongside).
node_start() {
  local name=$1
  local ports=(--vdev "net_null0,no-rx=1" --vdev "net_null1,no-rx=1")
  if [[ $name == node-0 ]]; then
    ports=(--vdev "net_af_packet0,iface=$IF_IN" --vdev "net_af_packet1,iface=$IF_OUT")
  fi
  local log="$work/$name.log"
  # One log per start (the checks read the latest); earlier ones kept.
  [[ -f $log ]] && mv "$log" "$log.$(date +%s%N)"
  "$SGATE" --no-huge -m 256 --no-pci --file-prefix "sgf-$name" \
    --lcores 0@0,1@1 --log-level 'lib.*:warning' "${ports[@]}" -- \
    --etcd "$ETCD_URL" --etcd-prefix /sgf --node "$name" \
    --cache "$work/$name.cache" --control "$work/$name.sock" \
    --max-flows 4096 </dev/null >>"$log" 2>&1 &
  NODE_PID[$name]=$!
  for _ in $(seq 100); do
    grep -q "forwarding with" "$log" && return 0
    kill -0 "${NODE_PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start:" >&2
  tail -20 "$log" >&2
  return 1
}
node_stop() {  # SIGTERM: the node revokes its lease and leaves the list
  local pid=${NODE_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "NODE_PID[$1]"
}

# The policy: node-0's eni-0 is the server in NS_IN; sg-b guards the other
# nodes' interfaces and is what the 100 pushes change.
write_policy() {  # FILE SSH(yes|no) HTTP(yes|no) SG_B_PORT
  {
    echo "version: 1"
    echo "settings: {max_flows: 4096}"
    echo "security_groups:"
    echo "  sg-web:"
    echo "    ingress:"
    echo "      - {protocol: icmp, icmp_type: 8, cidr: 198.51.100.0/24}"
    [[ $2 == yes ]] && echo "      - {protocol: tcp, ports: 22, cidr: 198.51.100.0/24}"
    [[ $3 == yes ]] && echo "      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}"
    echo "  sg-b:"
    echo "    ingress: [{protocol: tcp, ports: $4, cidr: 0.0.0.0/0}]"
    echo "interfaces:"
    echo "  eni-0: {addresses: [198.51.100.10], security_groups: [sg-web], node: node-0}"
    echo "  eni-1: {addresses: [192.0.2.21], security_groups: [sg-b], node: node-1}"
    echo "  eni-2: {addresses: [192.0.2.22], security_groups: [sg-b], node: node-2}"
  } >"$1"
}

# push FILE: pushes, prints the new revision.
push() {
  fleet push "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["revision"])'
}
# node_field NODE FIELD: one field of a node's status ("" if it is gone).
node_field() {
  fleet status --json | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["node"] == sys.argv[1]:
        v = n[sys.argv[2]]
        print(json.dumps(v) if isinstance(v, (list, dict)) else v)' "$1" "$2"
}
refused() { ! tcp_connects "$@"; }
wait_all() { fleet wait --revision "$1" --timeout "${2:-15}" >/dev/null; }
stat_drop() {  # NODE REASON: that drop counter of the node
  ctl_node "$1" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["drops"][sys.argv[1]])' "$2"
}
wait_for() {  # wait_for SECONDS COMMAND...: polls every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

netns_up
netns_addr "$NS_OUT" 198.51.100.201/24
netns_addr "$NS_IN" 198.51.100.10/24
etcd_start "$work" || exit 1

# --- three nodes, one push ---------------------------------------------------
write_policy "$work/p.yaml" yes no 1000
r1=$(push "$work/p.yaml")
check "the first push commits (revision $r1)" test -n "$r1"
for n in node-0 node-1 node-2; do node_start "$n" || exit 1; done
check "every node applies revision $r1" wait_all "$r1"
for n in 0 1 2; do
  check "node-$n enforces only its own interface" \
    test "$(node_field node-$n interface_count)" = 1
done
check "node-1 enforces eni-1" test "$(node_field node-1 interfaces)" = '["eni-1"]'
traced() {  # NODE EXPECTED_STATUS [PORT]: trace of tcp PORT to eni-1 there
  ctl_node "$1" trace --in 192.0.2.21 198.51.100.201 tcp "${3:-1000}" >/dev/null
  [[ $? -eq $2 ]]
}
check "node-1 allows tcp 1000 to eni-1" traced node-1 0
check "node-0 does not own eni-1" traced node-0 3
check "ssh to eni-0 through node-0" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 22
check "http to eni-0 refused before the push" refused "$NS_OUT" 198.51.100.201 198.51.100.10 80

# --- convergence: a push that opens http -------------------------------------
write_policy "$work/p.yaml" yes yes 1000
start=$(date +%s%N)
r2=$(push "$work/p.yaml")
pushed=$(date +%s%N)
wait_all "$r2" 5
converged=$(date +%s%N)
ms=$(((converged - pushed) / 1000000))
echo "        push (load, compile, write) took $(((pushed - start) / 1000000)) ms;" \
     "every node applied it $ms ms after its commit"
check "three nodes converge in under 2 s ($ms ms)" test "$ms" -lt 2000
check "http works after the push" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
write_policy "$work/p.yaml" no yes 1000
r3=$(push "$work/p.yaml")
wait_all "$r3"
check "ssh removed: a new connection is refused" refused "$NS_OUT" 198.51.100.201 198.51.100.10 22

# --- bad policies ------------------------------------------------------------
sed 's|cidr: 198.51.100.0/24}|cidr: 198.51.100.7/24}|' "$work/p.yaml" >"$work/bad.yaml"
fleet push "$work/bad.yaml" >"$work/out" 2>"$work/err"
rc=$?
check "fleet push refuses a bad policy" test "$rc" = 1
check "with the error located in the file" grep -q "bad.yaml:[0-9]*:[0-9]*: .*host bits set" "$work/err"
check "and writes nothing" test "$(fleet status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])')" = "$r3"

# Behind sgatectl's back, with etcdctl: a bad group and a commit.
ctl txn >/dev/null <<EOF

put /sgf/policy/security_groups/sg-b "ingress: [{protocol: tcp, ports: 99999, cidr: 0.0.0.0/0}]"
put /sgf/policy/commit "{\"version\": 1}"


EOF
bad_rev=$(ctl get /sgf/policy/commit -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
all_refused() {
  for n in node-0 node-1 node-2; do
    [[ "$(node_field $n state)" == rejected ]] || return 1
  done
}
check "every node refuses the hand-written revision $bad_rev" wait_for 10 all_refused
for n in node-0 node-1 node-2; do
  check "$n reports the error at the key, line and column" \
    bash -c "[[ '$(node_field $n errors)' == *'/sgf/policy/security_groups/sg-b:1:34: security_groups.sg-b.ingress[0].ports: 99999 is out of range'* ]]"
  check "$n keeps revision $r3" test "$(node_field $n revision)" = "$r3"
done
check "node-0 still forwards under the previous revision" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
fleet wait --revision "$bad_rev" --timeout 5 >/dev/null 2>"$work/err"
check "fleet wait fails at once, naming the refusals" grep -q "node-1: refused revision $bad_rev" "$work/err"
check "fleet get refuses it too" bash -c "! $SGATECTL fleet get --etcd $ETCD_URL --etcd-prefix /sgf >/dev/null 2>&1"

# --- 100 pushes, each changing one group ------------------------------------
first_rev=""
only_changed=0
for i in $(seq 1 100); do
  write_policy "$work/p.yaml" no yes $((2000 + i))
  fleet push "$work/p.yaml" --json >"$work/push.json" || break
  read -r rev written deleted txns < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["revision"], d["written"], d["deleted"], d["transactions"])' "$work/push.json")
  [[ -z $first_rev ]] && first_rev=$rev
  [[ $written == 1 && $deleted == 0 && $txns == 1 ]] && only_changed=$((only_changed + 1))
done
check "100 pushes each wrote one object in one transaction ($only_changed)" test "$only_changed" = 100
check "every node ends on the last revision $rev" wait_all "$rev" 30
events=$(timeout 3 env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" watch --prefix /sgf/policy/ --rev "$first_rev" 2>/dev/null | grep -c '^PUT$')
check "etcd saw 200 writes for them: 100 groups + 100 commits ($events)" test "$events" = 200

# --- etcd killed under traffic -----------------------------------------------
head -c 8388608 /dev/urandom >"$work/data"
ip netns exec "$NS_IN" timeout 30 nc -l -p 80 >"$work/got" 2>/dev/null &
listener=$!
sleep 0.2
(for chunk in $(seq 0 7); do
   dd if="$work/data" bs=1M skip="$chunk" count=1 status=none
   sleep 0.25
 done) | ip netns exec "$NS_OUT" timeout 30 nc -N 198.51.100.10 80 >/dev/null 2>&1 &
sender=$!
sleep 0.5
etcd_stop
wait "$sender"
wait "$listener"
check "an 8 MB transfer is intact across etcd's death" cmp -s "$work/data" "$work/got"
check "new connections still open without etcd" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
sleep 1
etcd_restart || exit 1
write_policy "$work/p.yaml" no yes 3000
r4=$(push "$work/p.yaml")
check "after etcd comes back, a push reaches every node" wait_all "$r4" 15

# --- compaction while a node is away ----------------------------------------
node_stop node-2
for port in 3001 3002 3003; do
  write_policy "$work/p.yaml" no yes $port
  r5=$(push "$work/p.yaml")
done
ctl compact "$r5" >/dev/null
node_start node-2 || exit 1
check "node-2, back from its cache of $r4, catches up to $r5 past the compaction" wait_all "$r5" 15
check "by reading the policy afresh" grep -q "is compacted; reading the policy afresh" "$work/node-2.log"

# --- starts without etcd -----------------------------------------------------
node_stop node-1
etcd_stop
node_start node-1 || exit 1
check "node-1 starts from its cache without etcd" grep -q "enforcing revision $r5 from the cache" "$work/node-1.log"
check "and enforces it" traced node-1 0 3003
node_stop node-0
rm -f "$work/node-0.cache"
node_start node-0 || exit 1
check "node-0 without etcd or a cache says so" grep -q "no policy yet: every packet is dropped (no_policy)" "$work/node-0.log"
check "and forwards nothing" refused "$NS_OUT" 198.51.100.201 198.51.100.10 80
check "counting it under no_policy ($(stat_drop node-0 no_policy))" test "$(stat_drop node-0 no_policy)" -gt 0
etcd_restart || exit 1
check "once etcd is back every node is on $r5" wait_all "$r5" 15
# Its status may reach etcd a moment before its first connection and its
# cache file (a loaded machine stretches the moment).
check "and node-0 forwards again" wait_for 10 tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80
cache_mode() { test "$(stat -c %a "$work/node-0.cache" 2>/dev/null)" = 600; }
check "its cache file is private (0600)" wait_for 5 cache_mode

# --- a 3 MB policy -----------------------------------------------------------
# A third of the interfaces each: a node enforces at most 16,384
# (dataplane/interface_table.h), and node-0 would get 2/3 by default.
python3 "$ROOT/perf/fleet_policy.py" --groups 40 --rules 10 --interfaces 34000 \
  --groups-per-interface 1 --nodes 3 --local-share 0.34 --max-flows 4096 \
  "$work/big.yaml"
size=$(stat -c %s "$work/big.yaml")
fleet push "$work/big.yaml" --json >"$work/push.json"
big_rev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["revision"])' "$work/push.json")
txns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transactions"])' "$work/push.json")
check "a $size-byte policy is pushed in $txns transactions" test "$size" -gt 3000000 -a "$txns" -gt 1
check "and applied by every node" wait_all "$big_rev" 60
check "node-1 enforces its share of it ($(node_field node-1 interface_count))" test "$(node_field node-1 interface_count)" -gt 5000

# --- a node that dies leaves the list ----------------------------------------
kill -9 "${NODE_PID[node-2]}"
wait "${NODE_PID[node-2]}" 2>/dev/null
unset "NODE_PID[node-2]"
gone() { [[ -z "$(node_field node-2 state)" ]]; }
check "node-2, killed, leaves the list when its lease expires" wait_for 20 gone

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

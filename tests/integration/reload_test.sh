#!/usr/bin/env bash
# Live reload with real traffic (DESIGN.md §1, §5): a TCP transfer runs
# while the policy is reloaded again and again, by SIGHUP and by sgatectl,
# bad policies included; then a rule is removed under an open connection.
# Usage: reload_test.sh SGATE SGATECTL
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root (network namespaces)"; exit 77; }
SGATE=$1
SGATECTL=$2
PREFIX=sgr
here=$(cd "$(dirname "$0")" && pwd)
source "$here/netns.sh"
work=$(mktemp -d)
trap 'netns_down; rm -rf "$work"' EXIT
socket=$work/control.sock
ctl() { "$SGATECTL" --control "$socket" "$@"; }

generation() { ctl generation; }

# Two policies that differ in one rule, and a broken one.
write_policy() {  # write_policy FILE ALLOW_HTTP(yes|no)
  {
    echo "version: 1"
    echo "security_groups:"
    echo "  sg-web:"
    echo "    ingress:"
    echo "      - {protocol: tcp, ports: 22, cidr: 198.51.100.0/24}"
    [[ $2 == yes ]] && echo "      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}"
    echo "interfaces:"
    echo "  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web]}"
  } >"$1"
}
policy=$work/policy.yaml
write_policy "$policy" yes

netns_up
netns_addr "$NS_OUT" 198.51.100.201/24
netns_addr "$NS_IN" 198.51.100.10/24
sgate_start "$policy" --control "$socket" || exit 1
check "generation 1 at start" test "$(generation)" = 1

# A 16 MB transfer, paced in 1 MB chunks so that it spans the reloads.
# (50 reloads, every third a bad policy, SIGHUP and sgatectl alternating.)
head -c 16777216 /dev/urandom >"$work/data"
ip netns exec "$NS_IN" timeout 60 nc -l -p 80 >"$work/got" 2>/dev/null &
listener=$!
sleep 0.2
(for chunk in $(seq 0 15); do
   dd if="$work/data" bs=1M skip="$chunk" count=1 status=none
   sleep 0.25
 done) | ip netns exec "$NS_OUT" timeout 60 nc -N 198.51.100.10 80 \
  >/dev/null 2>&1 &
sender=$!

good=0
bad=0
for i in $(seq 1 50); do
  if ((i % 3 == 0)); then
    echo "version: 2" >"$policy.new"           # rejected: wrong version
    mv "$policy.new" "$policy"
    if ctl reload >/dev/null 2>"$work/reload.err"; then
      echo "bad policy accepted on reload $i"
    else
      bad=$((bad + 1))
    fi
  else
    write_policy "$policy.new" yes
    mv "$policy.new" "$policy"
    if ((i % 2 == 0)); then
      # Handled by the control loop a moment later: wait for it, or the
      # next iteration may replace the file before it is read.
      before=$(generation)
      kill -HUP "$SGATE_PID"
      for _ in $(seq 50); do [[ "$(generation)" != "$before" ]] && break; sleep 0.1; done
    else
      ctl reload >/dev/null && good=$((good + 1))
    fi
  fi
done
wait "$sender"
wait "$listener"
check "16 MB transfer intact across 50 reloads" cmp -s "$work/data" "$work/got"
check "every bad policy was refused ($bad of 16)" test "$bad" = 16
check "the refusal names file, line and column" grep -q "policy.yaml:1:10: version: 2 is not supported" "$work/reload.err"
# Generation: 1 + 17 sgatectl reloads + 17 SIGHUPs; refused ones add none.
sleep 0.3
check "generation counts good reloads only (35, got $(generation))" test "$(generation)" = 35

# Removing a rule: an open connection keeps flowing (AWS: tracked flows
# continue until they time out), a new one is refused.
write_policy "$policy" yes
ctl reload >/dev/null
mkfifo "$work/fifo"
ip netns exec "$NS_IN" timeout 20 nc -l -p 80 >"$work/open" 2>/dev/null &
listener=$!
sleep 0.2
ip netns exec "$NS_OUT" timeout 20 nc 198.51.100.10 80 <"$work/fifo" >/dev/null 2>&1 &
exec 7>"$work/fifo"
echo "before" >&7
sleep 0.3
write_policy "$policy" no
check "reload without the http rule" ctl reload >/dev/null
echo "after" >&7
sleep 0.3
exec 7>&-
wait "$listener" 2>/dev/null
check "the open connection kept flowing" grep -q after "$work/open"
refused() { ! tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 80; }
check "a new http connection is refused" refused
check "ssh is still allowed" tcp_connects "$NS_OUT" 198.51.100.201 198.51.100.10 22
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

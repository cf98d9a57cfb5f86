#!/usr/bin/env bash
# Egress by name with real clients and servers (README.md, "Domain rules"):
# curl from inside to openssl s_server and a Python HTTP server outside,
# through sgate. An allowed TLS name connects (IPv4 and IPv6, exact and
# wildcard), a denied one is reset within 100 ms, an address rule needs no
# name, HTTP Host decides port 80, a ClientHello cut into segments of 96
# bytes is reassembled, QUIC (udp 443) is not allowed, an idle connection
# shows as pending in trace and flows, and with domain_reject: drop a
# denied client times out instead.
# Usage: domains_test.sh SGATE SGATECTL
set -uo pipefail
[[ $EUID -eq 0 ]] || { echo "needs root (network namespaces)"; exit 77; }
for tool in openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (scripts/bootstrap)"; exit 77; }
done
SGATE=$1
SGATECTL=$2
PREFIX=sgd
here=$(cd "$(dirname "$0")" && pwd)
source "$here/netns.sh"
work=$(mktemp -d)
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  netns_down
  rm -rf "$work"
}
trap cleanup EXIT


netns_up
netns_addr "$NS_IN" 198.51.100.10/24 198.51.100.11/24 2001:db8::10/64
netns_addr "$NS_OUT" 198.51.100.200/24 198.51.100.201/24 198.51.100.202/24 \
  2001:db8::200/64 2001:db8::202/64
# The server advertises an MSS of 96 bytes to eni-split: its ClientHello
# (~520 bytes from curl) reaches sgate in six segments.
ip -n "$NS_OUT" route add 198.51.100.11/32 dev eth0 advmss 96

# One certificate for every name the tests ask for.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 -subj /CN=sgate-test \
  -addext "subjectAltName=DNS:allowed.example,DNS:x.cdn.example,DNS:denied.example,DNS:any.example" \
  >/dev/null 2>&1
# openssl s_server serves one connection at a time: one whose ClientHello
# sgate dropped would hold it. Denied names go to the .202 servers, which
# only need the kernel to complete the handshake.
for address in 198.51.100.200:443 [2001:db8::200]:443 198.51.100.201:8443 \
    198.51.100.202:443 [2001:db8::202]:443; do
  ip netns exec "$NS_OUT" openssl s_server -quiet -www -accept "$address" \
    -cert "$work/cert.pem" -key "$work/key.pem" >/dev/null 2>&1 &
  servers+=($!)
done
mkdir -p "$work/www"
echo "mirror index" >"$work/www/index.html"
ip netns exec "$NS_OUT" python3 -m http.server 80 --bind 198.51.100.200 \
  --directory "$work/www" >/dev/null 2>&1 &
servers+=($!)
sleep 0.5

control="$work/control.sock"
cp "$here/domains.yaml" "$work/policy.yaml"
sgate_start "$work/policy.yaml" --control "$control" || exit 1
ctl() { "$SGATECTL" --control "$control" "$@"; }

# https NAME ADDRESS [SOURCE] [PORT]: curl's exit status, its total time in
# $work/time, the page in $work/page.
https() {
  local name=$1 address=$2 source=${3:-198.51.100.10} port=${4:-443}
  local resolve=$address
  [[ $address == *:* ]] && resolve="[$address]"
  ip netns exec "$NS_IN" curl -s --max-time 3 --cacert "$work/cert.pem" \
    --interface "$source" --resolve "$name:$port:$resolve" \
    -w '%{time_total}' -o "$work/page" "https://$name:$port/" >"$work/time"
}
connects() {
  https "$@"
  local rc=$?
  [[ $rc -eq 0 ]] && grep -q "s_server" "$work/page" && return 0
  echo "        (curl exit $rc after $(cat "$work/time") s)"
  return 1
}
# reset NAME ADDRESS: curl fails (connection reset) within 100 ms.
reset_fast() {
  https "$@"
  local rc=$?
  [[ $rc -ne 0 && $rc -ne 28 ]] &&
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.1 else 1)' \
      "$(cat "$work/time")"
}

check "an allowed name connects"               connects allowed.example 198.51.100.200
check "a wildcard's name connects"             connects x.cdn.example 198.51.100.200
check "an allowed name connects over IPv6"     connects allowed.example 2001:db8::200 2001:db8::10
check "a denied name is reset within 100 ms"   reset_fast denied.example 198.51.100.202
echo "        (curl failed after $(cat "$work/time") s)"
check "a denied name over IPv6 is reset"       reset_fast denied.example 2001:db8::202 2001:db8::10
check "a rule by address needs no allowed name" connects any.example 198.51.100.201 198.51.100.10 8443
no_sni() {
  ip netns exec "$NS_IN" timeout 3 openssl s_client -connect 198.51.100.201:8443 \
    -noservername -CAfile "$work/cert.pem" </dev/null 2>/dev/null | grep -q "BEGIN CERTIFICATE"
}
check "... nor any name at all"                no_sni
check "a ClientHello in 96-byte segments is reassembled" \
  connects allowed.example 198.51.100.200 198.51.100.11
check "... and a denied one is reset"          reset_fast denied.example 198.51.100.202 198.51.100.11

http_get() {  # http_get HOST_HEADER: curl's exit status
  ip netns exec "$NS_IN" curl -s --max-time 3 --interface 198.51.100.10 \
    -H "Host: $1" -o "$work/page" http://198.51.100.200/
}
http_allowed() { http_get mirror.example:80 && grep -q "mirror index" "$work/page"; }
http_denied() { ! http_get evil.example; }
check "HTTP Host allowed"                      http_allowed
check "HTTP Host denied"                       http_denied
quic_denied() { ! udp_delivers "$NS_IN" 198.51.100.10 198.51.100.200 443; }
check "QUIC (udp 443) is not allowed"          quic_denied

# An idle connection: pending in trace and flows.
ip netns exec "$NS_IN" bash -c \
  "sleep 2 | timeout 3 nc -p 41000 -s 198.51.100.10 198.51.100.202 443" \
  >/dev/null 2>&1 &
idle=$!
sleep 0.5
traced_pending() {
  ctl trace --out 198.51.100.10 198.51.100.202 tcp 443 --sport 41000 \
    >"$work/trace"
  grep -q "name pending" "$work/trace" && return 0
  cat "$work/trace"
  return 1
}
traced_name() {
  ctl trace --out 198.51.100.10 198.51.100.200 tcp 443 --name x.cdn.example |
    grep -q "ALLOW"
}
check "trace shows the idle connection pending" traced_pending
check "trace --name decides it"                 traced_name
flows_json=$(ctl flows --json)
names_listed() {
  python3 -c '
import json, sys
f = json.loads(sys.argv[1])["flows"]
pending = [x for x in f if x.get("name_check") == "pending" and x["remote_port"] == 443]
allowed = [x for x in f if x.get("named") and x.get("name") == "allowed.example"]
denied = [x for x in f if x.get("name_check") == "not_allowed" and x.get("name") == "denied.example"]
sys.exit(0 if pending and allowed and denied else 1)' "$flows_json"
}
check "flows lists pending, allowed and denied flows with their names" names_listed
wait "$idle" 2>/dev/null
rules_count_names() {
  python3 -c '
import json, sys
r = [x for x in json.loads(sys.argv[1])["rules"] if x.get("domains")]
m = {d["name"]: d["matched"] for x in r for d in x["domains"]}
sys.exit(0 if m["allowed.example"] >= 3 and m["*.cdn.example"] >= 1
         and m["mirror.example"] >= 1 else 1)' "$(ctl rules --json)"
}
check "rules counts the flows each name admitted" rules_count_names

# domain_reject: drop: the denied client hears nothing and times out.
sed -i 's/domain_reject: rst/domain_reject: drop/' "$work/policy.yaml"
ctl reload >/dev/null
times_out() {
  ip netns exec "$NS_IN" curl -s --max-time 1 --cacert "$work/cert.pem" \
    --interface 198.51.100.10 --resolve denied.example:443:198.51.100.202 \
    -o /dev/null https://denied.example/
  [[ $? -eq 28 ]]
}
check "with domain_reject: drop, a denied client times out" times_out
check "... and an allowed one still connects" connects allowed.example 198.51.100.200

sgate_stop
totals=$(tail -n 1 "$SGATE_LOG")
echo "sgate totals: $totals"
accounted() {
  python3 -c '
import json, sys
t = json.loads(sys.argv[1])
d = t["drops"]
ok = (t["received"] == t["forwarded"] + sum(d.values())
      and d["domain_not_allowed"] > 0 and t["resets_sent"] >= 4
      and t["names_allowed"] >= 5 and t["names_denied"] >= 5
      and t["names_reassembled"] >= 2)
sys.exit(0 if ok else 1)' "$totals"
}
check "received = forwarded + drops; names and resets counted" accounted

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

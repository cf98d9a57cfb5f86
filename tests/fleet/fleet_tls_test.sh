#!/usr/bin/env bash
# The fleet over TLS with client certificates (issue 14): a test CA made
# here with openssl, etcd requiring client certificates, sgatectl fleet and
# a dry-run sgate node with the right certificate; a certificate from
# another CA, none, or an unknown server CA are refused with a clear error.
# Usage: fleet_tls_test.sh SGATE SGATECTL SOURCE_ROOT
set -uo pipefail
SGATE=$1
SGATECTL=$2
ROOT=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/etcd.sh"
etcd_require
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
work=$(mktemp -d)
NODE_PID=""
finish() {
  [[ -n $NODE_PID ]] && { kill -TERM "$NODE_PID"; wait "$NODE_PID"; }
  etcd_stop
  ((failed > 0)) && { echo "--- node log"; tail -20 "$work/node.log"; echo "--- etcd log"; tail -20 "$work/etcd.log"; }
  rm -rf "$work"
}
trap finish EXIT
source "$here/../support/check.sh"

# ca NAME: a self-signed CA. cert CA NAME USAGE [SAN]: a key and a
# certificate signed by CA.
ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
    -keyout "$work/$1-key.pem" -out "$work/$1.pem" 2>/dev/null
}
cert() {
  local ca=$1 name=$2 usage=$3 san=${4:-}
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
    -keyout "$work/$name-key.pem" -out "$work/$name.csr" 2>/dev/null
  {
    echo "extendedKeyUsage = $usage"
    [[ -n $san ]] && echo "subjectAltName = $san"
  } >"$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA "$work/$ca.pem" \
    -CAkey "$work/$ca-key.pem" -CAcreateserial -days 1 \
    -extfile "$work/$name.ext" -out "$work/$name.pem" 2>/dev/null
}
ca test-ca
ca rogue-ca
# etcd's gateway dials etcd itself with the server certificate: it is a
# client certificate too.
cert test-ca server serverAuth,clientAuth "IP:127.0.0.1"
cert test-ca client clientAuth
cert rogue-ca rogue clientAuth

ETCD_SCHEME=https
ETCDCTL_TLS=(--cacert "$work/test-ca.pem" --cert "$work/client.pem"
             --key "$work/client-key.pem")
etcd_start "$work" --cert-file "$work/server.pem" \
  --key-file "$work/server-key.pem" --client-cert-auth \
  --trusted-ca-file "$work/test-ca.pem" || exit 1

tls=(--etcd "$ETCD_URL" --etcd-cacert "$work/test-ca.pem"
     --etcd-cert "$work/client.pem" --etcd-key "$work/client-key.pem")
"$SGATECTL" fleet push "$ROOT/examples/web-tier.yaml" "${tls[@]}" >"$work/out" 2>&1
check "fleet push over TLS with a client certificate" grep -q "^revision" "$work/out"
revision=$(ctl get /sgate/policy/commit -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
check "etcdctl reads what sgate wrote" bash -c "ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL ${ETCDCTL_TLS[*]} get /sgate/policy/security_groups/sg-web --print-value-only | grep -q 'description: web tier'"

"$SGATE" --no-huge -m 256 --no-pci --file-prefix sgf-tls -l 0 \
  --log-level 'lib.*:warning' -- "${tls[@]}" --node host-b --dry-run \
  --cache "$work/node.cache" --control "$work/node.sock" \
  </dev/null >"$work/node.log" 2>&1 &
NODE_PID=$!
check "a dry-run node over TLS applies revision $revision" \
  "$SGATECTL" fleet wait --revision "$revision" --timeout 15 "${tls[@]}"
check "its status names its interface" \
  bash -c "'$SGATECTL' fleet status --json ${tls[*]} | grep -q '\"eni-lb-1\"'"
status=$(ctl get /sgate/nodes/host-b --print-value-only)
check "its status holds no secret" \
  bash -c "! grep -qiE 'key|pem|PRIVATE|$work' <<<'$status'"
check "its cache is private (0600)" test "$(stat -c %a "$work/node.cache")" = 600

refused() {  # refused PATTERN OPTIONS...: fleet status fails, saying PATTERN
  local pattern=$1
  shift
  if "$SGATECTL" fleet status --etcd "$ETCD_URL" "$@" >"$work/out" 2>&1; then
    return 1
  fi
  echo "        $(head -1 "$work/out")"
  grep -qiE "$pattern" "$work/out"
}
check "a client certificate from another CA is refused" \
  refused "cannot reach etcd: .*client certificate" \
  --etcd-cacert "$work/test-ca.pem" --etcd-cert "$work/rogue.pem" \
  --etcd-key "$work/rogue-key.pem"
check "no client certificate is refused" \
  refused "cannot reach etcd: .*client certificate" \
  --etcd-cacert "$work/test-ca.pem"
check "a server its CA did not sign is refused" \
  refused "cannot reach etcd: .*certificate" \
  --etcd-cacert "$work/rogue-ca.pem" --etcd-cert "$work/client.pem" \
  --etcd-key "$work/client-key.pem"
"$SGATE" --no-huge -m 256 --no-pci --file-prefix sgf-tls-rogue -l 0 \
  --log-level 'lib.*:warning' -- --etcd "$ETCD_URL" \
  --etcd-cacert "$work/test-ca.pem" --etcd-cert "$work/rogue.pem" \
  --etcd-key "$work/rogue-key.pem" --node rogue --dry-run \
  --control "$work/rogue.sock" </dev/null >"$work/rogue.log" 2>&1 &
rogue=$!
sleep 2
kill -TERM "$rogue"
wait "$rogue"
check "a node with another CA's certificate says why it gets no policy" \
  grep -q "fleet: cannot reach etcd: .*client certificate" "$work/rogue.log"
check "and is not in the list" \
  bash -c "! '$SGATECTL' fleet status ${tls[*]} | grep -q rogue"
check "plain http to a TLS etcd is refused" \
  bash -c "! '$SGATECTL' fleet status --etcd ${ETCD_URL/https/http} >/dev/null 2>&1"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

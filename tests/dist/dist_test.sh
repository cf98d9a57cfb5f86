#!/usr/bin/env bash
# What dist/ installs: the systemd unit passes `systemd-analyze verify`
# (with ExecStart pointing at the sgate just built, since verify checks the
# binary exists), and the example policy passes `sgatectl check`.
# Usage: dist_test.sh SOURCE_ROOT SGATE SGATECTL
set -uo pipefail
root=$1
SGATE=$2
SGATECTL=$3
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
unit=$work/sgate.service
sed "s|/usr/local/bin/sgate |$SGATE |" "$root/dist/systemd/sgate.service" >"$unit"
grep -q "^ExecStart=$SGATE " "$unit" || { echo "FAILED  ExecStart not found"; exit 1; }
# verify prints a line for every problem, and warnings do not change its
# status: any output is a failure.
if out=$(systemd-analyze verify "$unit" 2>&1) && [[ -z $out ]]; then
  echo "ok      systemd-analyze verify dist/systemd/sgate.service"
else
  echo "FAILED  systemd-analyze verify: $out"
  failed=1
fi
if "$SGATECTL" check "$root/dist/etc/sgate/policy.yaml" --node host-a >/dev/null; then
  echo "ok      sgatectl check dist/etc/sgate/policy.yaml"
else
  echo "FAILED  sgatectl check dist/etc/sgate/policy.yaml"
  failed=1
fi
exit $failed

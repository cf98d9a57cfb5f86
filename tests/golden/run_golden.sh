#!/usr/bin/env bash
# Runs golden cases through the real sgate on net_pcap vdevs (STYLE.md 16):
#   run_golden.sh SGATE_BINARY CASE_DIR [CASE_DIR...]
# Port 0 (inside) reads an empty capture and writes out.pcap; port 1
# (outside) replays CASE_DIR/in.pcap. Once sgate has received every frame it
# is stopped with SIGTERM; out.pcap must equal CASE_DIR/expect.pcap frame
# for frame, and the totals must match CASE_DIR/expect.txt with
# received = forwarded + sum(drops). Prints one line per case, then
# "N passed, M failed".
set -uo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 SGATE_BINARY CASE_DIR..." >&2
  exit 2
fi
sgate=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
check="$here/golden_check.py"

passed=0
failed=0
skipped=0
for case_dir in "$@"; do
  name=$(basename "$case_dir")
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden-$name.XXXXXX")
  python3 "$check" empty "$tmp/empty.pcap"
  frames=$(python3 "$check" count "$case_dir/in.pcap")
  prefix="golden-$name-$$"
  "$sgate" --no-huge -m 512 --no-pci --file-prefix "$prefix" \
    --lcores 0@0,1@1 --log-level 'lib.*:warning' \
    --vdev "net_pcap0,rx_pcap=$tmp/empty.pcap,tx_pcap=$tmp/out.pcap" \
    --vdev "net_pcap1,rx_pcap=$case_dir/in.pcap,tx_pcap=$tmp/back.pcap" \
    -- --policy "$case_dir/policy.yaml" --pair 0:1 --stats-interval 1 \
    --control "$tmp/control.sock" \
    </dev/null >"$tmp/stdout" 2>"$tmp/stderr" &
  pid=$!
  # net_pcap replays the capture once, at once; the totals printed every
  # second say when every frame has been decided.
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    [[ $(python3 "$check" received "$tmp/stdout") -ge $frames ]] && break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid"
    status=$?
  else
    wait "$pid"
    status=$?
    if grep -qi "permission denied\|operation not permitted" "$tmp/stderr"; then
      echo "SKIP $name: sgate needs privileges here"
      sed 's/^/  /' "$tmp/stderr" | tail -5
      skipped=$((skipped + 1))
      rm -rf "$tmp"
      continue
    fi
  fi
  # EAL's runtime directory (telemetry socket, config) outlives the process.
  if [[ $EUID -eq 0 ]]; then
    rm -rf "/var/run/dpdk/$prefix"
  else
    rm -rf "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix"
  fi
  if output=$(python3 "$check" check "$case_dir" "$tmp") && [[ $status -eq 0 ]]; then
    echo "PASS $name ($frames frames)"
    passed=$((passed + 1))
    rm -rf "$tmp"
  else
    echo "FAIL $name ($frames frames, sgate exit $status, files in $tmp)"
    [[ -n $output ]] && echo "$output"
    tail -5 "$tmp/stderr" | sed 's/^/  sgate: /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
if [[ $failed -eq 0 && $passed -eq 0 && $skipped -gt 0 ]]; then
  exit 77
fi
[[ $failed -eq 0 ]]

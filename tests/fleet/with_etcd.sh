#!/usr/bin/env bash
# Runs a test binary against an etcd of its own: SGATE_ETCD is its URL.
# Usage: with_etcd.sh TEST [ARGS...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/etcd.sh"
etcd_require
work=$(mktemp -d)
trap 'etcd_stop; rm -rf "$work"' EXIT
etcd_start "$work" || exit 1
SGATE_ETCD=$ETCD_URL "$@"

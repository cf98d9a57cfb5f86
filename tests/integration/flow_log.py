#!/usr/bin/env python3
"""A strict reader of VPC Flow Logs version 2 in the default format, as
AWS publishes it, for tests/integration/operations_test.sh.

    flow_log.py FILE...   prints, as JSON, what the files say:
      {"records": {"ACTION SRC DST SPORT DPORT PROTO": [packets, bytes]},
       "interfaces": {"eni-x": ["OK", "NODATA", ...]}, "account": [...],
       "lines": N}
Records of the same 5-tuple, direction and action are summed over the
intervals. Any line that is not a well-formed record is an error (exit 1).
"""
import ipaddress
import json
import sys

HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport "
          "protocol packets bytes start end action log-status")


def fail(path, number, line, why):
    sys.exit(f"{path}:{number}: {why}: {line!r}")


def read(path, summary):
    with open(path, encoding="ascii") as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        fail(path, len(lines), lines[-1], "the last line has no newline")
    lines.pop()
    if not lines or lines[0] != HEADER:
        fail(path, 1, lines[0] if lines else "", "expected the header")
    for number, line in enumerate(lines[1:], start=2):
        f = line.split(" ")
        if len(f) != 14 or any(x == "" for x in f):
            fail(path, number, line, "expected 14 space-separated fields")
        version, account, interface = f[0], f[1], f[2]
        start, end, action, status = f[10], f[11], f[12], f[13]
        if version != "2":
            fail(path, number, line, "version is not 2")
        if not (start.isdigit() and end.isdigit() and int(start) <= int(end)):
            fail(path, number, line, "start and end are not Unix seconds")
        if int(start) < 1500000000:
            fail(path, number, line, "start is not a recent Unix time")
        summary["account"].add(account)
        summary["interfaces"].setdefault(interface, []).append(status)
        summary["lines"] += 1
        if status in ("NODATA", "SKIPDATA"):
            if f[3:10] != ["-"] * 7 or action != "-":
                fail(path, number, line, f"a {status} record has only '-'")
            continue
        if status != "OK":
            fail(path, number, line, "log-status is not OK, NODATA, SKIPDATA")
        if action not in ("ACCEPT", "REJECT"):
            fail(path, number, line, "action is not ACCEPT or REJECT")
        try:
            src = ipaddress.ip_address(f[3])
            dst = ipaddress.ip_address(f[4])
        except ValueError:
            fail(path, number, line, "srcaddr or dstaddr is not an address")
        if src.version != dst.version:
            fail(path, number, line, "addresses of two families")
        numbers = f[5:10]
        if not all(x.isdigit() for x in numbers):
            fail(path, number, line, "ports, protocol and counts are numbers")
        sport, dport, protocol, packets, nbytes = map(int, numbers)
        if sport > 65535 or dport > 65535 or protocol > 255:
            fail(path, number, line, "a port or the protocol is out of range")
        if protocol not in (6, 17) and (sport or dport):
            fail(path, number, line, "ports for a protocol without any")
        if packets == 0 or nbytes < 20 * packets:
            fail(path, number, line, "fewer bytes than IP headers")
        key = f"{action} {src} {dst} {sport} {dport} {protocol}"
        total = summary["records"].setdefault(key, [0, 0])
        total[0] += packets
        total[1] += nbytes


def main():
    summary = {"records": {}, "interfaces": {}, "account": set(), "lines": 0}
    for path in sys.argv[1:]:
        read(path, summary)
    summary["account"] = sorted(summary["account"])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a policy of about RULES expanded rules for perf/reload.

Groups of up to 1,000 rules (AWS's hard per-group limit, set as
max_rules_per_group), each rule a TCP port with one IPv6 /64 remote from
2001:db8::/32 (documentation space, with room for any count), one group per
interface. The replay server 198.51.100.10 keeps tcp 80 from anywhere, so
perf/replay's capture is allowed under every generated policy. With
--edited, the first rule of sg-0 allows port 2 instead of 1: the same
policy but for one IPv6 ingress rule (perf/reload alternates the two).
  gen_policy.py RULES OUT.yaml [--edited]
"""
import sys

rules, out = int(sys.argv[1]), sys.argv[2]
edited = "--edited" in sys.argv[3:]
per_group = 1000
groups = max(1, (rules + per_group - 1) // per_group)
lines = ["version: 1", "settings:", "  max_rules_per_group: 1000",
         "  max_flows: 262144", "security_groups:",
         "  sg-web:", "    ingress:",
         "      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}"]
left = rules
for g in range(groups):
    n = min(per_group, left)
    left -= n
    lines += [f"  sg-{g}:", "    ingress:"]
    for i in range(n):
        port = 2 if edited and g == 0 and i == 0 else 1 + i % 65535
        lines.append(f"      - {{protocol: tcp, ports: {port}, "
                     f"cidr: \"2001:db8:{g:x}:{i:x}::/64\"}}")
    lines.append("    egress: []")
lines.append("interfaces:")
lines.append("  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web]}")
for g in range(groups):
    lines.append(f"  eni-{g}: {{addresses: [\"2001:db8:ffff::{g + 1:x}\"], "
                 f"security_groups: [sg-{g}]}}")
open(out, "w").write("\n".join(lines) + "\n")

#!/usr/bin/env python3
"""Writes a VPC-shaped policy for the fleet's tests and measurements.

  fleet_policy.py [--groups G] [--rules R] [--interfaces I] [--nodes N]
                  [--groups-per-interface K] [--local-share F] [--seed S]
                  [--variant V] [--max-flows N] OUT.yaml

The shape of issue 13's vpc-15k by default: 300 groups of ~50 rules
(about a sixth reference another group, some use one of 8 prefix lists,
IPv4 and IPv6 remotes), 1,500 interfaces in 1 to 5 groups each, spread
over N nodes (node-0 ... node-(N-1)); --local-share of them (default 2/3)
go to node-0 and the rest round-robin to the others. Documentation
addresses only. --variant V changes one rule of sg-0 (its first rule's
port), so that two variants differ in exactly one object: what a push of
one changed group writes. A stand-in until issue 13's generator lands in
perf/ (then use its vpc-15k).
"""
import argparse
import random

p = argparse.ArgumentParser()
p.add_argument("--groups", type=int, default=300)
p.add_argument("--rules", type=int, default=50)
p.add_argument("--interfaces", type=int, default=1500)
p.add_argument("--groups-per-interface", type=int, default=5,
               help="each interface is in 1 to this many groups")
p.add_argument("--nodes", type=int, default=3)
p.add_argument("--local-share", type=float, default=2 / 3)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--variant", type=int, default=0)
p.add_argument("--max-flows", type=int, default=65536)
p.add_argument("out")
a = p.parse_args()
rng = random.Random(a.seed)


def address(i):
    """Interface i's addresses: an IPv6 one always, an IPv4 one for the
    first 750 (documentation IPv4 space is only three /24s)."""
    six = f"2001:db8:{(i >> 16) & 0xffff:x}:{i & 0xffff:x}::1"
    if i < 250:
        return [f"198.51.100.{i + 1}", six]
    if i < 500:
        return [f"203.0.113.{i - 249}", six]
    if i < 750:
        return [f"192.0.2.{i - 499}", six]
    return [six]


lines = ["version: 1", "settings:",
         f"  max_flows: {a.max_flows}",
         "  max_groups_per_interface: 5",
         f"  max_rules_per_group: {max(60, a.rules * 2)}",
         "prefix_lists:"]
for pl in range(8):
    lines.append(f"  pl-{pl}: [\"2001:db8:ff{pl:02x}::/48\", "
                 f"\"2001:db8:fe{pl:02x}::/48\"]")
lines.append("security_groups:")
protocols = ["tcp", "tcp", "tcp", "udp", "udp", "icmp", "icmpv6", "all"]
for g in range(a.groups):
    lines += [f"  sg-{g}:", f"    description: generated group {g}",
              "    ingress:"]
    for r in range(a.rules):
        proto = rng.choice(protocols)
        if g == 0 and r == 0:
            proto = "tcp"
        rule = f"protocol: {proto}"
        if proto in ("tcp", "udp"):
            port = rng.randint(1, 65535)
            if g == 0 and r == 0:
                port = 1000 + a.variant
            rule += f", ports: {port}"
        elif proto in ("icmp", "icmpv6"):
            rule += f", icmp_type: {rng.choice([0, 3, 8, 11, 128, 129])}"
        kind = rng.random()
        if proto == "icmp":  # needs an IPv4 remote
            remote = f"cidr: 198.51.100.{rng.randrange(16) * 16}/28"
        elif proto == "icmpv6":  # an IPv6 one
            remote = f"cidr: \"2001:db8:{rng.randrange(1 << 16):x}::/48\""
        elif kind < 1 / 6 and not (g == 0 and r == 0):
            remote = f"security_group: sg-{rng.randrange(a.groups)}"
        elif kind < 0.25:
            remote = f"prefix_list: pl-{rng.randrange(8)}"
        elif kind < 0.6:
            remote = (f"cidr: \"2001:db8:{rng.randrange(1 << 16):x}::/"
                      f"{rng.choice([48, 64])}\"")
        else:
            remote = (f"cidr: [\"2001:db8:{rng.randrange(1 << 16):x}::/48\", "
                      f"203.0.113.{rng.randrange(16) * 16}/28]")
        lines.append(f"      - {{{rule}, {remote}}}")
lines.append("interfaces:")
local = int(a.interfaces * a.local_share)
for i in range(a.interfaces):
    node = 0 if i < local or a.nodes == 1 else 1 + (i - local) % (a.nodes - 1)
    groups = rng.sample(range(a.groups),
                        rng.randint(1, a.groups_per_interface))
    addrs = ", ".join(f"\"{x}\"" for x in address(i))
    sgs = ", ".join(f"sg-{x}" for x in groups)
    lines.append(f"  eni-{i}: {{addresses: [{addrs}], security_groups: [{sgs}], "
                 f"node: node-{node}}}")
open(a.out, "w").write("\n".join(lines) + "\n")

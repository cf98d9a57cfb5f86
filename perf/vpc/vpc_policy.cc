#include "perf/vpc/vpc_policy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rules/diagnostics.h"
#include "rules/policy_loader.h"

namespace sgate::perf {
namespace {

using rules::Cidr;
using rules::Family;
using rules::IpAddress;
using rules::Rule;

constexpr int kPrefixLists = 20;
// Ports a VPC's rules name most (ssh, dns, http(s), databases, caches,
// brokers, metrics).
constexpr std::array<uint16_t, 16> kWellKnownPorts = {
    22, 53, 80, 123, 443, 3306, 5432, 5672, 6379, 8080, 8443, 9090, 9200,
    11211, 27017, 2049};

class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}
  int Int(int low, int high) {  // inclusive
    return std::uniform_int_distribution<int>(low, high)(rng_);
  }
  double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Unit() < p; }
  uint32_t U32() { return static_cast<uint32_t>(rng_()); }

 private:
  std::mt19937_64 rng_;
};

IpAddress V6(uint16_t g2, uint16_t g3, uint64_t low) {
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
  b[4] = static_cast<uint8_t>(g2 >> 8);
  b[5] = static_cast<uint8_t>(g2);
  b[6] = static_cast<uint8_t>(g3 >> 8);
  b[7] = static_cast<uint8_t>(g3);
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  return IpAddress::V6(b);
}

// Interface i's addresses do not depend on the seeds: a membership change
// moves the same interfaces between groups. IPv4 in the VPC's 10.0.0.0/8
// (four /16 "subnets" of hosts), IPv6 on four of 2001:db8::/32's /64s for
// four interfaces in five (the fifth is IPv4-only).
IpAddress InterfaceV4(int i) {
  return IpAddress::V4(10u << 24 | static_cast<uint32_t>(i % 4) << 16 |
                       static_cast<uint32_t>(i / 4 % 64) << 8 |
                       static_cast<uint32_t>(10 + i / 256));
}
IpAddress InterfaceV6(int i) {
  return V6(0, static_cast<uint16_t>(i % 4), 0x100 + static_cast<uint64_t>(i));
}
bool DualStack(int i) { return i % 5 != 4; }

// Remotes as VPC rules name them: subnets and hosts of the VPC, on-premises
// ranges, a few public addresses, rarely the whole world.
Cidr RandomCidr(Random& r, Family f) {
  const int k = r.Int(0, 99);
  if (f == Family::kIPv4) {
    if (k < 3) return rules::MakeCidr(IpAddress::V4(0), 0);
    uint32_t vpc_host = InterfaceV4(r.Int(0, 1999)).v4();
    if (k < 33) return rules::MakeCidr(IpAddress::V4(vpc_host), 24);
    if (k < 45) return rules::MakeCidr(IpAddress::V4(vpc_host), 16);
    if (k < 65) return rules::MakeCidr(IpAddress::V4(vpc_host), 32);
    if (k < 83) {
      uint32_t onprem = 0xAC100000u | (r.U32() & 0x000FFF00u);  // 172.16/12
      return rules::MakeCidr(IpAddress::V4(onprem), r.Int(20, 24));
    }
    return rules::MakeCidr(IpAddress::V4(r.U32()), r.Int(24, 32));
  }
  if (k < 3) return rules::MakeCidr(V6(0, 0, 0), 0);
  const int host = r.Int(0, 1999);
  IpAddress vpc_host = InterfaceV6(host);
  if (k < 43) return rules::MakeCidr(vpc_host, 64);
  if (k < 63) return rules::MakeCidr(V6(static_cast<uint16_t>(r.Int(1, 4000)), 0, 0), 48);
  if (k < 83) return rules::MakeCidr(vpc_host, 128);
  return rules::MakeCidr(
      V6(static_cast<uint16_t>(r.Int(1, 4000)), static_cast<uint16_t>(r.U32()), 0),
      56);
}

Family RandomFamily(Random& r) {
  return r.Chance(0.65) ? Family::kIPv4 : Family::kIPv6;
}

void RandomProtocol(Random& r, Rule& rule) {
  const int k = r.Int(0, 99);
  rule.protocol = k < 62   ? rules::kProtocolTcp
                  : k < 80 ? rules::kProtocolUdp
                  : k < 85 ? rules::kProtocolIcmp
                  : k < 89 ? rules::kProtocolIcmpv6
                  : k < 96 ? rules::kProtocolAll
                           : std::array<int, 3>{47, 50, 132}[r.Int(0, 2)];
  if (rules::HasPorts(rule.protocol)) {
    const int p = r.Int(0, 99);
    if (p < 45) {
      rule.port_low = rule.port_high = kWellKnownPorts[r.Int(0, 15)];
    } else if (p < 70) {
      rule.port_low = rule.port_high = static_cast<uint16_t>(r.Int(1024, 65535));
    } else if (p < 90) {
      rule.port_low = static_cast<uint16_t>(r.Int(1024, 60000));
      rule.port_high = static_cast<uint16_t>(rule.port_low + r.Int(1, 2000));
    }  // else all ports
  }
  if (rules::HasIcmpFields(rule.protocol)) {
    const int t = r.Int(0, 9);
    if (t >= 4) rule.icmp_type = std::array<int, 4>{0, 3, 8, 11}[r.Int(0, 3)];
    if (t >= 8) rule.icmp_code = r.Int(0, 4);
  }
}

// The groups a group's references draw from: a few peers, itself half the
// time, popular groups (low indexes: the load balancers, the bastion)
// more often than others.
std::vector<std::string> Peers(Random& r, int self, int groups,
                               const std::vector<std::string>& names) {
  std::set<int> peers;
  if (r.Chance(0.5)) peers.insert(self);
  const int n = r.Int(1, 5);
  while (static_cast<int>(peers.size()) < n) {
    double u = r.Unit();
    peers.insert(static_cast<int>(u * u * groups));
  }
  std::vector<std::string> out;
  for (int p : peers) out.push_back(names[p]);
  return out;
}

Rule RandomRule(Random& r, const std::vector<std::string>& peers,
                const std::vector<std::string>& prefix_lists) {
  Rule rule;
  RandomProtocol(r, rule);
  const double kind = r.Unit();
  if (kind < 1.0 / 6) {
    rule.remote_kind = rules::RemoteKind::kSecurityGroup;
    rule.remote_name = peers[r.Int(0, static_cast<int>(peers.size()) - 1)];
  } else if (kind < 1.0 / 6 + 1.0 / 12) {
    rule.remote_kind = rules::RemoteKind::kPrefixList;
    rule.remote_name = prefix_lists[r.Int(0, kPrefixLists - 1)];
  } else {
    rule.remote_kind = rules::RemoteKind::kCidr;
    // ICMP exists in one family only: its remote is of that family.
    Family f = rule.protocol == rules::kProtocolIcmp     ? Family::kIPv4
               : rule.protocol == rules::kProtocolIcmpv6 ? Family::kIPv6
                                                         : RandomFamily(r);
    rule.cidrs.push_back(RandomCidr(r, f));
    if (r.Chance(0.25)) {
      Family second = rules::HasIcmpFields(rule.protocol) ? f : RandomFamily(r);
      Cidr extra = RandomCidr(r, second);
      if (extra != rule.cidrs[0]) rule.cidrs.push_back(extra);
    }
  }
  return rule;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

std::string RuleYaml(const Rule& rule) {
  std::string out =
      absl::StrCat("{protocol: ", rules::ProtocolName(rule.protocol));
  if (rules::HasPorts(rule.protocol) &&
      !(rule.port_low == 0 && rule.port_high == 65535)) {
    if (rule.port_low == rule.port_high) {
      absl::StrAppend(&out, ", ports: ", rule.port_low);
    } else {
      absl::StrAppend(&out, ", ports: \"", rule.port_low, "-", rule.port_high,
                      "\"");
    }
  }
  if (rules::HasIcmpFields(rule.protocol)) {
    absl::StrAppend(&out, ", icmp_type: ", rule.icmp_type,
                    ", icmp_code: ", rule.icmp_code);
  }
  switch (rule.remote_kind) {
    case rules::RemoteKind::kCidr:
      absl::StrAppend(&out, ", cidr: [",
                      absl::StrJoin(rule.cidrs, ", ",
                                    [](std::string* s, const Cidr& c) {
                                      s->append(Quoted(c.ToString()));
                                    }),
                      "]");
      break;
    case rules::RemoteKind::kPrefixList:
      absl::StrAppend(&out, ", prefix_list: ", rule.remote_name);
      break;
    case rules::RemoteKind::kSecurityGroup:
      absl::StrAppend(&out, ", security_group: ", rule.remote_name);
      break;
  }
  return out + "}";
}

}  // namespace

std::optional<VpcShape> VpcShapeNamed(absl::string_view name) {
  VpcShape shape;
  shape.name = std::string(name);
  if (name == "vpc-15k") return shape;
  if (name == "vpc-50k") {
    shape.rules_per_group = 170;
    return shape;
  }
  if (name == "vpc-small") {
    shape.groups = 40;
    shape.interfaces = 120;
    shape.local_interfaces = 80;
    shape.rules_per_group = 12;
    return shape;
  }
  return std::nullopt;
}

rules::Policy GenerateVpcPolicy(const VpcShape& shape) {
  rules::Policy p;
  // Enough for ~170 rules per group; AWS's own default is 60.
  p.settings.max_rules_per_group = 1000;
  p.settings.max_groups_per_interface =
      static_cast<uint32_t>(std::max(5, shape.max_groups_per_interface));

  Random r(shape.rules_seed);
  std::vector<std::string> prefix_lists;
  for (int i = 0; i < kPrefixLists; ++i) {
    rules::PrefixList pl;
    pl.name = absl::StrFormat("pl-%02d", i);
    // Lists name ranges ("everywhere" is written as a CIDR), at least one
    // of each family so that ICMP rules may use any list.
    auto range = [&r](Family f) {
      Cidr c = RandomCidr(r, f);
      while (c.prefix_length == 0) c = RandomCidr(r, f);
      return c;
    };
    pl.cidrs = {range(Family::kIPv4), range(Family::kIPv6)};
    for (int k = r.Int(0, 10); k > 0; --k) {
      Cidr c = range(RandomFamily(r));
      if (std::find(pl.cidrs.begin(), pl.cidrs.end(), c) == pl.cidrs.end()) {
        pl.cidrs.push_back(c);
      }
    }
    prefix_lists.push_back(pl.name);
    p.prefix_lists[pl.name] = pl;
  }

  std::vector<std::string> names;
  for (int g = 0; g < shape.groups; ++g) {
    names.push_back(absl::StrFormat("sg-%03d", g));
  }
  for (int g = 0; g < shape.groups; ++g) {
    rules::SecurityGroup group;
    group.name = names[g];
    const std::vector<std::string> peers = Peers(r, g, shape.groups, names);
    const int rules = static_cast<int>(
        std::lround(shape.rules_per_group * (0.5 + r.Unit())));
    // One group in eight keeps AWS's default egress (egress omitted), one
    // in thirty allows none: all their rules are ingress. The others list
    // three ingress rules for two egress ones.
    const int e = r.Int(0, 119);
    group.egress_omitted = e < 15;
    const bool own_egress = e >= 19;
    const int ingress = own_egress ? rules * 3 / 5 : rules;
    for (int i = 0; i < ingress; ++i) {
      group.ingress.push_back(RandomRule(r, peers, prefix_lists));
    }
    for (int i = ingress; i < rules; ++i) {
      group.egress.push_back(RandomRule(r, peers, prefix_lists));
    }
    p.security_groups[group.name] = std::move(group);
  }

  Random m(shape.members_seed);
  for (int i = 0; i < shape.interfaces; ++i) {
    rules::Interface itf;
    itf.name = absl::StrFormat("eni-%05d", i);
    if (i >= shape.local_interfaces) itf.node = "node-b";
    itf.addresses.push_back(InterfaceV4(i));
    if (DualStack(i)) itf.addresses.push_back(InterfaceV6(i));
    std::set<int> chosen;
    const int n = m.Int(1, shape.max_groups_per_interface);
    while (static_cast<int>(chosen.size()) < n) {
      chosen.insert(m.Int(0, shape.groups - 1));
    }
    for (int g : chosen) itf.security_groups.push_back(names[g]);
    p.interfaces[itf.name] = std::move(itf);
  }
  return p;
}

absl::StatusOr<rules::Policy> FinalizedVpcPolicy(const VpcShape& shape) {
  rules::Policy policy = GenerateVpcPolicy(shape);
  rules::Diagnostics diagnostics;
  rules::FinalizePolicy(policy, diagnostics);
  if (!diagnostics.empty()) return diagnostics.ToStatus();
  return policy;
}

std::vector<rules::PacketKey> VpcPackets(const rules::Policy& policy,
                                         Family family, int count,
                                         uint64_t seed) {
  Random r(seed);
  std::vector<const rules::Interface*> local;
  // Addresses of family `family` of each group's members.
  std::map<std::string, std::vector<IpAddress>> members;
  for (const auto& [name, itf] : policy.interfaces) {
    bool has_family = false;
    for (const IpAddress& a : itf.addresses) {
      if (a.family != family) continue;
      has_family = true;
      for (const std::string& g : itf.security_groups) members[g].push_back(a);
    }
    if (has_family && itf.EnforcedOn("")) local.push_back(&itf);
  }
  auto pick_in = [&r](const Cidr& c) {
    IpAddress a = c.address;
    for (int bit = c.prefix_length; bit < a.bit_width(); ++bit) {
      if (r.Chance(0.5)) a.bytes[bit / 8] |= 0x80 >> (bit % 8);
    }
    return a;
  };
  auto random_address = [&]() {
    return family == Family::kIPv4
               ? IpAddress::V4(r.U32())
               : V6(static_cast<uint16_t>(r.U32()), static_cast<uint16_t>(r.U32()),
                    (uint64_t{r.U32()} << 32) | r.U32());
  };
  std::vector<rules::PacketKey> keys(static_cast<size_t>(count));
  for (rules::PacketKey& k : keys) {
    const rules::Interface& itf =
        *local[r.Int(0, static_cast<int>(local.size()) - 1)];
    for (const IpAddress& a : itf.addresses) {
      if (a.family == family) k.local = a;
    }
    k.direction = r.Chance(0.5) ? rules::Direction::kIngress
                                : rules::Direction::kEgress;
    const std::vector<Rule>& rules =
        policy.security_groups
            .at(itf.security_groups[r.Int(
                0, static_cast<int>(itf.security_groups.size()) - 1)])
            .rules(k.direction);
    const Rule* rule = nullptr;
    if (!rules.empty() && r.Chance(0.5)) {
      rule = &rules[r.Int(0, static_cast<int>(rules.size()) - 1)];
    }
    k.remote = random_address();
    k.protocol = r.Chance(0.7) ? rules::kProtocolTcp : rules::kProtocolUdp;
    k.dst_port = static_cast<uint16_t>(r.Int(0, 65535));
    if (rule == nullptr) continue;
    if (rule->protocol != rules::kProtocolAll) {
      k.protocol = static_cast<uint8_t>(rule->protocol);
    }
    if (rules::HasPorts(rule->protocol)) {
      k.dst_port = static_cast<uint16_t>(r.Int(rule->port_low, rule->port_high));
    }
    if (rules::HasIcmpFields(rule->protocol)) {
      k.icmp_type = static_cast<uint8_t>(
          rule->icmp_type >= 0 ? rule->icmp_type : r.Int(0, 255));
      k.icmp_code = static_cast<uint8_t>(
          rule->icmp_code >= 0 ? rule->icmp_code : r.Int(0, 15));
    }
    std::vector<Cidr> cidrs;
    if (rule->remote_kind == rules::RemoteKind::kCidr) cidrs = rule->cidrs;
    if (rule->remote_kind == rules::RemoteKind::kPrefixList) {
      cidrs = policy.prefix_lists.at(rule->remote_name).cidrs;
    }
    std::erase_if(cidrs, [family](const Cidr& c) {
      return c.address.family != family;
    });
    if (!cidrs.empty()) {
      k.remote = pick_in(cidrs[r.Int(0, static_cast<int>(cidrs.size()) - 1)]);
    } else if (rule->remote_kind == rules::RemoteKind::kSecurityGroup) {
      const std::vector<IpAddress>& m = members[rule->remote_name];
      if (!m.empty()) k.remote = m[r.Int(0, static_cast<int>(m.size()) - 1)];
    }
  }
  return keys;
}

std::string VpcPolicyYaml(const rules::Policy& p) {
  std::string out = absl::StrCat(
      "version: 1\nsettings:\n  max_rules_per_group: ",
      p.settings.max_rules_per_group, "\n  max_groups_per_interface: ",
      p.settings.max_groups_per_interface, "\nprefix_lists:\n");
  for (const auto& [name, pl] : p.prefix_lists) {
    absl::StrAppend(&out, "  ", name, ": [",
                    absl::StrJoin(pl.cidrs, ", ",
                                  [](std::string* s, const Cidr& c) {
                                    s->append(Quoted(c.ToString()));
                                  }),
                    "]\n");
  }
  out += "security_groups:\n";
  for (const auto& [name, group] : p.security_groups) {
    absl::StrAppend(&out, "  ", name, ":\n");
    for (rules::Direction d :
         {rules::Direction::kIngress, rules::Direction::kEgress}) {
      const std::vector<Rule>& list = group.rules(d);
      if (d == rules::Direction::kEgress && group.egress_omitted) continue;
      absl::StrAppend(&out, "    ", rules::DirectionName(d), ":");
      if (list.empty()) {
        out += " []\n";
        continue;
      }
      out += "\n";
      for (const Rule& rule : list) {
        absl::StrAppend(&out, "      - ", RuleYaml(rule), "\n");
      }
    }
  }
  out += "interfaces:\n";
  for (const auto& [name, itf] : p.interfaces) {
    absl::StrAppend(&out, "  ", name, ": {");
    if (itf.node) absl::StrAppend(&out, "node: ", *itf.node, ", ");
    absl::StrAppend(
        &out, "addresses: [",
        absl::StrJoin(itf.addresses, ", ",
                      [](std::string* s, const IpAddress& a) {
                        s->append(Quoted(a.ToString()));
                      }),
        "], security_groups: [", absl::StrJoin(itf.security_groups, ", "),
        "]}\n");
  }
  return out;
}

}  // namespace sgate::perf

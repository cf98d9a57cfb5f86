#include "rules/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "rules/policy_loader.h"

namespace sgate::rules {
namespace {

// Builds the packets of the table, Katran-style:
//   In("198.51.100.10").From("203.0.113.5").Tcp(443)
//   Out("198.51.100.10").To("203.0.113.5").Icmp(8, 0)
class Packet {
 public:
  Packet(Direction d, const char* local) {
    key_.direction = d;
    key_.local = *ParseIpAddress(local);
  }
  Packet& From(const char* remote) {
    key_.remote = *ParseIpAddress(remote);
    return *this;
  }
  Packet& To(const char* remote) { return From(remote); }
  Packet& Tcp(uint16_t port) { return Proto(kProtocolTcp).Port(port); }
  Packet& Udp(uint16_t port) { return Proto(kProtocolUdp).Port(port); }
  Packet& Icmp(uint8_t type, uint8_t code) {
    key_.protocol = key_.local.family == Family::kIPv4 ? kProtocolIcmp
                                                       : kProtocolIcmpv6;
    key_.icmp_type = type;
    key_.icmp_code = code;
    return *this;
  }
  Packet& Proto(uint8_t protocol) {
    key_.protocol = protocol;
    return *this;
  }
  Packet& Port(uint16_t port) {
    key_.dst_port = port;
    return *this;
  }
  Packet& Vlan(uint16_t vlan) {
    key_.vlan = vlan;
    return *this;
  }
  const PacketKey& key() const { return key_; }

 private:
  PacketKey key_;
};
Packet In(const char* local) { return Packet(Direction::kIngress, local); }
Packet Out(const char* local) { return Packet(Direction::kEgress, local); }

// Five groups on one interface, members on other nodes, prefix lists, a
// default group with members on several nodes, and a VLAN twin.
constexpr char kPolicy[] = R"(version: 1
prefix_lists:
  pl-mixed: [203.0.113.0/24, "2001:db8:100::/48"]
security_groups:
  sg-ports:
    ingress:
      - {protocol: tcp, ports: 1000-2000, cidr: 0.0.0.0/0}
      - {protocol: udp, ports: 53, cidr: [192.0.2.0/24, "2001:db8:53::/48"]}
      - {protocol: tcp, ports: 0, cidr: 192.0.2.1/32}
      - {protocol: tcp, ports: 65535, cidr: 192.0.2.1/32}
    egress: []
  sg-icmp:
    ingress:
      - {protocol: icmp, icmp_type: 8, cidr: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: 3, icmp_code: 4, cidr: 0.0.0.0/0}
      - {protocol: icmpv6, cidr: "2001:db8::/32"}
    egress: []
  sg-proto:
    ingress:
      - {protocol: 50, cidr: 0.0.0.0/0}
      - {protocol: all, cidr: "2001:db8:ff::/48"}
      - {protocol: 6, ports: 22, prefix_list: pl-mixed}
    egress:
      - {protocol: udp, ports: 123, cidr: 0.0.0.0/0}
  sg-ref:
    ingress:
      - {protocol: tcp, ports: 5432, security_group: sg-app}
    egress: []
  sg-dup:
    ingress:
      - {protocol: tcp, ports: 1500, cidr: 203.0.113.0/24}
    egress: []
  sg-app: {}
interfaces:
  eni-multi:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-ports, sg-icmp, sg-proto, sg-ref, sg-dup]
  eni-app-1:
    addresses: [198.51.100.21, "2001:db8::21"]
    security_groups: [sg-app]
  eni-app-2:
    node: host-b
    addresses: [198.51.100.22]
    security_groups: [sg-app]
  eni-remote:
    node: host-b
    addresses: [198.51.100.30]
    security_groups: [sg-ports]
  eni-default:
    addresses: [198.51.100.40]
  eni-default-2:
    node: host-c
    addresses: [198.51.100.41]
  eni-vlan5:
    addresses: [198.51.100.10]
    vlan: 5
    security_groups: [sg-icmp]
)";

// An explicit default group and unknown interfaces passed.
constexpr char kPassPolicy[] = R"(version: 1
settings: {unknown_interface: pass}
security_groups:
  default:
    ingress: [{protocol: tcp, ports: 22, cidr: 192.0.2.0/24}]
    egress: []
interfaces:
  eni-x: {addresses: [198.51.100.50]}
)";

enum class Expect { kAllow, kDeny, kUnknownDropped, kUnknownPassed };

struct Case {
  const char* description;
  Packet packet;
  Expect expect;
  // "group/direction/index" of every rule that allows it.
  std::vector<std::string> rules = {};
  const char* interface = nullptr;  // checked when set
  const char* node = "";
  const char* policy = kPolicy;
};

constexpr char kMulti[] = "198.51.100.10";
constexpr char kMulti6[] = "2001:db8::10";
constexpr char kFar[] = "203.0.113.5";
constexpr char kFar6[] = "2001:db8::99";

const Case kCases[] = {
    // Ports: the destination port, range edges, protocol must match.
    {"tcp at the range start", In(kMulti).From(kFar).Tcp(1000), Expect::kAllow,
     {"sg-ports/ingress/0"}, "eni-multi"},
    {"tcp at the range end", In(kMulti).From(kFar).Tcp(2000), Expect::kAllow,
     {"sg-ports/ingress/0"}},
    {"tcp below the range", In(kMulti).From(kFar).Tcp(999), Expect::kDeny, {},
     "eni-multi"},
    {"tcp above the range", In(kMulti).From(kFar).Tcp(2001), Expect::kDeny},
    {"overlapping rules of two groups both decide",
     In(kMulti).From(kFar).Tcp(1500), Expect::kAllow,
     {"sg-dup/ingress/0", "sg-ports/ingress/0"}},
    {"overlap needs the remote of both",
     In(kMulti).From("198.51.100.99").Tcp(1500), Expect::kAllow,
     {"sg-ports/ingress/0"}},
    {"port 0", In(kMulti).From("192.0.2.1").Tcp(0), Expect::kAllow,
     {"sg-ports/ingress/2"}},
    {"a /32 matches one address only", In(kMulti).From("192.0.2.2").Tcp(0),
     Expect::kDeny},
    {"port 65535", In(kMulti).From("192.0.2.1").Tcp(65535), Expect::kAllow,
     {"sg-ports/ingress/3"}},
    {"port 65534", In(kMulti).From("192.0.2.1").Tcp(65534), Expect::kDeny},
    {"udp from the last address of a /24",
     In(kMulti).From("192.0.2.255").Udp(53), Expect::kAllow,
     {"sg-ports/ingress/1"}},
    {"udp from just past the /24", In(kMulti).From("192.0.3.0").Udp(53),
     Expect::kDeny},
    {"udp to another port", In(kMulti).From("192.0.2.1").Udp(54),
     Expect::kDeny},
    {"tcp to a udp port", In(kMulti).From("192.0.2.1").Tcp(53), Expect::kDeny},
    {"udp over IPv6 from a mixed-family list",
     In(kMulti6).From("2001:db8:53::1").Udp(53), Expect::kAllow,
     {"sg-ports/ingress/1"}, "eni-multi"},
    {"udp over IPv6 from outside the /48",
     In(kMulti6).From("2001:db8:54::1").Udp(53), Expect::kDeny},
    {"an IPv4 /0 never matches IPv6", In(kMulti6).From(kFar6).Tcp(1000),
     Expect::kDeny},

    // ICMP type and code.
    {"echo request, code 0", In(kMulti).From(kFar).Icmp(8, 0), Expect::kAllow,
     {"sg-icmp/ingress/0"}},
    {"echo request, any code", In(kMulti).From(kFar).Icmp(8, 5),
     Expect::kAllow, {"sg-icmp/ingress/0"}},
    {"echo reply is another type", In(kMulti).From(kFar).Icmp(0, 0),
     Expect::kDeny},
    {"type and code both match", In(kMulti).From(kFar).Icmp(3, 4),
     Expect::kAllow, {"sg-icmp/ingress/1"}},
    {"right type, wrong code", In(kMulti).From(kFar).Icmp(3, 3),
     Expect::kDeny},
    {"right code, wrong type", In(kMulti).From(kFar).Icmp(4, 4),
     Expect::kDeny},
    {"type 255", In(kMulti).From(kFar).Icmp(255, 255), Expect::kDeny},
    {"icmpv6 with any type", In(kMulti6).From(kFar6).Icmp(128, 0),
     Expect::kAllow, {"sg-icmp/ingress/2"}},
    {"icmpv6 error types too", In(kMulti6).From("2001:db8:1::1").Icmp(1, 3),
     Expect::kAllow, {"sg-icmp/ingress/2"}},
    {"icmpv6 from outside 2001:db8::/32", In(kMulti6).From("2001:db9::1")
                                              .Icmp(128, 0),
     Expect::kDeny},
    {"protocol 1 in IPv6 is not icmpv6",
     In(kMulti6).From(kFar6).Proto(kProtocolIcmp), Expect::kDeny},
    {"icmpv6 matched by two rules",
     In(kMulti6).From("2001:db8:ff::1").Icmp(128, 0), Expect::kAllow,
     {"sg-icmp/ingress/2", "sg-proto/ingress/1"}},

    // Protocols without ports; protocol all.
    {"ESP by number", In(kMulti).From(kFar).Proto(50), Expect::kAllow,
     {"sg-proto/ingress/0"}},
    {"AH is not ESP", In(kMulti).From(kFar).Proto(51), Expect::kDeny},
    {"an IPv4 rule for ESP does not match IPv6",
     In(kMulti6).From(kFar6).Proto(50), Expect::kDeny},
    {"all matches GRE", In(kMulti6).From("2001:db8:ff::1").Proto(47),
     Expect::kAllow, {"sg-proto/ingress/1"}},
    {"all matches any tcp port",
     In(kMulti6).From("2001:db8:ff::1").Tcp(80), Expect::kAllow,
     {"sg-proto/ingress/1"}},
    {"all matches protocol 0", In(kMulti6).From("2001:db8:ff::1").Proto(0),
     Expect::kAllow, {"sg-proto/ingress/1"}},
    {"all matches protocol 255",
     In(kMulti6).From("2001:db8:ff:ffff::1").Proto(255), Expect::kAllow,
     {"sg-proto/ingress/1"}},
    {"all does not reach past its /48",
     In(kMulti6).From("2001:db8:100::1").Proto(255), Expect::kDeny},

    // Prefix lists (protocol 6 is tcp).
    {"prefix list, IPv4 entry", In(kMulti).From("203.0.113.200").Tcp(22),
     Expect::kAllow, {"sg-proto/ingress/2"}},
    {"prefix list, IPv6 entry", In(kMulti6).From("2001:db8:100:ffff::1")
                                    .Tcp(22),
     Expect::kAllow, {"sg-proto/ingress/2"}},
    {"prefix list, IPv6 past the entry",
     In(kMulti6).From("2001:db8:101::1").Tcp(22), Expect::kDeny},
    {"prefix list, IPv4 past the entry",
     In(kMulti).From("198.51.100.99").Tcp(22), Expect::kDeny},
    {"prefix list, other port", In(kMulti).From("203.0.113.200").Tcp(23),
     Expect::kDeny},

    // Referenced groups: every member, on every node, same family.
    {"from a member here", In(kMulti).From("198.51.100.21").Tcp(5432),
     Expect::kAllow, {"sg-ref/ingress/0"}},
    {"from a member on another node",
     In(kMulti).From("198.51.100.22").Tcp(5432), Expect::kAllow,
     {"sg-ref/ingress/0"}},
    {"from a member's IPv6 address", In(kMulti6).From("2001:db8::21")
                                         .Tcp(5432),
     Expect::kAllow, {"sg-ref/ingress/0"}},
    {"from an interface of another group",
     In(kMulti).From("198.51.100.30").Tcp(5432), Expect::kDeny},
    {"from next to a member", In(kMulti).From("198.51.100.23").Tcp(5432),
     Expect::kDeny},

    // Egress, and groups without rules.
    {"egress by an egress rule", Out(kMulti).To(kFar).Udp(123),
     Expect::kAllow, {"sg-proto/egress/0"}, "eni-multi"},
    {"egress to another port", Out(kMulti).To(kFar).Udp(124), Expect::kDeny},
    {"an ingress rule never allows egress", Out(kMulti).To(kFar).Tcp(1000),
     Expect::kDeny},
    {"egress omitted allows all, IPv4", Out("198.51.100.21").To(kFar).Tcp(443),
     Expect::kAllow, {"sg-app/egress/0"}, "eni-app-1"},
    {"egress omitted allows all, IPv6", Out("2001:db8::21").To(kFar6).Udp(1),
     Expect::kAllow, {"sg-app/egress/0"}},
    {"a new group has no ingress", In("198.51.100.21").From(kFar).Tcp(443),
     Expect::kDeny, {}, "eni-app-1"},

    // The implicit default group.
    {"default: from a member on another node",
     In("198.51.100.40").From("198.51.100.41").Tcp(22), Expect::kAllow,
     {"default/ingress/0"}, "eni-default"},
    {"default: any protocol from members",
     In("198.51.100.40").From("198.51.100.41").Proto(47), Expect::kAllow,
     {"default/ingress/0"}},
    {"default: not from non-members",
     In("198.51.100.40").From("198.51.100.21").Tcp(22), Expect::kDeny},
    {"default: egress to anywhere", Out("198.51.100.40").To(kFar).Tcp(25),
     Expect::kAllow, {"default/egress/0"}},

    // Which interfaces this node enforces.
    {"an interface of another node is unknown here",
     In("198.51.100.30").From(kFar).Tcp(1000), Expect::kUnknownDropped},
    {"...and enforced on its node", In("198.51.100.30").From(kFar).Tcp(1000),
     Expect::kAllow, {"sg-ports/ingress/0"}, "eni-remote", "host-b"},
    {"node-less interfaces are enforced on every node",
     In(kMulti).From(kFar).Tcp(1000), Expect::kAllow, {"sg-ports/ingress/0"},
     "eni-multi", "host-b"},
    {"an unknown address", In("198.51.100.99").From(kFar).Tcp(1000),
     Expect::kUnknownDropped},

    // VLANs are address spaces.
    {"the VLAN twin has its own groups",
     In(kMulti).Vlan(5).From(kFar).Icmp(8, 0), Expect::kAllow,
     {"sg-icmp/ingress/0"}, "eni-vlan5"},
    {"...and not the untagged interface's",
     In(kMulti).Vlan(5).From(kFar).Tcp(1000), Expect::kDeny, {}, "eni-vlan5"},
    {"another VLAN knows no such address",
     In(kMulti).Vlan(6).From(kFar).Tcp(1000), Expect::kUnknownDropped},

    // An explicit default group; unknown_interface: pass.
    {"unknown interfaces pass when configured",
     In("198.51.100.99").From(kFar).Tcp(1), Expect::kUnknownPassed, {},
     nullptr, "", kPassPolicy},
    {"an explicit default group's own rule",
     In("198.51.100.50").From("192.0.2.9").Tcp(22), Expect::kAllow,
     {"default/ingress/0"}, "eni-x", "", kPassPolicy},
    {"an explicit default group has no member rule",
     In("198.51.100.50").From("198.51.100.50").Tcp(80), Expect::kDeny, {},
     "eni-x", "", kPassPolicy},
    {"egress: [] allows nothing", Out("198.51.100.50").To(kFar).Tcp(80),
     Expect::kDeny, {}, "eni-x", "", kPassPolicy},
};

std::string RuleName(const Policy& policy, uint32_t id) {
  const RuleRef& ref = policy.rules()[id];
  return absl::StrCat(ref.group, "/", DirectionName(ref.direction), "/",
                      ref.index);
}

TEST(ReferenceTest, SemanticsTable) {
  ASSERT_GE(std::size(kCases), 60u);
  std::map<const char*, Policy> policies;
  for (const char* yaml : {kPolicy, kPassPolicy}) {
    absl::StatusOr<Policy> p = LoadPolicyString(yaml);
    ASSERT_TRUE(p.ok()) << p.status();
    policies.emplace(yaml, *std::move(p));
  }
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.description);
    const Policy& policy = policies.at(c.policy);
    Reference reference(policy, c.node);
    Verdict v = reference.Evaluate(c.packet.key());
    switch (c.expect) {
      case Expect::kAllow:
        EXPECT_TRUE(v.allowed);
        EXPECT_EQ(v.decision, Decision::kAllowedByRule);
        break;
      case Expect::kDeny:
        EXPECT_FALSE(v.allowed);
        EXPECT_EQ(v.decision, Decision::kNoRuleMatched);
        break;
      case Expect::kUnknownDropped:
        EXPECT_FALSE(v.allowed);
        EXPECT_EQ(v.decision, Decision::kUnknownInterfaceDropped);
        EXPECT_EQ(v.interface, nullptr);
        break;
      case Expect::kUnknownPassed:
        EXPECT_TRUE(v.allowed);
        EXPECT_EQ(v.decision, Decision::kUnknownInterfacePassed);
        EXPECT_EQ(v.interface, nullptr);
        break;
    }
    std::vector<std::string> rules;
    for (uint32_t id : v.matching_rules) rules.push_back(RuleName(policy, id));
    EXPECT_EQ(rules, c.rules);
    if (c.interface) {
      ASSERT_NE(v.interface, nullptr);
      EXPECT_EQ(v.interface->name, c.interface);
    }
  }
}

// Union is order-free: listing the groups in another order changes nothing.
TEST(ReferenceTest, GroupOrderDoesNotMatter) {
  absl::StatusOr<Policy> a = LoadPolicyString(kPolicy);
  ASSERT_TRUE(a.ok());
  Policy b = *a;
  std::vector<std::string>& groups = b.interfaces.at("eni-multi")
                                         .security_groups;
  std::reverse(groups.begin(), groups.end());
  Reference ra(*a), rb(b);
  for (const Case& c : kCases) {
    if (c.policy != kPolicy) continue;
    Verdict va = ra.Evaluate(c.packet.key());
    Verdict vb = rb.Evaluate(c.packet.key());
    EXPECT_EQ(va.allowed, vb.allowed) << c.description;
    EXPECT_EQ(va.matching_rules, vb.matching_rules) << c.description;
  }
}

}  // namespace
}  // namespace sgate::rules

// RuleTable on the encoding corners (issue 3): port 0 and 65535, /0 /32
// /128, ICMP type 255, protocols 0 and 255, overlapping rules of different
// groups, IPv4-only interfaces receiving IPv6, unknown interfaces, VLANs,
// group references with members on other nodes. Each fixture states its
// expected verdict beside a description (STYLE.md 16); every fixture is
// also checked against rules::Reference.

#include "rules/rule_table.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rules/policy_loader.h"
#include "rules/reference.h"
#include "tests/support/eal_environment.h"

namespace sgate::rules {
namespace {

constexpr char kPolicy[] = R"(
version: 1
settings:
  unknown_interface: drop
prefix_lists:
  pl-corp: [203.0.113.0/24, "2001:db8:100::/48"]
security_groups:
  sg-edges:
    ingress:
      - {protocol: tcp, ports: 0, cidr: 0.0.0.0/0}                     # 0
      - {protocol: tcp, ports: 65535, cidr: 0.0.0.0/0}                 # 1
      - {protocol: udp, ports: "1000-2000", cidr: 198.51.100.7/32}     # 2
      - {protocol: icmp, icmp_type: 255, icmp_code: -1, cidr: 0.0.0.0/0}  # 3
      - {protocol: icmp, icmp_type: 8, icmp_code: 0, cidr: 192.0.2.0/24}  # 4
      - {protocol: 0, cidr: "::/0"}                                    # 5
      - {protocol: 255, cidr: 0.0.0.0/0}                               # 6
      - {protocol: icmpv6, cidr: "2001:db8::1/128"}                    # 7
      - {protocol: tcp, ports: 22, prefix_list: pl-corp}               # 8
    egress: []
  sg-web:
    ingress:
      - {protocol: tcp, ports: "80-90", cidr: 198.51.100.0/24}
  sg-admin:
    ingress:
      - {protocol: tcp, ports: "85-100", cidr: 198.51.100.128/25}
      - {protocol: all, security_group: sg-lb}
  sg-lb:
    egress:
      - {protocol: tcp, ports: 8080, security_group: sg-web}
interfaces:
  eni-edges:
    addresses: [192.0.2.10]
    security_groups: [sg-edges]
  eni-edges6:
    addresses: ["2001:db8::10"]
    security_groups: [sg-edges]
  eni-web:
    addresses: [192.0.2.20, "2001:db8::20"]
    security_groups: [sg-web, sg-admin]
  eni-web-vlan:
    vlan: 10
    addresses: [192.0.2.10]
    security_groups: [sg-web]
  eni-lb-remote:
    node: host-b
    addresses: [198.51.100.99, "2001:db8::99"]
    security_groups: [sg-lb]
  eni-web-remote:
    node: host-b
    addresses: [203.0.113.80]
    security_groups: [sg-web]
  eni-lb-local:
    addresses: [192.0.2.30]
    security_groups: [sg-lb]
)";

struct Fixture {
  std::string description;
  PacketKey packet;
  Decision expected;
  // Expected deciding rule as (group, index in its direction), when allowed.
  std::string group = "";
  int index = -1;
};

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }

// Small builder (STYLE.md 16): In/Out(local, remote).Tcp(port) ...
struct Packet {
  PacketKey key;
  static Packet In(const char* local, const char* remote) {
    Packet p;
    p.key.direction = Direction::kIngress;
    p.key.local = Ip(local);
    p.key.remote = Ip(remote);
    return p;
  }
  static Packet Out(const char* local, const char* remote) {
    Packet p = In(local, remote);
    p.key.direction = Direction::kEgress;
    return p;
  }
  Packet& Tcp(uint16_t port) { return Proto(6, port); }
  Packet& Udp(uint16_t port) { return Proto(17, port); }
  Packet& Proto(uint8_t protocol, uint16_t port = 0) {
    key.protocol = protocol;
    key.dst_port = port;
    return *this;
  }
  Packet& Icmp(uint8_t protocol, uint8_t type, uint8_t code) {
    key.protocol = protocol;
    key.icmp_type = type;
    key.icmp_code = code;
    return *this;
  }
  Packet& Vlan(uint16_t vlan) {
    key.vlan = vlan;
    return *this;
  }
  operator PacketKey() const { return key; }
};

constexpr Decision kAllow = Decision::kAllowedByRule;
constexpr Decision kNoRule = Decision::kNoRuleMatched;
constexpr Decision kUnknownDrop = Decision::kUnknownInterfaceDropped;

std::vector<Fixture> Fixtures() {
  return {
      {"tcp port 0 is a port", Packet::In("192.0.2.10", "203.0.113.9").Tcp(0),
       kAllow, "sg-edges", 0},
      {"tcp port 65535 is a port",
       Packet::In("192.0.2.10", "203.0.113.9").Tcp(65535), kAllow, "sg-edges",
       1},
      {"tcp port 1 matches neither edge",
       Packet::In("192.0.2.10", "203.0.113.9").Tcp(1), kNoRule},
      {"udp 0 is not tcp 0", Packet::In("192.0.2.10", "203.0.113.9").Udp(0),
       kNoRule},
      {"udp range low end, /32 remote",
       Packet::In("192.0.2.10", "198.51.100.7").Udp(1000), kAllow, "sg-edges",
       2},
      {"udp range high end", Packet::In("192.0.2.10", "198.51.100.7").Udp(2000),
       kAllow, "sg-edges", 2},
      {"udp just past the range",
       Packet::In("192.0.2.10", "198.51.100.7").Udp(2001), kNoRule},
      {"udp from the /32's neighbour",
       Packet::In("192.0.2.10", "198.51.100.8").Udp(1500), kNoRule},
      {"icmp type 255 any code",
       Packet::In("192.0.2.10", "203.0.113.9").Icmp(1, 255, 255), kAllow,
       "sg-edges", 3},
      {"icmp type 254 is not 255",
       Packet::In("192.0.2.10", "203.0.113.9").Icmp(1, 254, 255), kNoRule},
      {"icmp echo code 0 from 192.0.2.0/24",
       Packet::In("192.0.2.10", "192.0.2.255").Icmp(1, 8, 0), kAllow,
       "sg-edges", 4},
      {"icmp echo code 1 is not code 0",
       Packet::In("192.0.2.10", "192.0.2.255").Icmp(1, 8, 1), kNoRule},
      {"icmp echo from outside the /24",
       Packet::In("192.0.2.10", "192.0.3.0").Icmp(1, 8, 0), kNoRule},
      {"an icmp rule ignores the port field",
       Packet::In("192.0.2.10", "203.0.113.9").Proto(1, 0xffff), kNoRule},
      {"protocol 255 from /0", Packet::In("192.0.2.10", "0.0.0.0").Proto(255),
       kAllow, "sg-edges", 6},
      {"protocol 255 from 255.255.255.255",
       Packet::In("192.0.2.10", "255.255.255.255").Proto(255), kAllow,
       "sg-edges", 6},
      {"protocol 0 rule is IPv6-only (::/0)",
       Packet::In("192.0.2.10", "203.0.113.9").Proto(0), kNoRule},
      {"protocol 0 over IPv6 from ::/0", Packet::In("2001:db8::10", "::").Proto(0),
       kAllow, "sg-edges", 5},
      {"protocol 0 over IPv6 from ffff:...",
       Packet::In("2001:db8::10", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
           .Proto(0),
       kAllow, "sg-edges", 5},
      {"icmpv6 from the /128", Packet::In("2001:db8::10", "2001:db8::1")
                                   .Icmp(58, 128, 0),
       kAllow, "sg-edges", 7},
      {"icmpv6 from the /128's neighbour",
       Packet::In("2001:db8::10", "2001:db8::2").Icmp(58, 128, 0), kNoRule},
      {"prefix list, IPv4 entry",
       Packet::In("192.0.2.10", "203.0.113.255").Tcp(22), kAllow, "sg-edges",
       8},
      {"prefix list, IPv6 entry",
       Packet::In("2001:db8::10", "2001:db8:100:ffff::1").Tcp(22), kAllow,
       "sg-edges", 8},
      {"prefix list, just outside the IPv6 entry",
       Packet::In("2001:db8::10", "2001:db8:101::").Tcp(22), kNoRule},
      {"egress: [] allows nothing",
       Packet::Out("192.0.2.10", "203.0.113.9").Tcp(443), kNoRule},
      {"IPv4-only interface: its address in IPv6 form is unknown",
       Packet::In("::ffff:192.0.2.10", "::1").Tcp(0), kUnknownDrop},
      {"overlap: port 80 only in sg-web",
       Packet::In("192.0.2.20", "198.51.100.1").Tcp(80), kAllow, "sg-web", 0},
      {"overlap: port 95 from the upper /25 only in sg-admin",
       Packet::In("192.0.2.20", "198.51.100.200").Tcp(95), kAllow, "sg-admin",
       0},
      {"overlap: port 95 from the lower /25 in neither",
       Packet::In("192.0.2.20", "198.51.100.1").Tcp(95), kNoRule},
      {"overlap: port 87 from the upper /25 in both (either rule)",
       Packet::In("192.0.2.20", "198.51.100.200").Tcp(87), kAllow},
      {"group reference: a member on another node (IPv4)",
       Packet::In("192.0.2.20", "198.51.100.99").Proto(47), kAllow, "sg-admin",
       1},
      {"group reference: a member on another node (IPv6)",
       Packet::In("2001:db8::20", "2001:db8::99").Udp(53), kAllow, "sg-admin",
       1},
      {"group reference: a local member counts too",
       Packet::In("192.0.2.20", "192.0.2.30").Tcp(1), kAllow, "sg-admin", 1},
      {"group reference: not a member",
       Packet::In("192.0.2.20", "198.51.100.98").Proto(47), kNoRule},
      {"egress to a referenced group with members in several groups",
       Packet::Out("192.0.2.30", "192.0.2.20").Tcp(8080), kAllow, "sg-lb", 0},
      {"egress to a referenced group's remote member",
       Packet::Out("192.0.2.30", "203.0.113.80").Tcp(8080), kAllow, "sg-lb", 0},
      {"egress to a referenced group, wrong port",
       Packet::Out("192.0.2.30", "203.0.113.80").Tcp(8081), kNoRule},
      {"interface of another node is not enforced here",
       Packet::In("198.51.100.99", "192.0.2.1").Tcp(1), kUnknownDrop},
      {"VLAN 10: the same address is another interface",
       Packet::In("192.0.2.10", "198.51.100.1").Tcp(80).Vlan(10), kAllow,
       "sg-web", 0},
      {"untagged: the same packet hits eni-edges instead",
       Packet::In("192.0.2.10", "198.51.100.1").Tcp(80), kNoRule},
      {"VLAN 11: nobody's address", Packet::In("192.0.2.10", "198.51.100.1")
                                        .Tcp(80)
                                        .Vlan(11),
       kUnknownDrop},
      {"unknown local address", Packet::In("192.0.2.11", "198.51.100.1").Tcp(80),
       kUnknownDrop},
  };
}

class RuleTableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::InitEal({.simd512 = true}));
  }

  static Policy LoadOrDie(const std::string& yaml) {
    absl::StatusOr<Policy> policy = LoadPolicyString(yaml, "test.yaml");
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.ok() ? *std::move(policy) : Policy();
  }

  void CheckFixtures(const Policy& policy, const RuleTableOptions& options) {
    absl::StatusOr<std::unique_ptr<RuleTable>> table =
        RuleTable::Build(policy, options);
    ASSERT_TRUE(table.ok()) << table.status();
    Reference reference(policy, options.compile.node);
    std::vector<Fixture> fixtures = Fixtures();
    // One mixed IPv4/IPv6 burst, as the dataplane sends, and one by one.
    std::vector<PacketKey> keys;
    for (const Fixture& f : fixtures) keys.push_back(f.packet);
    std::vector<Classification> burst(keys.size());
    (*table)->Classify(keys.data(), static_cast<uint32_t>(keys.size()),
                       burst.data());
    for (size_t i = 0; i < fixtures.size(); ++i) {
      const Fixture& f = fixtures[i];
      SCOPED_TRACE(f.description);
      Classification one = (*table)->Classify(f.packet);
      EXPECT_EQ(one.decision, burst[i].decision);
      EXPECT_EQ(one.rule_id, burst[i].rule_id);
      EXPECT_EQ(static_cast<int>(burst[i].decision),
                static_cast<int>(f.expected));
      Verdict want = reference.Evaluate(f.packet);
      EXPECT_EQ(static_cast<int>(want.decision), static_cast<int>(f.expected))
          << "the fixture disagrees with the reference";
      if (f.expected != kAllow) continue;
      EXPECT_NE(std::find(want.matching_rules.begin(),
                          want.matching_rules.end(), burst[i].rule_id),
                want.matching_rules.end());
      if (f.index >= 0) {
        const Rule& rule = policy.security_groups.at(f.group)
                               .rules(f.packet.direction)
                               .at(f.index);
        EXPECT_EQ(burst[i].rule_id, rule.id);
      }
    }
  }
};

TEST_F(RuleTableTest, EncodingCornersEveryMethodBothEngines) {
  // Every lane in rte_acl, every lane scanned (the scan follows the
  // method's instruction set: scalar, AVX2 for sse/avx2, AVX-512), and
  // the default mix.
  Policy policy = LoadOrDie(kPolicy);
  for (uint32_t limit : {0u, UINT32_MAX, 2u}) {
    for (AclMethod m : {AclMethod::kAuto, AclMethod::kScalar, AclMethod::kSse,
                        AclMethod::kAvx2, AclMethod::kAvx512x16,
                        AclMethod::kAvx512x32}) {
      SCOPED_TRACE(absl::StrCat(AclMethodName(m), ", scan lanes of up to ",
                                limit, " entries"));
      RuleTableOptions options;
      options.acl_method = m;
      options.scan_lane_limit = limit;
      CheckFixtures(policy, options);
    }
  }
}

TEST_F(RuleTableTest, EncodingCornersMembersExpanded) {
  Policy policy = LoadOrDie(kPolicy);
  RuleTableOptions options;
  options.compile.expand_group_members = true;
  CheckFixtures(policy, options);
}

TEST_F(RuleTableTest, EncodingCornersWideKey) {
  Policy policy = LoadOrDie(kPolicy);
  RuleTableOptions options;
  options.force_wide_key = true;
  CheckFixtures(policy, options);
}

TEST_F(RuleTableTest, EncodingCornersOpenRulesApart) {
  // The open rules (0.0.0.0/0, ::/0) in a context of their own must still
  // be the ones reported when they match (fixtures with an index).
  Policy policy = LoadOrDie(kPolicy);
  for (bool wide : {false, true}) {
    RuleTableOptions options;
    options.force_split_open_rules = true;
    options.force_wide_key = wide;
    CheckFixtures(policy, options);
  }
}

TEST_F(RuleTableTest, OpenRuleIsReportedOverANarrowerOne) {
  // Whether a flow is untracked depends on the rule reported (DESIGN.md
  // §5): when an open rule matches, it must be the one, whether the open
  // rules share the context or have their own.
  Policy policy = LoadOrDie(R"(
version: 1
security_groups:
  sg:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}
      - {protocol: tcp, ports: "80-90", cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 80, cidr: "2001:db8:1::/48"}
      - {protocol: tcp, ports: "80-90", cidr: "::/0"}
    egress: []
interfaces:
  eni: {addresses: [192.0.2.1, "2001:db8::1"], security_groups: [sg]}
)");
  const std::vector<Rule>& rules = policy.security_groups.at("sg").ingress;
  for (bool split : {false, true}) {
    SCOPED_TRACE(split ? "open rules apart" : "one context");
    RuleTableOptions options;
    options.force_split_open_rules = split;
    absl::StatusOr<std::unique_ptr<RuleTable>> table =
        RuleTable::Build(policy, options);
    ASSERT_TRUE(table.ok()) << table.status();
    Classification v4 =
        (*table)->Classify(Packet::In("192.0.2.1", "198.51.100.7").Tcp(80));
    EXPECT_EQ(v4.decision, Decision::kAllowedByRule);
    EXPECT_EQ(v4.rule_id, rules[1].id);
    Classification v6 =
        (*table)->Classify(Packet::In("2001:db8::1", "2001:db8:1::7").Tcp(80));
    EXPECT_EQ(v6.decision, Decision::kAllowedByRule);
    EXPECT_EQ(v6.rule_id, rules[3].id);
  }
}

TEST_F(RuleTableTest, GroupSetsCostNoRules) {
  // 300 interfaces, each in a different pair of 25 groups: the ACL holds
  // each group's rule once (not once per pair), and each packet is
  // classified in its interface's two lanes. Group i allows tcp port
  // 1000 + i.
  std::string yaml = "version: 1\nsecurity_groups:\n";
  for (int i = 0; i < 25; ++i) {
    yaml += "  g" + std::to_string(i) + ":\n    ingress: [{protocol: tcp, " +
            "ports: " + std::to_string(1000 + i) + ", cidr: 0.0.0.0/0}]\n";
  }
  yaml += "interfaces:\n";
  struct Pair {
    std::string address;
    int a, b;
  };
  std::vector<Pair> pairs;
  for (int a = 0; a < 25; ++a) {
    for (int b = a + 1; b < 25; ++b) {
      int n = static_cast<int>(pairs.size());
      std::string address =
          "10.0." + std::to_string(n / 200) + "." + std::to_string(n % 200 + 1);
      yaml += "  eni-" + std::to_string(n) + ": {addresses: [" + address +
              "], security_groups: [g" + std::to_string(a) + ", g" +
              std::to_string(b) + "]}\n";
      pairs.push_back({address, a, b});
    }
  }
  Policy policy = LoadOrDie(yaml);
  absl::StatusOr<std::unique_ptr<RuleTable>> table = RuleTable::Build(policy);
  ASSERT_TRUE(table.ok()) << table.status();
  const RuleTableStats& stats = (*table)->stats();
  // The 25 groups' rules and the implicit default's "from members of
  // default".
  EXPECT_EQ(stats.AclRules(Family::kIPv4, Direction::kIngress), 26u);
  EXPECT_EQ(stats.acl[0][0].lanes, 26u);
  EXPECT_DOUBLE_EQ(stats.lanes_per_interface[0][0], 2.0);
  Reference reference(policy, "");
  for (const Pair& p : pairs) {
    for (int port : {1000 + p.a, 1000 + p.b, 1000 + (p.b + 1) % 25}) {
      PacketKey k = Packet::In(p.address.c_str(), "198.51.100.1")
                        .Tcp(static_cast<uint16_t>(port));
      SCOPED_TRACE(p.address + " port " + std::to_string(port));
      EXPECT_EQ((*table)->Classify(k).decision,
                reference.Evaluate(k).decision);
    }
  }
}

TEST_F(RuleTableTest, AutoPicksAvx512WhenAllowed) {
  // The test binary runs EAL with --force-max-simd-bitwidth=512 on a CPU
  // with AVX-512 (the CI machine): auto must not settle for less.
  Policy policy = LoadOrDie(kPolicy);
  RuleTableOptions acl_only;
  acl_only.scan_lane_limit = 0;
  absl::StatusOr<std::unique_ptr<RuleTable>> table =
      RuleTable::Build(policy, acl_only);
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<std::unique_ptr<RuleTable>> scanned = RuleTable::Build(policy);
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  if (!__builtin_cpu_supports("avx512bw")) GTEST_SKIP() << "no AVX-512";
  EXPECT_EQ((*table)->stats().acl_method, AclMethod::kAvx512x32);
  EXPECT_EQ((*scanned)->stats().scan_simd, LaneScan::Simd::kAvx512);
}

TEST_F(RuleTableTest, UnknownInterfacePass) {
  Policy policy = LoadOrDie(std::string(kPolicy) + "\n");
  policy.settings.unknown_interface = UnknownInterfaceAction::kPass;
  absl::StatusOr<std::unique_ptr<RuleTable>> table = RuleTable::Build(policy);
  ASSERT_TRUE(table.ok()) << table.status();
  Classification c = (*table)->Classify(
      Packet::In("192.0.2.11", "198.51.100.1").Tcp(80));
  EXPECT_EQ(c.decision, Decision::kUnknownInterfacePassed);
  EXPECT_TRUE(c.allowed());
  EXPECT_EQ(c.interface, Classification::kNoInterface);
}

TEST_F(RuleTableTest, NodeSelectsEnforcedInterfaces) {
  Policy policy = LoadOrDie(kPolicy);
  RuleTableOptions options;
  options.compile.node = "host-b";
  absl::StatusOr<std::unique_ptr<RuleTable>> table =
      RuleTable::Build(policy, options);
  ASSERT_TRUE(table.ok()) << table.status();
  // eni-lb-remote lives on host-b: its egress to sg-web members on :8080.
  Classification c = (*table)->Classify(
      Packet::Out("198.51.100.99", "192.0.2.20").Tcp(8080));
  ASSERT_NE(c.interface, Classification::kNoInterface);
  EXPECT_EQ((*table)->interface_name(c.interface), "eni-lb-remote");
  EXPECT_EQ(c.decision, Decision::kAllowedByRule);
}

TEST_F(RuleTableTest, EachGroupsRulesAreInTheAclOnce) {
  // Whatever groups the interfaces combine, a group's rules are in the ACL
  // once: the ACL depends on the rules only.
  Policy policy = LoadOrDie(R"(
version: 1
security_groups:
  a:
    ingress: [{protocol: tcp, ports: 1, cidr: 0.0.0.0/0}]
    egress: []
  b:
    ingress: [{protocol: tcp, ports: 2, cidr: 0.0.0.0/0}]
    egress: []
interfaces:
  one: {addresses: [192.0.2.1], security_groups: [a, b]}
  two: {addresses: [192.0.2.2], security_groups: [b, a]}
  three: {addresses: [192.0.2.3], security_groups: [a]}
)");
  absl::StatusOr<std::unique_ptr<RuleTable>> table = RuleTable::Build(policy);
  ASSERT_TRUE(table.ok()) << table.status();
  const RuleTableStats& s = (*table)->stats();
  // a's rule, b's, and the implicit default group's ingress "from members
  // of default" and egress to 0.0.0.0/0.
  EXPECT_EQ(s.AclRules(Family::kIPv4, Direction::kIngress), 3u);
  EXPECT_EQ(s.AclRules(Family::kIPv4, Direction::kEgress), 1u);
  EXPECT_EQ(s.lanes_per_interface[0][0], 5.0 / 3);  // {a,b}, {b,a}, {a}
  EXPECT_EQ(s.lanes_per_interface[0][1], 0.0);      // egress: [] for both
  EXPECT_GT(s.memory_bytes(), 0u);
  EXPECT_GT(s.build_seconds, 0.0);
  EXPECT_EQ((*table)->Classify(Packet::In("192.0.2.2", "203.0.113.1").Tcp(1))
                .decision,
            Decision::kAllowedByRule);
  EXPECT_EQ((*table)->Classify(Packet::In("192.0.2.3", "203.0.113.1").Tcp(2))
                .decision,
            Decision::kNoRuleMatched);
}

TEST_F(RuleTableTest, AReferenceIsOneRuleWhateverItsMembers) {
  // 40 interfaces in sg-members; one rule referencing the group compiles to
  // one ACL rule per family testing a bit of the key's reference mask, not
  // 40; the members are the address side's business.
  std::string yaml = R"(
version: 1
security_groups:
  sg-members:
    egress: []
  sg-server:
    ingress: [{protocol: tcp, ports: 5432, security_group: sg-members}]
    egress: []
interfaces:
  server: {addresses: [192.0.2.1], security_groups: [sg-server]}
)";
  for (int i = 0; i < 40; ++i) {
    yaml += "  m" + std::to_string(i) + ": {node: other, addresses: [198.51.100." +
            std::to_string(i + 1) + "], security_groups: [sg-members]}\n";
  }
  Policy policy = LoadOrDie(yaml);
  absl::StatusOr<std::unique_ptr<RuleTable>> classes = RuleTable::Build(policy);
  ASSERT_TRUE(classes.ok()) << classes.status();
  // sg-server's rule and the implicit default's "from members of default".
  EXPECT_EQ((*classes)->stats().AclRules(Family::kIPv4, Direction::kIngress),
            2u);
  EXPECT_EQ((*classes)->stats().member_classes, 2u);  // sg-members, and none
  RuleTableOptions naive;
  naive.compile.expand_group_members = true;
  absl::StatusOr<std::unique_ptr<RuleTable>> expanded =
      RuleTable::Build(policy, naive);
  ASSERT_TRUE(expanded.ok()) << expanded.status();
  EXPECT_EQ((*expanded)->stats().AclRules(Family::kIPv4, Direction::kIngress),
            40u);
  for (const auto& table : {classes->get(), expanded->get()}) {
    EXPECT_EQ(table->Classify(Packet::In("192.0.2.1", "198.51.100.40").Tcp(5432))
                  .decision,
              Decision::kAllowedByRule);
    EXPECT_EQ(table->Classify(Packet::In("192.0.2.1", "198.51.100.41").Tcp(5432))
                  .decision,
              Decision::kNoRuleMatched);
  }
}

TEST_F(RuleTableTest, TablesCoexist) {
  // An RCU swap keeps the old table alive while the new one is built.
  Policy policy = LoadOrDie(kPolicy);
  absl::StatusOr<std::unique_ptr<RuleTable>> first = RuleTable::Build(policy);
  absl::StatusOr<std::unique_ptr<RuleTable>> second = RuleTable::Build(policy);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  PacketKey k = Packet::In("192.0.2.10", "203.0.113.9").Tcp(0);
  EXPECT_EQ((*first)->Classify(k).decision, Decision::kAllowedByRule);
  second->reset();
  EXPECT_EQ((*first)->Classify(k).decision, Decision::kAllowedByRule);
}

TEST_F(RuleTableTest, LargeBurstsAreSplit) {
  Policy policy = LoadOrDie(kPolicy);
  absl::StatusOr<std::unique_ptr<RuleTable>> table = RuleTable::Build(policy);
  ASSERT_TRUE(table.ok()) << table.status();
  std::vector<PacketKey> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(i % 2 ? Packet::In("2001:db8::10", "::").Proto(0)
                         : Packet::In("192.0.2.10", "203.0.113.9").Tcp(0));
  }
  std::vector<Classification> out(keys.size());
  (*table)->Classify(keys.data(), static_cast<uint32_t>(keys.size()),
                     out.data());
  for (const Classification& c : out) {
    EXPECT_EQ(c.decision, Decision::kAllowedByRule);
  }
}

}  // namespace
}  // namespace sgate::rules

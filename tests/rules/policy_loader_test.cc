#include "rules/policy_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/support/policy_errors.h"

namespace sgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Message(const absl::StatusOr<Policy>& policy) {
  return std::string(policy.status().message());
}

// Every validation error of issue 2, one fixture each. The expected text is
// "policy:LINE:COLUMN: ...MESSAGE...".
const sgate::testing::PolicyErrorCase kErrorCases[] = {
    {"empty document", "", 1, 1, "the policy is empty"},
    {"root is a list", "- version: 1\n", 1, 1,
     "policy: expected a map, found a list"},
    {"unknown top-level key", "version: 1\nsecurity_group: {}\n", 2, 1,
     "policy: unknown key 'security_group'; expected version, settings, "
     "prefix_lists, security_groups, interfaces"},
    {"duplicate key", "version: 1\nversion: 1\n", 2, 1,
     "key 'version' is given twice"},
    {"missing version", "interfaces: {}\n", 1, 1,
     "version: missing; expected 'version: 1'"},
    {"unsupported version", "version: 2\n", 1, 10,
     "version: 2 is not supported; expected 1"},
    {"version not a number", "version: one\n", 1, 10,
     "version: one is not supported; expected 1"},
    {"version zero", "version: 0\n", 1, 10,
     "version: 0 is not supported; expected 1"},
    {"version as a list", "version: [1]\n", 1, 10,
     "version: expected a string, found a list"},
    {"unknown setting", "version: 1\nsettings:\n  max_flow: 10\n", 3, 3,
     "settings: unknown key 'max_flow'"},
    {"max_flows zero", "version: 1\nsettings:\n  max_flows: 0\n", 3, 14,
     "settings.max_flows: 0 is out of range; expected 1 to 268435456"},
    {"unknown_interface value",
     "version: 1\nsettings:\n  unknown_interface: maybe\n", 3, 22,
     "settings.unknown_interface: 'maybe' is not an action; expected drop "
     "or pass"},
    {"revalidate not a boolean",
     "version: 1\nsettings:\n  revalidate_on_change: yes\n", 3, 25,
     "settings.revalidate_on_change: expected true or false, found 'yes'"},
    {"too many groups allowed",
     "version: 1\nsettings:\n  max_groups_per_interface: 17\n", 3, 29,
     "settings.max_groups_per_interface: 17 is out of range; expected 1 to "
     "16"},
    {"max_rules_per_group zero",
     "version: 1\nsettings:\n  max_rules_per_group: 0\n", 3, 24,
     "settings.max_rules_per_group: 0 is out of range; expected 1 to 1000"},
    {"negative timeout",
     "version: 1\nsettings:\n  timeouts:\n    udp: -5\n", 4, 10,
     "settings.timeouts.udp: -5 is out of range; expected 1 to 31536000"},
    {"unknown timeout",
     "version: 1\nsettings:\n  timeouts:\n    tcp: 5\n", 4, 5,
     "settings.timeouts: unknown key 'tcp'; expected tcp_established"},
    {"prefix lists not a map", "version: 1\nprefix_lists: [a]\n", 2, 15,
     "prefix_lists: expected a map, found a list"},
    {"prefix list host bits",
     "version: 1\nprefix_lists:\n  pl-a:\n    - 203.0.113.9/24\n", 4, 7,
     "prefix_lists.pl-a: '203.0.113.9/24' has host bits set; did you mean "
     "203.0.113.0/24?"},
    {"prefix list entry not a CIDR",
     "version: 1\nprefix_lists:\n  pl-a: [example.com]\n", 3, 10,
     "prefix_lists.pl-a: 'example.com' is not a CIDR"},
    {"group not a map", "version: 1\nsecurity_groups:\n  sg-a: [1]\n", 3, 9,
     "security_groups.sg-a: expected a map, found a list"},
    {"unknown group key",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingres: []\n", 4, 5,
     "security_groups.sg-a: unknown key 'ingres'; expected description, "
     "ingress, egress"},
    {"ingress not a list",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress: tcp\n", 4, 14,
     "security_groups.sg-a.ingress: expected a list, found a scalar"},
    {"rule not a map",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress: [tcp]\n", 4, 15,
     "security_groups.sg-a.ingress[0]: expected a map, found a scalar"},
    {"unknown rule key",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, port: 22, cidr: 0.0.0.0/0}\n",
     5, 25, "security_groups.sg-a.ingress[0]: unknown key 'port'"},
    {"missing protocol",
     "version: 1\nsecurity_groups:\n  sg-a:\n    egress:\n"
     "      - cidr: 0.0.0.0/0\n",
     5, 9,
     "security_groups.sg-a.egress[0]: protocol is missing; expected tcp, "
     "udp, icmp, icmpv6, all or a number"},
    {"unknown protocol",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcpp, cidr: 0.0.0.0/0}\n",
     5, 20,
     "security_groups.sg-a.ingress[0].protocol: 'tcpp' is not a protocol; "
     "expected tcp, udp, icmp, icmpv6, all, -1 or 0 to 255"},
    {"protocol 256",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: 256, cidr: 0.0.0.0/0}\n",
     5, 20, "'256' is not a protocol"},
    {"ports on icmp",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: icmp, ports: 80, cidr: 0.0.0.0/0}\n",
     5, 33,
     "security_groups.sg-a.ingress[0].ports: protocol icmp has no ports; "
     "only tcp and udp have"},
    {"ports on all",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: all, ports: 80, cidr: 0.0.0.0/0}\n",
     5, 32, "protocol all has no ports"},
    {"ports on protocol 50",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: 50, ports: 80, cidr: 0.0.0.0/0}\n",
     5, 31, "protocol 50 has no ports"},
    {"port out of range",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: 70000, cidr: 0.0.0.0/0}\n",
     5, 32,
     "security_groups.sg-a.ingress[0].ports: 70000 is out of range; "
     "expected ports from 0 to 65535"},
    {"range end out of range",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: udp, ports: 1024-65536, cidr: 0.0.0.0/0}\n",
     5, 32, "1024-65536 is out of range"},
    {"reversed range",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: 2000-1000, cidr: 0.0.0.0/0}\n",
     5, 32,
     "ports: range 2000-1000 is reversed; expected LOW-HIGH with LOW <= "
     "HIGH"},
    {"port name",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: http, cidr: 0.0.0.0/0}\n",
     5, 32,
     "ports: 'http' is not a port; expected a port, LOW-HIGH, or all"},
    {"negative port",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: -1, cidr: 0.0.0.0/0}\n",
     5, 32, "ports: '-1' is not a port"},
    {"icmp type on tcp",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, icmp_type: 8, cidr: 0.0.0.0/0}\n",
     5, 36,
     "icmp_type: only icmp and icmpv6 have an ICMP type and code; protocol "
     "is tcp"},
    {"icmp type 256",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: icmp, icmp_type: 256, cidr: 0.0.0.0/0}\n",
     5, 37, "icmp_type: 256 is out of range; expected -1 to 255"},
    {"icmp code -2",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: icmpv6, icmp_type: 1, icmp_code: -2, cidr: ::/0}\n",
     5, 53, "icmp_code: -2 is out of range; expected -1 to 255"},
    {"any type with a code",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: icmp, icmp_type: -1, icmp_code: 3, cidr: 0.0.0.0/0}\n",
     5, 52,
     "icmp_code: 3 needs a type; a type of -1 (any) requires a code of -1"},
    {"no remote",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: 22}\n",
     5, 9,
     "security_groups.sg-a.ingress[0]: no remote; expected exactly one of "
     "cidr, prefix_list or security_group"},
    {"two remotes",
     "version: 1\nprefix_lists: {pl-a: []}\nsecurity_groups:\n  sg-a:\n"
     "    ingress:\n      - {protocol: tcp, cidr: 0.0.0.0/0, prefix_list: "
     "pl-a}\n",
     6, 9, "both cidr and prefix_list; expected exactly one"},
    {"cidr host bits",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, cidr: 198.51.100.7/24}\n",
     5, 31,
     "cidr: '198.51.100.7/24' has host bits set; did you mean "
     "198.51.100.0/24?"},
    {"ipv6 cidr host bits",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, cidr: [0.0.0.0/0, \"2001:db8::1/64\"]}\n",
     5, 43, "did you mean 2001:db8::/64?"},
    {"cidr prefix too long",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, cidr: 198.51.100.0/33}\n",
     5, 31, "has a bad prefix length: expected 0 to 32 for IPv4"},
    {"cidr without length",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, cidr: 198.51.100.1}\n",
     5, 31, "is not a CIDR: expected ADDRESS/LENGTH"},
    {"empty cidr list",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, cidr: []}\n",
     5, 31, "cidr: expected at least one CIDR"},
    {"undefined prefix list",
     "version: 1\nprefix_lists: {pl-corp: [203.0.113.0/24]}\n"
     "security_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, prefix_list: pl-crop}\n",
     6, 38,
     "security_groups.sg-a.ingress.prefix_list: 'pl-crop' is not defined; "
     "expected one of pl-corp"},
    {"undefined group in a rule",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, security_group: sg-b}\n",
     5, 41,
     "security_group: 'sg-b' is not defined; expected one of default, sg-a"},
    {"undefined group on an interface",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    security_groups: [sg-web]\n",
     5, 23,
     "interfaces.eni-a.security_groups: 'sg-web' is not defined"},
    {"group listed twice",
     "version: 1\nsecurity_groups: {sg-a: {}}\ninterfaces:\n  eni-a:\n"
     "    addresses: [198.51.100.10]\n    security_groups: [sg-a, sg-a]\n",
     6, 29, "interfaces.eni-a: group 'sg-a' is listed twice"},
    {"empty group list",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    security_groups: []\n",
     5, 22, "expected at least one group (omit the key for [default])"},
    {"interface address with a length",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10/32]\n",
     4, 17,
     "interfaces.eni-a.addresses: '198.51.100.10/32' is a prefix; expected "
     "a plain address"},
    {"interface address garbage",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [web-1]\n", 4, 17,
     "'web-1' is not an IPv4 or IPv6 address"},
    {"interface with an empty address list",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: []\n", 4, 16,
     "interfaces.eni-a.addresses: expected one or more IPv4/IPv6 addresses"},
    {"interface without addresses",
     "version: 1\ninterfaces:\n  eni-a:\n    node: host-a\n", 3, 3,
     "interfaces.eni-a: addresses is missing"},
    {"unknown interface key",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    subnet: x\n",
     5, 5, "interfaces.eni-a: unknown key 'subnet'"},
    {"vlan out of range",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    vlan: 4096\n",
     5, 11, "interfaces.eni-a.vlan: 4096 is out of range; expected 0 to 4095"},
    {"duplicate address",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "  eni-b:\n    addresses: [\"2001:db8::1\", 198.51.100.10]\n",
     6, 32,
     "address 198.51.100.10 of interface eni-b already belongs to eni-a "
     "(untagged); an address belongs to one interface per VLAN"},
    {"duplicate address in one VLAN",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    vlan: 7\n  eni-b:\n    addresses: [198.51.100.10]\n    vlan: 7\n",
     7, 17, "already belongs to eni-a in vlan 7"},
    {"too many groups on an interface",
     "version: 1\nsettings: {max_groups_per_interface: 2}\n"
     "security_groups: {a: {}, b: {}, c: {}}\n"
     "interfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    security_groups: [a, b, c]\n",
     5, 3,
     "interface eni-a has 3 security groups; "
     "settings.max_groups_per_interface is 2"},
    {"too many IPv4 rules",
     "version: 1\nsettings: {max_rules_per_group: 2}\nsecurity_groups:\n"
     "  sg-a:\n    ingress:\n      - {protocol: tcp, cidr: [192.0.2.0/24, "
     "198.51.100.0/24, 203.0.113.0/24]}\n",
     4, 3,
     "security group sg-a has 3 IPv4 ingress rules (each CIDR counts, a "
     "prefix list as its size); settings.max_rules_per_group is 2"},
    {"a prefix list counts as its size",
     "version: 1\nsettings: {max_rules_per_group: 2}\n"
     "prefix_lists: {pl: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]}\n"
     "security_groups:\n  sg-a:\n    egress:\n"
     "      - {protocol: tcp, prefix_list: pl}\n",
     5, 3, "sg-a has 3 IPv4 egress rules"},
    {"icmp towards IPv6 only",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: icmp, cidr: \"2001:db8::/32\"}\n",
     5, 32,
     "protocol icmp is IPv4-only but every remote of this rule is IPv6; use "
     "icmpv6 for IPv6"},
    {"icmpv6 towards an IPv4 prefix list",
     "version: 1\nprefix_lists: {pl: [192.0.2.0/24]}\nsecurity_groups:\n"
     "  sg-a:\n    ingress:\n      - {protocol: icmpv6, prefix_list: pl}\n",
     6, 41, "protocol icmpv6 is IPv6-only but every remote of this rule is "
            "IPv4; use icmp for IPv4"},
    {"icmpv6 towards an IPv4 cidr list (located at the list)",
     "version: 1\nsecurity_groups:\n  sg-a:\n    egress:\n"
     "      - protocol: icmpv6\n        cidr: [192.0.2.0/24, 198.51.100.0/24]\n",
     6, 15, "protocol icmpv6 is IPv6-only but every remote of this rule is "
             "IPv4"},
    {"icmp code with the type omitted (= any)",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - protocol: icmp\n        icmp_code: 0\n        cidr: 0.0.0.0/0\n",
     6, 20, "icmp_code: 0 needs a type; a type of -1 (any) requires a code"},
    {"port range with three parts",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: 1-2-3, cidr: 0.0.0.0/0}\n",
     5, 32, "ports: '1-2-3' is not a port"},
    {"ports as a list",
     "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
     "      - {protocol: tcp, ports: [80], cidr: 0.0.0.0/0}\n",
     5, 32, "ports: expected a string, found a list"},
    {"IPv6 prefix too long in a prefix list",
     "version: 1\nprefix_lists:\n  pl-a: [\"2001:db8::/129\"]\n", 3, 10,
     "has a bad prefix length: expected 0 to 128 for IPv6"},
    {"address twice on one interface",
     "version: 1\ninterfaces:\n  eni-a:\n"
     "    addresses: [198.51.100.10, 198.51.100.10]\n",
     4, 32, "address 198.51.100.10 of interface eni-a is listed twice"},
    {"a group reference counts in each family",
     "version: 1\nsettings: {max_rules_per_group: 1}\nsecurity_groups:\n"
     "  sg-a:\n    ingress:\n      - {protocol: tcp, cidr: \"2001:db8::/32\"}\n"
     "      - {protocol: tcp, security_group: sg-a}\n",
     4, 3, "sg-a has 2 IPv6 ingress rules"},
    {"a prefix list counts its entries of each family",
     "version: 1\nsettings: {max_rules_per_group: 2}\n"
     "prefix_lists: {pl: [192.0.2.0/24, \"2001:db8::/32\"]}\n"
     "security_groups:\n  sg-a:\n    egress:\n"
     "      - {protocol: tcp, prefix_list: pl}\n"
     "      - {protocol: udp, cidr: [\"2001:db8:1::/48\", \"2001:db8:2::/48\"]}\n",
     5, 3, "sg-a has 3 IPv6 egress rules"},
};

TEST(PolicyLoaderTest, EveryErrorIsLocatedAndExplained) {
  for (const sgate::testing::PolicyErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.description);
    absl::StatusOr<Policy> policy = LoadPolicyString(c.yaml, "policy");
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    // The error is on its own line, at its position, with its explanation.
    EXPECT_TRUE(sgate::testing::HasErrorLine(
        std::string(policy.status().message()), c));
  }
}

TEST(PolicyLoaderTest, SyntaxErrorsAreLocated) {
  absl::StatusOr<Policy> policy =
      LoadPolicyString("version: 1\nsecurity_groups: [\n  a: b\n", "p.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(Message(policy), HasSubstr("p.yaml:"));
  EXPECT_THAT(Message(policy), HasSubstr("syntax error"));
}

TEST(PolicyLoaderTest, ReportsEveryErrorAtOnce) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
settings:
  unknown_interface: maybe
security_groups:
  sg-a:
    ingress:
      - {protocol: tcp, ports: 70000, cidr: 0.0.0.0/0}
      - {protocol: icmp, ports: 1, cidr: 0.0.0.0/0}
      - {protocol: tcp, security_group: sg-nope}
interfaces:
  eni-a:
    addresses: [198.51.100.10/24]
    colour: blue
)");
  ASSERT_FALSE(policy.ok());
  std::vector<std::string> lines = absl::StrSplit(Message(policy), '\n');
  ASSERT_EQ(lines.size(), 6u) << Message(policy);
  // Sorted by position.
  EXPECT_THAT(lines[0], HasSubstr("policy:3:22:"));
  EXPECT_THAT(lines[1], HasSubstr("policy:7:32:"));
  EXPECT_THAT(lines[2], HasSubstr("policy:8:33:"));
  EXPECT_THAT(lines[3], HasSubstr("policy:9:41:"));
  EXPECT_THAT(lines[4], HasSubstr("policy:12:17:"));
  EXPECT_THAT(lines[5], HasSubstr("policy:13:5:"));
}

TEST(PolicyLoaderTest, MissingFileNamesThePath) {
  absl::StatusOr<Policy> policy = LoadPolicyFile("/nonexistent/p.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(Message(policy), HasSubstr("/nonexistent/p.yaml: cannot read"));
}

// The example of DESIGN.md §4, plus the sg-lb group it references.
constexpr char kDesignExample[] = R"(version: 1
settings:
  max_flows: 1048576
  unknown_interface: drop
  revalidate_on_change: false
  max_groups_per_interface: 5
  max_rules_per_group: 60
  timeouts:
    tcp_established: 432000
    tcp_transitory: 60
    udp: 30
    udp_stream: 180
    icmp: 60
    other: 600
prefix_lists:
  pl-corp:
    - 203.0.113.0/24
    - 2001:db8:100::/48
security_groups:
  sg-web:
    description: web tier
    ingress:
      - protocol: tcp
        ports: 443
        cidr: 0.0.0.0/0
        description: https
      - protocol: tcp
        ports: 22
        prefix_list: pl-corp
      - protocol: tcp
        ports: 8080
        security_group: sg-lb
      - protocol: icmp
        icmp_type: 8
        icmp_code: -1
        cidr: 198.51.100.0/24
    egress:
      - protocol: all
        cidr: [0.0.0.0/0, "::/0"]
  sg-lb: {}
interfaces:
  eni-web-1:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-web]
  eni-lb-1:
    node: host-b
    addresses: [192.0.2.7]
    security_groups: [sg-lb]
)";

TEST(PolicyLoaderTest, LoadsTheDesignExample) {
  absl::StatusOr<Policy> policy = LoadPolicyString(kDesignExample);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->version, 1);
  EXPECT_EQ(policy->settings.max_flows, 1048576u);
  EXPECT_EQ(policy->prefix_lists.at("pl-corp").cidrs.size(), 2u);

  const SecurityGroup& web = policy->security_groups.at("sg-web");
  EXPECT_EQ(web.description, "web tier");
  ASSERT_EQ(web.ingress.size(), 4u);
  EXPECT_EQ(web.ingress[0].protocol, kProtocolTcp);
  EXPECT_EQ(web.ingress[0].port_low, 443);
  EXPECT_EQ(web.ingress[0].port_high, 443);
  EXPECT_EQ(web.ingress[0].description, "https");
  EXPECT_EQ(web.ingress[0].location.line, 23);
  EXPECT_EQ(web.ingress[1].remote_kind, RemoteKind::kPrefixList);
  EXPECT_EQ(web.ingress[1].remote_name, "pl-corp");
  EXPECT_EQ(web.ingress[2].remote_kind, RemoteKind::kSecurityGroup);
  EXPECT_EQ(web.ingress[2].remote_name, "sg-lb");
  EXPECT_EQ(web.ingress[3].protocol, kProtocolIcmp);
  EXPECT_EQ(web.ingress[3].icmp_type, 8);
  EXPECT_EQ(web.ingress[3].icmp_code, kIcmpAny);
  ASSERT_EQ(web.egress.size(), 1u);
  EXPECT_EQ(web.egress[0].cidrs.size(), 2u);

  const Interface& lb = policy->interfaces.at("eni-lb-1");
  EXPECT_EQ(lb.node, "host-b");
  EXPECT_FALSE(lb.EnforcedOn(""));
  EXPECT_TRUE(lb.EnforcedOn("host-b"));
  EXPECT_TRUE(policy->interfaces.at("eni-web-1").EnforcedOn("host-b"));
  EXPECT_EQ(policy->interfaces.at("eni-web-1").addresses.size(), 2u);
}

TEST(PolicyLoaderTest, NewGroupDefaults) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
security_groups:
  sg-omitted: {}
  sg-empty:
    egress: []
  sg-bare:
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  for (const char* name : {"sg-omitted", "sg-bare"}) {
    SCOPED_TRACE(name);
    const SecurityGroup& g = policy->security_groups.at(name);
    EXPECT_TRUE(g.ingress.empty());
    ASSERT_EQ(g.egress.size(), 1u);  // allow all to 0.0.0.0/0 and ::/0
    EXPECT_EQ(g.egress[0].protocol, kProtocolAll);
    EXPECT_EQ(g.egress[0].Describe(Direction::kEgress),
              "all to 0.0.0.0/0,::/0");
  }
  const SecurityGroup& empty = policy->security_groups.at("sg-empty");
  EXPECT_TRUE(empty.egress.empty());
  EXPECT_FALSE(empty.egress_omitted);
}

TEST(PolicyLoaderTest, ImplicitDefaultGroup) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
interfaces:
  eni-a:
    addresses: 198.51.100.10
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const SecurityGroup& d = policy->security_groups.at("default");
  EXPECT_TRUE(d.implicit);
  ASSERT_EQ(d.ingress.size(), 1u);
  EXPECT_EQ(d.ingress[0].Describe(Direction::kIngress),
            "all from group default");
  ASSERT_EQ(d.egress.size(), 1u);
  EXPECT_EQ(d.egress[0].Describe(Direction::kEgress), "all to 0.0.0.0/0,::/0");
  EXPECT_THAT(policy->interfaces.at("eni-a").security_groups,
              ElementsAre("default"));
}

TEST(PolicyLoaderTest, AnExplicitDefaultGroupReplacesTheImplicitOne) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
security_groups:
  default:
    ingress:
      - {protocol: tcp, ports: 22, cidr: 192.0.2.0/24}
    egress: []
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const SecurityGroup& d = policy->security_groups.at("default");
  EXPECT_FALSE(d.implicit);
  ASSERT_EQ(d.ingress.size(), 1u);
  EXPECT_EQ(d.ingress[0].port_low, 22);
  EXPECT_TRUE(d.egress.empty());
}

TEST(PolicyLoaderTest, RuleForms) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
security_groups:
  sg-a:
    ingress:
      - {protocol: tcp, cidr: 0.0.0.0/0}
      - {protocol: udp, ports: all, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: "1024-65535", cidr: 0.0.0.0/0}
      - {protocol: TCP, ports: 0, cidr: 0.0.0.0/0}
      - {protocol: -1, cidr: "::/0"}
      - {protocol: 6, ports: 65535, cidr: 0.0.0.0/0}
      - {protocol: 17, ports: 53, cidr: 0.0.0.0/0}
      - {protocol: 50, cidr: 0.0.0.0/0}
      - {protocol: icmpv6, cidr: "::/0"}
      - {protocol: 58, icmp_type: 128, icmp_code: 0, cidr: "::/0"}
      - {protocol: 0, cidr: 0.0.0.0/0}
      - {protocol: 255, cidr: 0.0.0.0/0}
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::vector<std::string> described;
  for (const Rule& r : policy->security_groups.at("sg-a").ingress) {
    described.push_back(r.Describe(Direction::kIngress));
  }
  EXPECT_THAT(described,
              ElementsAre("tcp all ports from 0.0.0.0/0",
                          "udp all ports from 0.0.0.0/0",
                          "tcp ports 1024-65535 from 0.0.0.0/0",
                          "tcp port 0 from 0.0.0.0/0", "all from ::/0",
                          "tcp port 65535 from 0.0.0.0/0",
                          "udp port 53 from 0.0.0.0/0", "50 from 0.0.0.0/0",
                          "icmpv6 type any code any from ::/0",
                          "icmpv6 type 128 code 0 from ::/0",
                          "0 from 0.0.0.0/0", "255 from 0.0.0.0/0"));
}

TEST(PolicyLoaderTest, SettingsAndInterfaceFields) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
settings:
  max_flows: 1000
  unknown_interface: pass
  revalidate_on_change: true
  max_groups_per_interface: 16
  max_rules_per_group: 200
  timeouts: {tcp_established: 7200, tcp_transitory: 30, udp: 10,
             udp_stream: 120, icmp: 5, other: 300}
interfaces:
  eni-a:
    addresses: [198.51.100.10, "2001:db8::10"]
    vlan: 0
    node: host-a
  eni-b:
    addresses: [198.51.100.10]
    vlan: 4095
  eni-c:
    addresses: [198.51.100.10]
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Settings& s = policy->settings;
  EXPECT_EQ(s.max_flows, 1000u);
  EXPECT_EQ(s.unknown_interface, UnknownInterfaceAction::kPass);
  EXPECT_TRUE(s.revalidate_on_change);
  EXPECT_EQ(s.max_groups_per_interface, 16u);
  EXPECT_EQ(s.max_rules_per_group, 200u);
  EXPECT_EQ(s.timeouts.tcp_established, 7200u);
  EXPECT_EQ(s.timeouts.tcp_transitory, 30u);
  EXPECT_EQ(s.timeouts.udp, 10u);
  EXPECT_EQ(s.timeouts.udp_stream, 120u);
  EXPECT_EQ(s.timeouts.icmp, 5u);
  EXPECT_EQ(s.timeouts.other, 300u);
  // The same address in three address spaces is three interfaces.
  EXPECT_EQ(policy->interfaces.at("eni-a").vlan, 0);
  EXPECT_EQ(policy->interfaces.at("eni-b").vlan, 4095);
  EXPECT_FALSE(policy->interfaces.at("eni-c").vlan.has_value());
}

TEST(PolicyLoaderTest, SettingsDefaultToAws) {
  absl::StatusOr<Policy> policy = LoadPolicyString("version: 1\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Settings& s = policy->settings;
  EXPECT_EQ(s.max_flows, 1048576u);
  EXPECT_EQ(s.unknown_interface, UnknownInterfaceAction::kDrop);
  EXPECT_FALSE(s.revalidate_on_change);
  EXPECT_EQ(s.max_groups_per_interface, 5u);
  EXPECT_EQ(s.max_rules_per_group, 60u);
  EXPECT_EQ(s.timeouts.tcp_established, 432000u);
  EXPECT_EQ(s.timeouts.udp, 30u);
  EXPECT_EQ(s.timeouts.udp_stream, 180u);
}

TEST(PolicyLoaderTest, QuotasCountFamiliesApart) {
  // Two IPv4 and two IPv6 CIDRs, and one group reference (one each): at the
  // limit of 3 per family, not over it.
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
settings: {max_rules_per_group: 3}
security_groups:
  sg-a:
    ingress:
      - {protocol: tcp, cidr: [192.0.2.0/24, "2001:db8::/32"]}
      - {protocol: udp, cidr: [198.51.100.0/24, "2001:db8:1::/48"]}
      - {protocol: all, security_group: sg-a}
)");
  EXPECT_TRUE(policy.ok()) << policy.status();
}

TEST(PolicyLoaderTest, RuleIdsFollowGroupDirectionAndOrder) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
security_groups:
  sg-b:
    ingress: [{protocol: tcp, cidr: 0.0.0.0/0}]
    egress: [{protocol: udp, cidr: 0.0.0.0/0}]
  sg-a:
    ingress:
      - {protocol: tcp, ports: 1, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 2, cidr: 0.0.0.0/0}
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  // default (implicit): ingress[0], egress[0]; then sg-a with its two
  // ingress rules and its default egress rule; then sg-b.
  ASSERT_EQ(policy->rules().size(), 7u);
  EXPECT_EQ(policy->rules()[2].group, "sg-a");
  EXPECT_EQ(policy->rules()[3].index, 1u);
  EXPECT_EQ(policy->rule(3).port_low, 2);
  EXPECT_EQ(policy->rules()[4].direction, Direction::kEgress);
  EXPECT_EQ(policy->rule(4).protocol, kProtocolAll);
  EXPECT_EQ(policy->rules()[6].group, "sg-b");
  EXPECT_EQ(policy->rules()[6].direction, Direction::kEgress);
  for (uint32_t id = 0; id < policy->rules().size(); ++id) {
    EXPECT_EQ(policy->rule(id).id, id);
  }
}

// A key that is not a name is one error, not also "expected a string".
TEST(PolicyLoaderTest, ComplexKeyIsOneError) {
  absl::StatusOr<Policy> policy = LoadPolicyString(
      "version: 1\nsecurity_groups:\n  ? [a]\n  : {}\n");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(Message(policy),
            "policy:3:5: security_groups: expected a key name, found a list");
}

// Each problem is reported once: an entry of the wrong type is not also
// taken for an empty group list.
TEST(PolicyLoaderTest, BadGroupEntryIsOneError) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
interfaces:
  eni-a:
    addresses: [198.51.100.10]
    security_groups: [{name: sg-a}]
)");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(Message(policy),
            "policy:5:23: interfaces.eni-a.security_groups: expected a "
            "string, found a map");
}

TEST(PolicyLoaderTest, QuotaCountsOnlyTheFamilyOverTheLimit) {
  constexpr char kAtLimit[] = R"(version: 1
settings: {max_rules_per_group: 2}
prefix_lists:
  pl: [192.0.2.0/24, 198.51.100.0/24, "2001:db8::/32"]
security_groups:
  sg-a:
    ingress:
      - {protocol: tcp, prefix_list: pl}
      - {protocol: udp, cidr: "2001:db8:1::/48"}
    egress:
      - {protocol: tcp, cidr: [192.0.2.0/24, 198.51.100.0/24]}
)";
  // Two of each family per direction: at the limit, not over it.
  absl::StatusOr<Policy> policy = LoadPolicyString(kAtLimit);
  EXPECT_TRUE(policy.ok()) << policy.status();
  // A third IPv6 ingress rule: one error, for IPv6 ingress only.
  std::string over(kAtLimit);
  over.insert(over.find("    egress:"),
              "      - {protocol: all, cidr: \"::/0\"}\n");
  policy = LoadPolicyString(over);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(Message(policy),
            "policy:6:3: security group sg-a has 3 IPv6 ingress rules (each "
            "CIDR counts, a prefix list as its size); "
            "settings.max_rules_per_group is 2");
}

TEST(PolicyLoaderTest, IcmpWithRemotesOfBothFamiliesIsFine) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
prefix_lists:
  pl-mixed: [198.51.100.0/24, "2001:db8::/32"]
  pl-empty: []
security_groups:
  sg-a:
    ingress:
      - {protocol: icmp, cidr: [198.51.100.0/24, "2001:db8::/32"]}
      - {protocol: icmpv6, prefix_list: pl-mixed}
      - {protocol: icmpv6, prefix_list: pl-empty}
      - {protocol: icmp, security_group: sg-a}
)");
  EXPECT_TRUE(policy.ok()) << policy.status();
}

TEST(PolicyLoaderTest, RulesMayReferenceTheImplicitDefault) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
security_groups:
  sg-a:
    ingress:
      - {protocol: tcp, ports: 22, security_group: default}
interfaces:
  eni-a:
    addresses: [198.51.100.10]
    security_groups: [default, sg-a]
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->security_groups.at("default").implicit);
}

// Odd but well-formed YAML (complex keys, aliases, tags, nulls where maps
// are expected) yields diagnostics, never an exception or a crash.
TEST(PolicyLoaderTest, OddYamlIsRejectedWithoutThrowing) {
  for (const char* yaml : {
           "? [a, b]\n: c\n",
           "version: 1\nsettings: &s {max_flows: *s}\n",
           "version: !!binary aGVsbG8=\n",
           "version: 1\nsecurity_groups:\n  ? {x: 1}\n  : {}\n",
           "version: 1\ninterfaces:\n  eni: ~\n",
           "version: 1\nsecurity_groups:\n  sg: {ingress: [~, 3, [1]]}\n",
           "version: 1\nsecurity_groups:\n  sg: {ingress: [{cidr: {a: b}, "
           "protocol: [tcp]}]}\n",
           "version: [1]\n",
           "just a scalar\n",
           "%YAML 9.9\n---\nversion: 1\n",
       }) {
    SCOPED_TRACE(yaml);
    absl::StatusOr<Policy> policy = LoadPolicyString(yaml);
    EXPECT_FALSE(policy.ok());
    EXPECT_THAT(Message(policy), ::testing::StartsWith("policy"));
  }
}

TEST(FinalizePolicyTest, MaterialisesDefaultsOnPoliciesBuiltInCode) {
  Policy policy;
  SecurityGroup web;
  web.name = "sg-web";  // egress_omitted is true by default
  policy.security_groups["sg-web"] = web;
  Interface eni;
  eni.name = "eni-a";
  eni.addresses = {*ParseIpAddress("198.51.100.10")};
  policy.interfaces["eni-a"] = eni;

  Diagnostics diagnostics;
  FinalizePolicy(policy, diagnostics);
  ASSERT_TRUE(diagnostics.empty()) << diagnostics.ToStatus();
  EXPECT_TRUE(policy.security_groups.at("default").implicit);
  EXPECT_EQ(policy.security_groups.at("sg-web").egress.size(), 1u);
  EXPECT_THAT(policy.interfaces.at("eni-a").security_groups,
              ElementsAre("default"));
  EXPECT_EQ(policy.rules().size(), 3u);

  // Finalising twice adds nothing: the defaults are materialised once.
  FinalizePolicy(policy, diagnostics);
  EXPECT_TRUE(diagnostics.empty());
  EXPECT_EQ(policy.security_groups.at("sg-web").egress.size(), 1u);
  EXPECT_EQ(policy.interfaces.at("eni-a").security_groups.size(), 1u);
  EXPECT_EQ(policy.rules().size(), 3u);
}

TEST(FinalizePolicyTest, ChecksPoliciesBuiltInCode) {
  Policy policy;
  SecurityGroup group;
  group.name = "sg-a";
  Rule rule;
  rule.protocol = kProtocolTcp;
  rule.remote_kind = RemoteKind::kPrefixList;
  rule.remote_name = "pl-nowhere";
  group.ingress.push_back(rule);
  policy.security_groups["sg-a"] = group;

  Diagnostics diagnostics;
  FinalizePolicy(policy, diagnostics);
  ASSERT_EQ(diagnostics.errors().size(), 1u);
  EXPECT_THAT(diagnostics.errors()[0].message,
              HasSubstr("'pl-nowhere' is not defined"));
}

class LoadPolicyFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << text;
    written_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : written_) std::remove(path.c_str());
  }

 private:
  std::vector<std::string> written_;
};

TEST_F(LoadPolicyFileTest, DiagnosticsNameTheFile) {
  std::string path = Write("sgate_loader_bad.yaml",
                           "version: 1\nsettings:\n  max_flows: 0\n");
  absl::StatusOr<Policy> policy = LoadPolicyFile(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(Message(policy),
              ::testing::StartsWith(path + ":3:14: settings.max_flows"));
}

TEST_F(LoadPolicyFileTest, UnreadableAwsJsonIsReportedWithTheYamlErrors) {
  std::string path = Write("sgate_loader_aws.yaml",
                           "version: 1\nsettings:\n  max_flows: 0\n"
                           "interfaces:\n  eni-a:\n"
                           "    addresses: [198.51.100.10]\n"
                           "    security_groups: [sg-0123]\n");
  LoadOptions options;
  options.aws_json_path = "/nonexistent/groups.json";
  absl::StatusOr<Policy> policy = LoadPolicyFile(path, options);
  ASSERT_FALSE(policy.ok());
  // Both problems, and no "sg-0123 is not defined" for the group the
  // missing file would have defined.
  EXPECT_EQ(Message(policy),
            "/nonexistent/groups.json: cannot read: No such file or "
            "directory\n" +
                path + ":3:14: settings.max_flows: 0 is out of range; "
                "expected 1 to 268435456");
}

TEST_F(LoadPolicyFileTest, DirectoryIsNotAPolicy) {
  std::string dir = ::testing::TempDir();
  absl::StatusOr<Policy> policy = LoadPolicyFile(dir);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(Message(policy), HasSubstr(dir + ": cannot read"));
}

}  // namespace
}  // namespace sgate::rules

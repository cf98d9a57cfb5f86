#include "rules/untracked.h"

#include <gtest/gtest.h>

#include "rules/policy_loader.h"

namespace sgate::rules {
namespace {

// sg-open: http from anywhere, and all egress (the AWS default) — http
// flows are untracked. sg-narrow: http from anywhere but egress only to 443
// — tracked. sg-sub: http from a /24 — tracked.
constexpr char kPolicy[] = R"(version: 1
security_groups:
  sg-open:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: udp, ports: 53, cidr: 0.0.0.0/0}
      - {protocol: icmp, cidr: 0.0.0.0/0}
  sg-narrow:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}
    egress:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
  sg-sub:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 198.51.100.0/24}
interfaces:
  eni-open: {addresses: [198.51.100.10, "2001:db8::10"], security_groups: [sg-open]}
  eni-narrow: {addresses: [198.51.100.11], security_groups: [sg-narrow]}
  eni-sub: {addresses: [198.51.100.12], security_groups: [sg-sub]}
)";

uint32_t RuleId(const Policy& p, const std::string& group, uint32_t index) {
  return p.security_groups.at(group).ingress.at(index).id;
}

TEST(UntrackedFlowsTest, AwsDefinition) {
  absl::StatusOr<Policy> policy = LoadPolicyString(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  // Interface ids are positions in this list, as a table's classifier
  // reports them.
  UntrackedFlows u(*policy, {"eni-open", "eni-narrow", "eni-sub"});
  const uint32_t eni_open = 0, eni_narrow = 1, eni_sub = 2;
  const Direction in = Direction::kIngress;
  EXPECT_TRUE(u.IsUntracked(eni_open, in, Family::kIPv4, kProtocolTcp,
                            RuleId(*policy, "sg-open", 0)));
  EXPECT_TRUE(u.IsUntracked(eni_open, in, Family::kIPv6, kProtocolTcp,
                            RuleId(*policy, "sg-open", 0)));
  EXPECT_TRUE(u.IsUntracked(eni_open, in, Family::kIPv4, kProtocolUdp,
                            RuleId(*policy, "sg-open", 1)));
  // ICMP is always tracked.
  EXPECT_FALSE(u.IsUntracked(eni_open, in, Family::kIPv4, kProtocolIcmp,
                             RuleId(*policy, "sg-open", 2)));
  // The other direction allows only one port.
  EXPECT_FALSE(u.IsUntracked(eni_narrow, in, Family::kIPv4, kProtocolTcp,
                             RuleId(*policy, "sg-narrow", 0)));
  // The admitting rule is not open to everyone.
  EXPECT_FALSE(u.IsUntracked(eni_sub, in, Family::kIPv4, kProtocolTcp,
                             RuleId(*policy, "sg-sub", 0)));
  // Egress flows of eni-open: the default egress rule is /0 on all ports
  // and ingress allows tcp 80 only, not all ports: tracked.
  uint32_t egress = policy->security_groups.at("sg-open").egress.at(0).id;
  EXPECT_FALSE(u.IsUntracked(eni_open, Direction::kEgress, Family::kIPv4,
                             kProtocolTcp, egress));
}

}  // namespace
}  // namespace sgate::rules

// Domain rules in the policy: loading (every misuse a located error),
// FinalizePolicy's checks, domain ids, the rule's description, and the
// reference semantics (pending flows, decided by a name).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "rules/policy_loader.h"
#include "rules/reference.h"
#include "tests/support/packet_keys.h"

namespace sgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A group sg-a with the given egress rules (one per line, already indented
// as list items) and an interface eni-a at 198.51.100.10 in it.
std::string WithEgress(const std::string& rules,
                       const std::string& settings = "") {
  return "version: 1\n" + settings +
         "security_groups:\n  sg-a:\n    egress:\n" + rules +
         "interfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
         "    security_groups: [sg-a]\n";
}

struct ErrorCase {
  const char* description;
  std::string yaml;
  int line;
  int column;
  const char* message;
};

TEST(DomainPolicyTest, EveryMisuseIsLocatedAndExplained) {
  const ErrorCase kCases[] = {
      {"domains on ingress",
       "version: 1\nsecurity_groups:\n  sg-a:\n    ingress:\n"
       "      - {protocol: tcp, cidr: 0.0.0.0/0, domains: [a.com]}\n",
       5, 51,
       "security_groups.sg-a.ingress.domains: names are allowed on egress "
       "rules only"},
      {"domains on udp",
       WithEgress(
           "      - {protocol: udp, cidr: 0.0.0.0/0, domains: [a.com]}\n"),
       5, 51,
       "domains: names need protocol tcp (TLS server_name, HTTP Host); "
       "this rule's protocol is udp"},
      {"domains on all",
       WithEgress("      - {protocol: all, cidr: 0.0.0.0/0, domains: a.com}\n"),
       5, 51, "this rule's protocol is all"},
      {"empty list",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0, domains: []}\n"), 5,
       51,
       "security_groups.sg-a.egress[0].domains: expected at least one "
       "name"},
      {"not a list of names",
       WithEgress(
           "      - {protocol: tcp, cidr: 0.0.0.0/0, domains: {a: b}}\n"),
       5, 51, "domains: expected a string or a list"},
      {"empty label",
       WithEgress(
           "      - {protocol: tcp, cidr: 0.0.0.0/0, domains: [a..com]}\n"),
       5, 52,
       "domains: 'a..com' is not a domain name: it has an empty label; "
       "expected a name such as api.github.com or *.example.com"},
      {"bad character",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0,\n"
                  "         domains: [ok.com, \"a_b.com\"]}\n"),
       6, 28,
       "'a_b.com' is not a domain name: it has '_', outside the host "
       "name characters"},
      {"star inside",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0, "
                  "domains: [\"a.*.com\"]}\n"),
       5, 52, "'*' is allowed only as a whole leading label"},
      {"idn",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0, "
                  "domains: [bücher.de]}\n"),
       5, 52, "write an internationalised name in punycode"},
      {"listed twice",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0, "
                  "domains: [a.com, A.COM.]}\n"),
       5, 59, "'A.COM.' is listed twice (as a.com)"},
      {"domain_reject value",
       WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0}\n",
                  "settings:\n  domain_reject: reset\n"),
       3, 18,
       "settings.domain_reject: 'reset' is not an action; expected rst "
       "or drop"},
  };
  for (const ErrorCase& c : kCases) {
    absl::StatusOr<Policy> policy = LoadPolicyString(c.yaml);
    ASSERT_FALSE(policy.ok()) << c.description;
    std::string want = "policy:" + std::to_string(c.line) + ":" +
                       std::to_string(c.column) + ": ";
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(c.message))
        << c.description;
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(want))
        << c.description << ": " << policy.status().message();
  }
}

TEST(DomainPolicyTest, RulesBuiltInCodeAreCheckedToo) {
  Policy policy;
  SecurityGroup& g = policy.security_groups["sg-a"];
  g.name = "sg-a";
  Rule rule;
  rule.protocol = kProtocolTcp;
  rule.cidrs = {*ParseCidr("0.0.0.0/0")};
  rule.domains = {"a.com"};
  g.ingress.push_back(rule);
  Diagnostics diagnostics;
  FinalizePolicy(policy, diagnostics);
  ASSERT_EQ(diagnostics.errors().size(), 1u);
  EXPECT_THAT(diagnostics.errors()[0].message,
              HasSubstr("names are allowed on egress rules only"));
}

TEST(DomainPolicyTest, NamesAreNormalisedAndNumbered) {
  absl::StatusOr<Policy> policy = LoadPolicyString(WithEgress(
      "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0,\n"
      "         domains: [API.GitHub.com., \"*.AmazonAWS.com\", pypi.org]}\n"
      "      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}\n"
      "      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0,"
      " domains: deb.debian.org}\n",
      "settings:\n  domain_reject: drop\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->settings.domain_reject, DomainReject::kDrop);
  const SecurityGroup& g = policy->security_groups.at("sg-a");
  EXPECT_THAT(g.egress[0].domains,
              ElementsAre("api.github.com", "*.amazonaws.com", "pypi.org"));
  EXPECT_EQ(g.egress[0].domain_locations[1].line, 8);
  EXPECT_EQ(g.egress[0].domain_locations[1].column, 37);
  EXPECT_FALSE(g.egress[1].has_domains());
  EXPECT_THAT(g.egress[2].domains, ElementsAre("deb.debian.org"));
  // Domain ids run over the rules in id order.
  EXPECT_THAT(policy->domain_rules(),
              ElementsAre(g.egress[0].id, g.egress[0].id, g.egress[0].id,
                          g.egress[2].id));
  EXPECT_EQ(g.egress[2].first_domain_id, 3u);
  EXPECT_EQ(policy->domain(1), "*.amazonaws.com");
  EXPECT_EQ(policy->domain(3), "deb.debian.org");
  EXPECT_EQ(g.egress[0].Describe(Direction::kEgress),
            "tcp port 443 to 0.0.0.0/0 domains api.github.com,"
            "*.amazonaws.com,pypi.org");
}

TEST(DomainPolicyTest, DefaultRejectIsRst) {
  absl::StatusOr<Policy> policy = LoadPolicyString(
      WithEgress("      - {protocol: tcp, cidr: 0.0.0.0/0, domains: a.com}\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->settings.domain_reject, DomainReject::kRst);
}

TEST(DomainPolicyTest, DescriptionShortensLongLists) {
  Rule rule;
  rule.protocol = kProtocolTcp;
  rule.cidrs = {*ParseCidr("0.0.0.0/0")};
  for (int i = 0; i < 8; ++i) rule.domains.push_back("d" + std::to_string(i));
  EXPECT_EQ(rule.Describe(Direction::kEgress),
            "tcp all ports to 0.0.0.0/0 domains d0,d1,d2,d3,d4 (+3 more)");
}

class DomainReferenceTest : public ::testing::Test {
 protected:
  // sg-a: https by name to anywhere, ssh by address to 203.0.113.0/24,
  // http by name to one prefix; sg-b adds another name for https.
  DomainReferenceTest()
      : policy_(*LoadPolicyString(
            "version: 1\nsecurity_groups:\n"
            "  sg-a:\n    egress:\n"
            "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0,"
            " domains: [api.github.com, \"*.amazonaws.com\"]}\n"
            "      - {protocol: tcp, ports: 22, cidr: 203.0.113.0/24}\n"
            "      - {protocol: tcp, ports: 80, cidr: 192.0.2.0/24,"
            " domains: [deb.debian.org]}\n"
            "  sg-b:\n    egress:\n"
            "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0,"
            " domains: [pypi.org]}\n"
            "      - {protocol: tcp, ports: 443, cidr: 203.0.113.9/32}\n"
            "interfaces:\n"
            "  eni-a: {addresses: [198.51.100.10], security_groups: [sg-a]}\n"
            "  eni-ab: {addresses: [198.51.100.11],"
            " security_groups: [sg-a, sg-b]}\n")),
        reference_(policy_) {}

  static PacketKey Out(const char* local, const char* remote, uint16_t port,
                       uint8_t protocol = kProtocolTcp) {
    return testing::EgressKey(local, remote, port, protocol);
  }
  uint32_t Id(const char* group, uint32_t index) const {
    return policy_.security_groups.at(group).egress.at(index).id;
  }

  Policy policy_;
  Reference reference_;
};

TEST_F(DomainReferenceTest, OnlyNamedRulesLeaveTheFlowPending) {
  Verdict v = reference_.Evaluate(Out("198.51.100.10", "192.0.2.1", 443));
  EXPECT_EQ(v.decision, Decision::kPendingName);
  EXPECT_FALSE(v.allowed);
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-a", 0)));
  // Both groups' https rules may decide on eni-ab.
  v = reference_.Evaluate(Out("198.51.100.11", "192.0.2.1", 443));
  EXPECT_EQ(v.decision, Decision::kPendingName);
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-a", 0), Id("sg-b", 0)));
  // Outside the named rule's prefix: no rule.
  EXPECT_EQ(
      reference_.Evaluate(Out("198.51.100.10", "198.51.100.1", 80)).decision,
      Decision::kNoRuleMatched);
  // udp 443 is not what the rule names.
  EXPECT_EQ(
      reference_.Evaluate(Out("198.51.100.10", "192.0.2.1", 443, kProtocolUdp))
          .decision,
      Decision::kNoRuleMatched);
}

TEST_F(DomainReferenceTest, ARuleWithoutNamesWins) {
  // Union: the address rule of sg-b allows 203.0.113.9:443 outright.
  Verdict v = reference_.Evaluate(Out("198.51.100.11", "203.0.113.9", 443));
  EXPECT_EQ(v.decision, Decision::kAllowedByRule);
  EXPECT_TRUE(v.allowed);
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-b", 1)));
  // A name changes nothing then.
  EXPECT_EQ(reference_
                .EvaluateNamed(Out("198.51.100.11", "203.0.113.9", 443),
                               "evil.example")
                .decision,
            Decision::kAllowedByRule);
}

TEST_F(DomainReferenceTest, TheNameDecides) {
  PacketKey https = Out("198.51.100.11", "192.0.2.1", 443);
  Verdict v = reference_.EvaluateNamed(https, "s3.amazonaws.com");
  EXPECT_EQ(v.decision, Decision::kAllowedByRule);
  EXPECT_TRUE(v.allowed);
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-a", 0)));
  EXPECT_THAT(v.matching_domains, ElementsAre(1u));
  v = reference_.EvaluateNamed(https, "pypi.org");
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-b", 0)));
  EXPECT_THAT(
      v.matching_domains,
      ElementsAre(
          policy_.security_groups.at("sg-b").egress[0].first_domain_id));
  // A name of the other port's rule does not count.
  v = reference_.EvaluateNamed(https, "deb.debian.org");
  EXPECT_EQ(v.decision, Decision::kNameNotAllowed);
  EXPECT_FALSE(v.allowed);
  EXPECT_THAT(v.matching_rules, ElementsAre(Id("sg-a", 0), Id("sg-b", 0)));
  EXPECT_EQ(reference_.EvaluateNamed(https, "amazonaws.com").decision,
            Decision::kNameNotAllowed);
  // No name, or one that is no host name.
  EXPECT_EQ(reference_.EvaluateNamed(https, "").decision,
            Decision::kNameNotAllowed);
  EXPECT_EQ(reference_.EvaluateNamed(https, "a b.amazonaws.com").decision,
            Decision::kNameNotAllowed);
  // pypi.org is sg-b's: eni-a does not have it.
  EXPECT_EQ(
      reference_
          .EvaluateNamed(Out("198.51.100.10", "192.0.2.1", 443), "pypi.org")
          .decision,
      Decision::kNameNotAllowed);
}

}  // namespace
}  // namespace sgate::rules

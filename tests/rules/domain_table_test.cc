// DomainTable (Hyperscan) on hand-made cases; the property test
// (classifier_property_test.cc) holds it to the reference on random ones.
#include "rules/domain_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hs/hs.h>

#include "rules/domain_name.h"
#include "rules/policy_loader.h"
#include "tests/support/packet_keys.h"

namespace sgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DomainTableTest, LiteralsMatchTheNameBackwardsAndFramed) {
  EXPECT_EQ(internal::NamePattern("api.github.com"), "\x01moc.buhtig.ipa\x02");
  EXPECT_EQ(internal::NamePattern("*.amazonaws.com"), "\x01moc.swanozama.");
}

TEST(DomainTableTest, ALiteralHyperscanRefusesIsALocatedError) {
  // Valid names give Hyperscan nothing to refuse: a flag it refuses on
  // literals stands in.
  absl::StatusOr<hs_database*> db = internal::CompileNamePatterns(
      {"\x01elpmaxe.ko\x02", "\x01elpmaxe.dab\x02"},
      {"ok.example", "bad.example"},
      {{"policy.yaml", 3, 7}, {"policy.yaml", 9, 14}}, HS_FLAG_UTF8);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(std::string(db.status().message()),
              HasSubstr("policy.yaml:3:7: domains: Hyperscan refuses "
                        "'ok.example': Only HS_FLAG_CASELESS"));
  absl::StatusOr<hs_database*> good = internal::CompileNamePatterns(
      {"\x01elpmaxe.ko\x02"}, {"ok.example"}, {{"policy.yaml", 3, 7}});
  ASSERT_TRUE(good.ok());
  hs_free_database(*good);
}

class DomainTableMatchTest : public ::testing::Test {
 protected:
  // sg-a: https by name to anywhere (two names), http by name to a prefix
  // list; sg-b: one name to the members of sg-a; eni-b lives on host-b.
  DomainTableMatchTest() : policy_(*LoadPolicyString(Yaml())) {}
  static std::string Yaml() {
    return "version: 1\n"
            "prefix_lists: {pl-mirror: [192.0.2.0/24]}\n"
            "security_groups:\n"
            "  sg-a:\n    egress:\n"
            "      - {protocol: tcp, ports: 443, cidr: [0.0.0.0/0, \"::/0\"],"
            " domains: [api.github.com, \"*.amazonaws.com\"]}\n"
            "      - {protocol: tcp, ports: 80-81, prefix_list: pl-mirror,"
            " domains: [deb.debian.org, api.github.com]}\n"
            "  sg-b:\n    egress:\n"
            "      - {protocol: tcp, ports: 8443, security_group: sg-a,"
            " domains: [\"*.internal.example\"]}\n"
            "interfaces:\n"
            "  eni-a: {addresses: [198.51.100.10, \"2001:db8::10\"],"
            " security_groups: [sg-a]}\n"
            "  eni-ab: {addresses: [198.51.100.11], vlan: 7,"
            " security_groups: [sg-a, sg-b]}\n"
            "  eni-b: {addresses: [198.51.100.12], node: host-b,"
            " security_groups: [sg-b]}\n";
  }

  static PacketKey Out(const char* local, const char* remote, uint16_t port,
                       std::optional<uint16_t> vlan = std::nullopt) {
    return testing::EgressKey(local, remote, port, kProtocolTcp, vlan);
  }
  uint32_t Id(const char* group) const {
    return policy_.security_groups.at(group).egress[0].id;
  }

  Policy policy_;
};

TEST_F(DomainTableMatchTest, NamesOfTheInterfacesRules) {
  auto table = DomainTable::Build(policy_, "", /*workers=*/2);
  ASSERT_TRUE(table.ok()) << table.status();
  const DomainTable& t = **table;
  // eni-b is not enforced here: sg-b's rule is, through eni-ab.
  EXPECT_EQ(t.stats().rules, 3u);
  EXPECT_EQ(t.stats().domains, 5u);
  EXPECT_EQ(t.stats().patterns, 4u);  // api.github.com twice
  EXPECT_GT(t.stats().database_bytes, 0u);
  PacketKey https = Out("198.51.100.10", "203.0.113.9", 443);
  NameMatch m = t.Match(https, "s3.amazonaws.com", 0);
  EXPECT_TRUE(m.allowed);
  EXPECT_EQ(m.rule_id, Id("sg-a"));
  EXPECT_EQ(policy_.domain(m.domain_id), "*.amazonaws.com");
  // Every scratch (two workers, the control thread) answers alike.
  for (uint32_t scratch : {1u, 2u}) {
    EXPECT_TRUE(t.Match(https, "api.github.com", scratch).allowed);
  }
  EXPECT_FALSE(t.Match(https, "amazonaws.com", 0).allowed);
  EXPECT_FALSE(t.Match(https, "deb.debian.org", 0).allowed);  // port 80's
  EXPECT_FALSE(t.Match(https, "API.github.com", 0).allowed);  // not lowered
  EXPECT_FALSE(t.Match(https, "a..amazonaws.com", 0).allowed);
  // The dataplane's entry, for names it made host names already, answers
  // as Match does on them.
  for (absl::string_view name : {"s3.amazonaws.com", "api.github.com",
                                 "amazonaws.com", "deb.debian.org"}) {
    NameMatch checked = t.Match(https, name, 0);
    NameMatch unchecked = t.MatchHostName(https, name, 0);
    EXPECT_EQ(unchecked.allowed, checked.allowed) << name;
    EXPECT_EQ(unchecked.rule_id, checked.rule_id) << name;
    EXPECT_EQ(unchecked.domain_id, checked.domain_id) << name;
  }
  const std::string too_long(kMaxHostNameLength + 1, 'a');
  EXPECT_FALSE(t.MatchHostName(https, too_long, 0).allowed);
  // IPv6, the same rule.
  EXPECT_TRUE(
      t.Match(Out("2001:db8::10", "2001:db8:9::1", 443), "api.github.com", 0)
          .allowed);
  // The prefix list bounds the http rule.
  EXPECT_TRUE(
      t.Match(Out("198.51.100.10", "192.0.2.7", 81), "deb.debian.org", 0)
          .allowed);
  NameMatch both =
      t.Match(Out("198.51.100.10", "192.0.2.7", 80), "api.github.com", 0);
  EXPECT_TRUE(both.allowed);
  EXPECT_EQ(policy_.domain(both.domain_id), "api.github.com");
  EXPECT_FALSE(
      t.Match(Out("198.51.100.10", "203.0.113.9", 80), "deb.debian.org", 0)
          .allowed);
  // sg-b's rule: eni-ab (VLAN 7) to a member of sg-a only.
  PacketKey internal = Out("198.51.100.11", "198.51.100.10", 8443, 7);
  EXPECT_TRUE(t.Match(internal, "x.internal.example", 0).allowed);
  EXPECT_FALSE(t.Match(Out("198.51.100.11", "198.51.100.10", 8443),
                       "x.internal.example", 0)
                   .allowed);  // untagged: no such interface
  EXPECT_FALSE(t.Match(Out("198.51.100.11", "203.0.113.9", 8443, 7),
                       "x.internal.example", 0)
                   .allowed);
  // eni-a does not have sg-b.
  EXPECT_FALSE(t.Match(Out("198.51.100.10", "198.51.100.11", 8443),
                       "x.internal.example", 0)
                   .allowed);
  // Not egress tcp: nothing.
  PacketKey udp = https;
  udp.protocol = kProtocolUdp;
  EXPECT_FALSE(t.Match(udp, "api.github.com", 0).allowed);
  EXPECT_THAT(t.RulesAllowing(Out("198.51.100.11", "192.0.2.7", 80, 7)),
              ElementsAre(policy_.security_groups.at("sg-a").egress[1].id));
}

TEST_F(DomainTableMatchTest, NodesEnforceTheirOwn) {
  auto table = DomainTable::Build(policy_, "host-b", 1);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE((*table)
                  ->Match(Out("198.51.100.12", "198.51.100.10", 8443),
                          "a.internal.example", 0)
                  .allowed);
}

// A reload that keeps the names shares the live table's database (and
// outlives it); one that changes a name compiles its own.
TEST_F(DomainTableMatchTest, TheSameNamesShareTheDatabase) {
  auto first = DomainTable::Build(policy_, "", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE((*first)->stats().database_shared);
  std::string moved = Yaml();
  moved.replace(moved.find("198.51.100.10"), 13, "198.51.100.20");
  auto second = DomainTable::Build(*LoadPolicyString(moved), "", 1,
                                   first->get());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE((*second)->stats().database_shared);
  first->reset();  // the old generation goes; its database stays
  PacketKey https = Out("198.51.100.20", "203.0.113.9", 443);
  EXPECT_TRUE((*second)->Match(https, "s3.amazonaws.com", 0).allowed);
  EXPECT_TRUE((*second)->Match(https, "api.github.com", 1).allowed);
  EXPECT_FALSE((*second)->Match(https, "deb.debian.org", 0).allowed);

  std::string renamed = moved;
  renamed.replace(renamed.find("deb.debian.org"), 14, "ftp.debian.org");
  auto third = DomainTable::Build(*LoadPolicyString(renamed), "", 1,
                                  second->get());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE((*third)->stats().database_shared);
  PacketKey mirror = Out("198.51.100.20", "192.0.2.7", 80);
  EXPECT_TRUE((*third)->Match(mirror, "ftp.debian.org", 0).allowed);
  EXPECT_FALSE((*third)->Match(mirror, "deb.debian.org", 0).allowed);
}

TEST(DomainTableTest, APolicyWithoutDomainsHasNoDatabase) {
  Policy policy = *LoadPolicyString(
      "version: 1\ninterfaces:\n  eni-a: {addresses: [198.51.100.10]}\n");
  auto table = DomainTable::Build(policy, "", 1);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->stats().patterns, 0u);
  PacketKey k;
  k.direction = Direction::kEgress;
  k.local = *ParseIpAddress("198.51.100.10");
  k.protocol = kProtocolTcp;
  EXPECT_FALSE((*table)->Match(k, "api.github.com", 0).allowed);
}

}  // namespace
}  // namespace sgate::rules

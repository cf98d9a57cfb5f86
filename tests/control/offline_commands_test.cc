#include "control/offline_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace sgate::control {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string SourcePath(const std::string& relative) {
  const char* root = std::getenv("SGATE_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/" + relative;
}

struct CommandResult {
  int status;
  std::string out;
  std::string err;
};

CommandResult Check(std::vector<std::string> args) {
  std::ostringstream out, err;
  int status = RunCheck(args, out, err);
  return {status, out.str(), err.str()};
}

CommandResult Trace(std::vector<std::string> args) {
  std::ostringstream out, err;
  int status = RunTrace(args, out, err);
  return {status, out.str(), err.str()};
}

TEST(CheckCommandTest, AcceptsEveryExamplePolicy) {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(SourcePath("examples"))) {
    if (entry.path().extension() != ".yaml") continue;
    std::vector<std::string> args = {entry.path().string()};
    // An AWS example's YAML lists interfaces for the groups in its JSON.
    std::filesystem::path json =
        entry.path().parent_path() / "describe-security-groups.json";
    if (entry.path().parent_path().filename() == "aws" &&
        entry.path().filename() == "interfaces.yaml") {
      args.push_back("--aws-json");
      args.push_back(json.string());
    }
    CommandResult run = Check(args);
    EXPECT_EQ(run.status, 0) << entry.path() << "\n" << run.err;
    EXPECT_THAT(run.out, HasSubstr(": OK")) << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(CheckCommandTest, SummarisesWebTier) {
  CommandResult run = Check({SourcePath("examples/web-tier.yaml")});
  ASSERT_EQ(run.status, 0) << run.err;
  // sg-lb, sg-web, sg-db and the implicit default group.
  EXPECT_THAT(run.out, HasSubstr("security groups: 4 (1 implicit)"));
  EXPECT_THAT(run.out, HasSubstr("interfaces:      5 (4 enforced"));
  // Ingress: sg-lb 1 + sg-web 4 + sg-db 1 + default 1. The sg-db rule
  // expands to the two web members' IPv4 addresses only... and their IPv6
  // ones: 2 + 2; see the JSON test for exact expanded counts.
  EXPECT_THAT(run.out, HasSubstr("ingress rules:   7"));
}

TEST(CheckCommandTest, JsonSummaryCountsExpandedEntries) {
  CommandResult run = Check({SourcePath("examples/web-tier.yaml"), "--json"});
  ASSERT_EQ(run.status, 0) << run.err;
  // Ingress IPv4 entries: sg-lb 0.0.0.0/0 (1); sg-web: sg-lb member
  // 192.0.2.7 (1), pl-corp v4 (1), icmp 198.51.100.0/24 (1); sg-db: sg-web
  // members 198.51.100.10/.11 (2); default: member 198.51.100.30 (1) = 7.
  // Ingress IPv6: ::/0 (1), pl-corp v6 (1), icmpv6 (1), sg-db's sg-web
  // members 2001:db8::10/::11 (2) = 5.
  EXPECT_THAT(run.out,
              HasSubstr(R"("ingress":{"rules":7,"expanded_ipv4":7,)"
                        R"("expanded_ipv6":5})"));
  EXPECT_THAT(run.out, StartsWith("{\"file\":"));
}

TEST(CheckCommandTest, NodeChangesWhatIsEnforced) {
  CommandResult run = Check({SourcePath("examples/web-tier.yaml"), "--node", "host-b"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("5 enforced on node host-b"));
}

TEST(CheckCommandTest, RejectsBrokenFileWithEveryErrorLocated) {
  std::string path = SourcePath("tests/control/data/broken.yaml");
  CommandResult run = Check({path});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.out, IsEmpty());
  EXPECT_THAT(run.err, AllOf(HasSubstr(path + ":3:"),    // drop | pass
                             HasSubstr(path + ":8:"),    // port 70000
                             HasSubstr(path + ":9:"),    // host bits
                             HasSubstr("198.51.100.0/24"),
                             HasSubstr(path + ":11:"),   // ports on icmp
                             HasSubstr(path + ":15:"),   // undefined group
                             HasSubstr("sg-missing"),
                             HasSubstr(path + ":20:"),   // unknown key
                             HasSubstr("colour"),
                             HasSubstr("rejected, 6 errors")));
}

TEST(CheckCommandTest, MissingFileIsAnError) {
  CommandResult run = Check({"/nonexistent/policy.yaml"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.err, HasSubstr("/nonexistent/policy.yaml"));
}

TEST(CheckCommandTest, UsageErrors) {
  EXPECT_EQ(Check({}).status, 1);
  EXPECT_EQ(Check({"a.yaml", "b.yaml"}).status, 1);
  CommandResult run = Check({"a.yaml", "--frobnicate"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.err, HasSubstr("unknown option --frobnicate"));
  EXPECT_THAT(Check({"a.yaml", "--node"}).err, HasSubstr("needs a value"));
}

TEST(TraceCommandTest, AllowNamesTheRuleAndItsLocation) {
  std::string path = SourcePath("examples/web-tier.yaml");
  CommandResult run = Trace({path, "--in", "198.51.100.10", "203.0.113.9", "tcp", "22"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("interface: eni-web-1 (groups sg-web)"));
  EXPECT_THAT(run.out, HasSubstr("verdict:   ALLOW, by 1 rule"));
  EXPECT_THAT(run.out, HasSubstr("sg-web ingress[1]: tcp port 22 from "
                                 "prefix list pl-corp \"ssh from the office\""));
  EXPECT_THAT(run.out, HasSubstr("web-tier.yaml:"));
}

TEST(TraceCommandTest, DenyExitsThree) {
  std::string path = SourcePath("examples/web-tier.yaml");
  // SSH from outside pl-corp.
  CommandResult run = Trace({path, "--in", "198.51.100.10", "192.0.2.99", "tcp", "22"});
  EXPECT_EQ(run.status, kExitDenied);
  EXPECT_THAT(run.out, HasSubstr("verdict:   DENY"));
  // The database starts no connections (egress: []).
  run = Trace({path, "--out", "198.51.100.20", "198.51.100.10", "tcp", "80"});
  EXPECT_EQ(run.status, kExitDenied);
}

TEST(TraceCommandTest, ReferencedGroupMemberOnAnotherNode) {
  std::string path = SourcePath("examples/web-tier.yaml");
  // 192.0.2.7 is eni-lb-1 on host-b, a member of sg-lb.
  CommandResult run =
      Trace({path, "--in", "198.51.100.11", "192.0.2.7", "tcp", "8080"});
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("from group sg-lb"));
  // ...but eni-lb-1 itself is not enforced here without --node host-b.
  run = Trace({path, "--in", "192.0.2.7", "203.0.113.1", "tcp", "443"});
  EXPECT_EQ(run.status, kExitDenied);
  EXPECT_THAT(run.out, HasSubstr("interface: none owns 192.0.2.7"));
  run = Trace({path, "--in", "192.0.2.7", "203.0.113.1", "tcp", "443",
               "--node", "host-b"});
  EXPECT_EQ(run.status, 0) << run.out;
}

TEST(TraceCommandTest, IcmpTypeAndCode) {
  std::string path = SourcePath("examples/web-tier.yaml");
  EXPECT_EQ(Trace({path, "--in", "198.51.100.10", "198.51.100.99", "icmp",
                   "8/0"}).status, 0);
  EXPECT_EQ(Trace({path, "--in", "198.51.100.10", "198.51.100.99", "icmp",
                   "13"}).status, kExitDenied);
  EXPECT_EQ(Trace({path, "--in", "2001:db8::10", "2001:db8::99", "icmpv6",
                   "128/0"}).status, 0);
}

TEST(TraceCommandTest, JsonOutput) {
  std::string path = SourcePath("examples/web-tier.yaml");
  CommandResult run = Trace({path, "--in", "198.51.100.10", "203.0.113.9", "tcp", "22",
                   "--json"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(R"("verdict":"allow")"));
  EXPECT_THAT(run.out, HasSubstr(R"("decision":"allowed_by_rule")"));
  EXPECT_THAT(run.out, HasSubstr(R"("interface":"eni-web-1")"));
  EXPECT_THAT(run.out, HasSubstr(R"("group":"sg-web","direction":"ingress",)"
                                 R"("index":1)"));
}

TEST(TraceCommandTest, BadPacketsAreUsageErrors) {
  std::string path = SourcePath("examples/web-tier.yaml");
  EXPECT_EQ(Trace({path, "198.51.100.10", "203.0.113.9", "tcp", "22"}).status,
            1);  // no direction
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "2001:db8::1", "tcp", "22"}).err,
      HasSubstr("same address family"));
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "203.0.113.9", "tcp"}).err,
      HasSubstr("needs a destination PORT"));
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "203.0.113.9", "tcp", "65536"})
          .err,
      HasSubstr("needs a destination PORT"));
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "203.0.113.9", "gre", "1"}).err,
      HasSubstr("PROTO must be"));
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "203.0.113.9", "47", "1"}).err,
      HasSubstr("has no ports"));
  EXPECT_THAT(
      Trace({path, "--in", "198.51.100.10", "203.0.113.9", "icmp", "8/256"})
          .err,
      HasSubstr("TYPE/CODE"));
  CommandResult ok = Trace({path, "--in", "198.51.100.10", "203.0.113.9", "47"});
  EXPECT_EQ(ok.status, kExitDenied) << ok.err;
  EXPECT_THAT(ok.err, Not(HasSubstr("sgatectl")));
}

TEST(TraceCommandTest, DomainRulesLeaveAFlowPendingUntilANameDecides) {
  const std::string policy = SourcePath("examples/domains.yaml");
  CommandResult pending = Trace({policy, "--out", "198.51.100.20",
                                 "192.0.2.1", "tcp", "443"});
  EXPECT_EQ(pending.status, kExitPending);
  EXPECT_THAT(pending.out, HasSubstr("verdict:   PENDING"));
  EXPECT_THAT(pending.out, HasSubstr("domains api.github.com,*.amazonaws.com"));
  CommandResult allowed =
      Trace({policy, "--out", "198.51.100.20", "192.0.2.1", "tcp", "443",
             "--name", "s3.amazonaws.com"});
  EXPECT_EQ(allowed.status, 0);
  EXPECT_THAT(allowed.out,
              HasSubstr("ALLOW, by 1 rule (the name 's3.amazonaws.com' as "
                        "*.amazonaws.com)"));
  CommandResult denied =
      Trace({policy, "--out", "198.51.100.20", "192.0.2.1", "tcp", "80",
             "--name", "pypi.org", "--json"});
  EXPECT_EQ(denied.status, kExitDenied);
  EXPECT_THAT(denied.out, HasSubstr("\"decision\":\"name_not_allowed\""));
}

TEST(CheckCommandTest, SummaryCountsDomainRules) {
  CommandResult run = Check({SourcePath("examples/domains.yaml")});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("domain rules:    2 egress, 4 names"));
  CommandResult json = Check({SourcePath("examples/domains.yaml"), "--json"});
  EXPECT_THAT(json.out, HasSubstr("\"domain_rules\":2,\"domains\":4"));
}

}  // namespace
}  // namespace sgate::control

// sgatectl check --compile: builds the dataplane's table in-process (EAL),
// hence the eal suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "control/offline_commands.h"

namespace sgate::control {
namespace {

using ::testing::HasSubstr;

std::string SourcePath(const std::string& relative) {
  const char* root = std::getenv("SGATE_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/" + relative;
}

TEST(CheckCompileTest, PrintsTheCompiledSizes) {
  std::ostringstream out, err;
  ASSERT_EQ(RunCheck({SourcePath("examples/web-tier.yaml"), "--compile"}, out,
                     err),
            0)
      << err.str();
  // The rule side holds every group's rules once, whoever uses them:
  // IPv4 ingress are sg-lb's 443 from 0.0.0.0/0, sg-web's 8080 from sg-lb
  // (a reference), 22 from pl-corp's IPv4 entry and icmp from
  // 198.51.100.0/24, sg-db's 5432 from sg-web and default's "from members
  // of default": 6 rules in 4 lanes (sg-lb, sg-web, sg-db, default).
  EXPECT_THAT(out.str(), HasSubstr("IPv4 ingress   6 rules in 4 lanes: 4 "
                                   "scanned (6 rules), 0 in rte_acl"));
  EXPECT_THAT(out.str(), HasSubstr("4 groups (3 referenced)"));
  // eni-web-1/2 (sg-web), eni-db-1 (sg-db), eni-ops-1 (default): each one
  // IPv4 ingress lane.
  EXPECT_THAT(out.str(), HasSubstr("keys per packet: IPv4 ingress 1.00"));
  EXPECT_THAT(out.str(), HasSubstr("peak RSS "));
  EXPECT_THAT(out.str(), HasSubstr(" ms, "));

  std::ostringstream json, json_err;
  ASSERT_EQ(RunCheck({SourcePath("examples/web-tier.yaml"), "--compile",
                      "--json"},
                     json, json_err),
            0);
  EXPECT_THAT(json.str(), HasSubstr(R"("acl_rules_ipv4_ingress":6)"));
  EXPECT_THAT(json.str(), HasSubstr(R"("acl_lanes_ipv4_ingress":4)"));
}

}  // namespace
}  // namespace sgate::control

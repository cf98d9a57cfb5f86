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
  // sg-lb 443 from 0.0.0.0/0; sg-web 8080 from sg-lb's class, 22 from
  // pl-corp's IPv4 entry, icmp from 198.51.100.0/24; sg-db 5432 from
  // sg-web's class; default from its class: 5 IPv4 ingress entries over
  // three group sets (sg-web, sg-db, default; sg-lb lives on host-b).
  EXPECT_THAT(out.str(), HasSubstr("acl rules:       IPv4 ingress 5, egress 2"));
  EXPECT_THAT(out.str(), HasSubstr("group sets:      3"));
  EXPECT_THAT(out.str(), HasSubstr(" ms, "));

  std::ostringstream json, json_err;
  ASSERT_EQ(RunCheck({SourcePath("examples/web-tier.yaml"), "--compile",
                      "--json"},
                     json, json_err),
            0);
  EXPECT_THAT(json.str(), HasSubstr(R"("acl_rules_ipv4_ingress":5)"));
}

}  // namespace
}  // namespace sgate::control

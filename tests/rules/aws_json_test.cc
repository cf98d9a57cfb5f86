#include "rules/aws_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/policy_loader.h"

namespace sgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string SourcePath(const std::string& relative) {
  const char* root = std::getenv("SGATE_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/" + relative;
}

// A policy as the semantics see it: per group and direction, the sorted
// rule descriptions; per interface, addresses, groups and node.
std::vector<std::string> Canonical(const Policy& policy) {
  std::vector<std::string> lines;
  for (const auto& [name, group] : policy.security_groups) {
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      std::vector<std::string> rules;
      for (const Rule& r : group.rules(d)) {
        rules.push_back(absl::StrCat(r.Describe(d), " \"", r.description,
                                     "\""));
      }
      std::sort(rules.begin(), rules.end());
      for (const std::string& r : rules) {
        lines.push_back(absl::StrCat(name, " ", DirectionName(d), ": ", r));
      }
    }
  }
  for (const auto& [name, interface] : policy.interfaces) {
    lines.push_back(absl::StrCat(
        name, " ",
        absl::StrJoin(interface.addresses, ",",
                      [](std::string* out, const IpAddress& a) {
                        out->append(a.ToString());
                      }),
        " groups ", absl::StrJoin(interface.security_groups, ","), " node ",
        interface.node.value_or("-")));
  }
  return lines;
}

TEST(AwsJsonTest, ExampleEqualsItsYamlEquivalent) {
  absl::StatusOr<Policy> from_aws = LoadPolicyFile(
      SourcePath("examples/aws/interfaces.yaml"),
      {.aws_json_path =
           SourcePath("examples/aws/describe-security-groups.json")});
  ASSERT_TRUE(from_aws.ok()) << from_aws.status();
  absl::StatusOr<Policy> from_yaml =
      LoadPolicyFile(SourcePath("examples/aws/equivalent.yaml"));
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  std::vector<std::string> aws = Canonical(*from_aws);
  EXPECT_EQ(aws, Canonical(*from_yaml));
  EXPECT_GE(aws.size(), 20u);  // the comparison is not vacuous
}

// Parses `groups_json` (the SecurityGroups array) into a fresh policy.
struct Parsed {
  Policy policy;
  Diagnostics diagnostics;
  std::string errors() const {
    return std::string(diagnostics.ToStatus().message());
  }
};
Parsed Parse(const std::string& groups_json) {
  Parsed p;
  ParseAwsSecurityGroups(absl::StrCat("{\"SecurityGroups\": ", groups_json,
                                      "}"),
                         "aws.json", p.policy, p.diagnostics);
  return p;
}

std::vector<std::string> Described(const Parsed& p, const std::string& group,
                                   Direction d) {
  std::vector<std::string> out;
  for (const Rule& r : p.policy.security_groups.at(group).rules(d)) {
    out.push_back(r.Describe(d));
  }
  return out;
}

std::string Group(const std::string& permissions,
                  const std::string& egress = "[]") {
  return absl::StrCat(R"([{"GroupId": "sg-1", "IpPermissions": )",
                      permissions, R"(, "IpPermissionsEgress": )", egress,
                      "}]");
}

TEST(AwsJsonTest, EachRemoteEntryIsOneRule) {
  Parsed p = Parse(Group(R"([{"IpProtocol": "tcp", "FromPort": 80,
      "ToPort": 81,
      "IpRanges": [{"CidrIp": "192.0.2.0/24"}, {"CidrIp": "198.51.100.0/24"}],
      "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "v6"}],
      "PrefixListIds": [{"PrefixListId": "pl-1"}],
      "UserIdGroupPairs": [{"GroupId": "sg-2", "UserId": "1"}]}])"));
  ASSERT_TRUE(p.diagnostics.empty()) << p.errors();
  EXPECT_THAT(Described(p, "sg-1", Direction::kIngress),
              ElementsAre("tcp ports 80-81 from 192.0.2.0/24",
                          "tcp ports 80-81 from 198.51.100.0/24",
                          "tcp ports 80-81 from 2001:db8::/32",
                          "tcp ports 80-81 from prefix list pl-1",
                          "tcp ports 80-81 from group sg-2"));
  EXPECT_EQ(p.policy.security_groups.at("sg-1").ingress[2].description, "v6");
  EXPECT_THAT(Described(p, "sg-1", Direction::kEgress), IsEmpty());
}

TEST(AwsJsonTest, AwsEncodings) {
  Parsed p = Parse(Group(R"([
      {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "icmpv6", "FromPort": 128, "ToPort": 0,
       "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
      {"IpProtocol": "50", "FromPort": 10, "ToPort": 20,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "udp", "FromPort": -1, "ToPort": -1,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
      {"IpProtocol": "6", "FromPort": 0, "ToPort": 65535,
       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])",
                         R"([{"IpProtocol": "-1", "FromPort": 5,
                              "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])"));
  ASSERT_TRUE(p.diagnostics.empty()) << p.errors();
  EXPECT_THAT(Described(p, "sg-1", Direction::kIngress),
              ElementsAre("all from 0.0.0.0/0",
                          "icmp type 3 code 4 from 0.0.0.0/0",
                          "icmp type 8 code any from 0.0.0.0/0",
                          "icmp type any code any from 0.0.0.0/0",
                          "icmpv6 type 128 code 0 from ::/0",
                          "50 from 0.0.0.0/0",  // ports ignored, as AWS does
                          "udp all ports from 0.0.0.0/0",
                          "tcp all ports from 0.0.0.0/0"));
  EXPECT_THAT(Described(p, "sg-1", Direction::kEgress),
              ElementsAre("all to 0.0.0.0/0"));
}

TEST(AwsJsonTest, MissingEgressMeansNone) {
  Parsed p = Parse(R"([{"GroupId": "sg-1", "IpPermissions": []}])");
  ASSERT_TRUE(p.diagnostics.empty()) << p.errors();
  FinalizePolicy(p.policy, p.diagnostics);
  EXPECT_THAT(Described(p, "sg-1", Direction::kEgress), IsEmpty());
}

struct ErrorCase {
  const char* description;
  std::string json;  // the SecurityGroups array
  const char* location;
  const char* message;
};

TEST(AwsJsonTest, ErrorsAreLocated) {
  // Note Parse() prefixes the array with {"SecurityGroups": on line 1, so
  // columns on line 1 are offset by its 19 characters.
  const ErrorCase cases[] = {
      {"host bits", Group(R"([{"IpProtocol": "tcp", "FromPort": 1,
"ToPort": 1, "IpRanges": [{"CidrIp": "192.0.2.1/24"}]}])"),
       "aws.json:2:38:",
       "IpRanges[0].CidrIp: '192.0.2.1/24' has host bits set; did you mean "
       "192.0.2.0/24?"},
      {"reversed ports", Group(R"([{"IpProtocol": "tcp",
"FromPort": 90, "ToPort": 80, "IpRanges": []}])"),
       "aws.json:2:13:",
       "FromPort 90 to ToPort 80 is not a port range"},
      {"icmp any type with a code", Group(R"([{"IpProtocol": "icmp",
"FromPort": -1, "ToPort": 3, "IpRanges": []}])"),
       "aws.json:2:27:", "ICMP code 3 needs a type"},
      {"port out of range", Group(R"([{"IpProtocol": "udp",
"FromPort": 1, "ToPort": 70000}])"),
       "aws.json:2:26:", "ToPort: 70000 is out of range; expected -1 to 65535"},
      {"unknown key", Group(R"([{"IpProtocol": "tcp",
"FromPort": 1, "ToPort": 1, "IPRanges": []}])"),
       "aws.json:2:29:", "unknown key 'IPRanges'"},
      {"bad protocol", Group(R"([
{"IpProtocol": "tcpp"}])"),
       "aws.json:2:16:", "IpProtocol: 'tcpp' is not a protocol"},
      {"IpPermissions not a list", Group(R"("tcp")"), "aws.json:1:58:",
       "IpPermissions: expected a list, found a scalar"},
      {"duplicate GroupId", R"([{"GroupId": "sg-1"},
{"GroupId": "sg-1"}])", "aws.json:2:13:", "group 'sg-1' is defined twice"},
      {"missing GroupId", R"([
{"GroupName": "x"}])", "aws.json:2:1:", "GroupId is missing"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.description);
    Parsed p = Parse(c.json);
    ASSERT_FALSE(p.diagnostics.empty());
    EXPECT_THAT(p.errors(), HasSubstr(absl::StrCat(c.location, " ")))
        << p.errors();
    EXPECT_THAT(p.errors(), HasSubstr(c.message));
  }
}

TEST(AwsJsonTest, EveryErrorIsReported) {
  // A bad protocol does not hide a bad CIDR in the same permission, and a
  // duplicate or missing GroupId does not hide the errors in its rules.
  Parsed p = Parse(R"([{"GroupId": "sg-1", "IpPermissions": [
{"IpProtocol": "tcpp", "IpRanges": [{"CidrIp": "192.0.2.1/24"}]}]},
{"GroupId": "sg-1", "IpPermissions": [
{"IpProtocol": "tcp", "FromPort": 9, "ToPort": 8}]},
{"IpPermissionsEgress": [
{"IpProtocol": "udp", "FromPort": 1, "ToPort": 1,
 "Ipv6Ranges": [{"CidrIpv6": "2001:db8::1/32"}]}]}])");
  std::vector<std::string> errors;
  for (const Diagnostic& d : p.diagnostics.errors()) {
    errors.push_back(d.ToString());
  }
  EXPECT_THAT(
      errors,
      ElementsAre(
          HasSubstr("aws.json:2:16: SecurityGroups[0].IpPermissions[0]."
                    "IpProtocol: 'tcpp' is not a protocol"),
          HasSubstr("aws.json:2:48: SecurityGroups[0].IpPermissions[0]."
                    "IpRanges[0].CidrIp: '192.0.2.1/24' has host bits set; "
                    "did you mean 192.0.2.0/24?"),
          "aws.json:3:13: SecurityGroups[1].GroupId: group 'sg-1' is "
          "defined twice; first at aws.json:1:33",
          HasSubstr("aws.json:4:35: SecurityGroups[1].IpPermissions[0]: "
                    "FromPort 9 to ToPort 8 is not a port range"),
          "aws.json:5:1: SecurityGroups[2]: GroupId is missing",
          HasSubstr("aws.json:7:30: SecurityGroups[2].IpPermissionsEgress[0]."
                    "Ipv6Ranges[0].CidrIpv6: '2001:db8::1/32' has host bits "
                    "set; did you mean 2001:db8::/32?")));
  // Only the first sg-1 made it into the policy, with no rule from the
  // permission whose protocol was bad.
  ASSERT_EQ(p.policy.security_groups.size(), 1u);
  EXPECT_THAT(Described(p, "sg-1", Direction::kIngress), IsEmpty());
}

TEST(AwsJsonTest, UnknownTopLevelKey) {
  Policy policy;
  Diagnostics diagnostics;
  ParseAwsSecurityGroups(
      "{\"SecurityGroups\": [], \"NextToken\": \"x\",\n \"Groups\": []}",
      "x.json", policy, diagnostics);
  EXPECT_THAT(std::string(diagnostics.ToStatus().message()),
              HasSubstr("x.json:2:2: "));
  EXPECT_THAT(std::string(diagnostics.ToStatus().message()),
              HasSubstr("unknown key 'Groups'"));
  EXPECT_EQ(diagnostics.errors().size(), 1u);
}

TEST(AwsJsonTest, NotDescribeOutput) {
  Policy policy;
  Diagnostics diagnostics;
  ParseAwsSecurityGroups("{\"Groups\": []}", "x.json", policy, diagnostics);
  EXPECT_THAT(std::string(diagnostics.ToStatus().message()),
              HasSubstr("x.json:1:1: SecurityGroups is missing; expected the "
                        "output of 'aws ec2 describe-security-groups'"));
  Diagnostics syntax;
  ParseAwsSecurityGroups("{\"SecurityGroups\": [", "y.json", policy, syntax);
  EXPECT_THAT(std::string(syntax.ToStatus().message()),
              HasSubstr("y.json:1:"));
}

TEST(AwsJsonTest, GroupsAreCheckedWithTheYamlOnes) {
  // A GroupId also defined in the YAML is an error; references from the
  // JSON to YAML prefix lists resolve in FinalizePolicy.
  Policy policy;
  Diagnostics diagnostics;
  ParsePolicyYaml("version: 1\nsecurity_groups: {sg-1: {}}\n", "p.yaml",
                  policy, diagnostics);
  ParseAwsSecurityGroups(
      R"({"SecurityGroups": [{"GroupId": "sg-1"}, {"GroupId": "sg-2",
          "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22,
          "ToPort": 22, "PrefixListIds": [{"PrefixListId": "pl-x"}]}]}]})",
      "aws.json", policy, diagnostics);
  FinalizePolicy(policy, diagnostics);
  std::string errors(diagnostics.ToStatus().message());
  EXPECT_THAT(errors, HasSubstr("aws.json:1:33: SecurityGroups[0].GroupId: "
                                "group 'sg-1' is defined twice"));
  EXPECT_THAT(errors, HasSubstr("prefix_list: 'pl-x' is not defined"));
}

}  // namespace
}  // namespace sgate::rules

#include "rules/policy_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "rules/policy_loader.h"
#include "tests/support/policy_difference.h"

namespace sgate::rules {
namespace {

using sgate::testing::PolicyDifference;
using ::testing::HasSubstr;

std::string SourceRoot() {
  const char* root = std::getenv("SGATE_SOURCE_ROOT");
  return root != nullptr ? root : ".";
}

// Loads what WritePolicyYaml wrote, failing the test on any error.
Policy Reload(const Policy& policy) {
  std::string yaml = WritePolicyYaml(policy);
  absl::StatusOr<Policy> again = LoadPolicyString(yaml, "written");
  EXPECT_TRUE(again.ok()) << again.status() << "\n" << yaml;
  return again.ok() ? *std::move(again) : Policy();
}

// Assembles the objects WritePolicyObjects wrote, as the fleet does.
Policy ReloadObjects(const Policy& policy) {
  Policy again;
  Diagnostics diagnostics;
  for (const PolicyObjectYaml& object : WritePolicyObjects(policy)) {
    ParsePolicyObject(object.section, object.name, object.yaml,
                      object.name.empty() ? "settings" : object.name, again,
                      diagnostics);
  }
  FinalizePolicy(again, diagnostics);
  EXPECT_TRUE(diagnostics.empty()) << diagnostics.ToStatus();
  return again;
}

void ExpectRoundTrip(const Policy& policy) {
  EXPECT_EQ(PolicyDifference(policy, Reload(policy)), "");
  EXPECT_EQ(PolicyDifference(policy, ReloadObjects(policy)), "");
  // Equal policies give equal text: the fleet compares objects by text.
  EXPECT_EQ(WritePolicyYaml(Reload(policy)), WritePolicyYaml(policy));
}

TEST(PolicyWriterTest, EveryExampleRoundTrips) {
  for (const char* file : {"examples/demo.yaml", "examples/web-tier.yaml",
                           "examples/aws/equivalent.yaml",
                           "dist/etc/sgate/policy.yaml"}) {
    SCOPED_TRACE(file);
    absl::StatusOr<Policy> policy = LoadPolicyFile(SourceRoot() + "/" + file);
    ASSERT_TRUE(policy.ok()) << policy.status();
    ExpectRoundTrip(*policy);
  }
}

TEST(PolicyWriterTest, AwsJsonGroupsRoundTripAsYaml) {
  LoadOptions options;
  options.aws_json_path =
      SourceRoot() + "/examples/aws/describe-security-groups.json";
  absl::StatusOr<Policy> policy =
      LoadPolicyFile(SourceRoot() + "/examples/aws/interfaces.yaml", options);
  ASSERT_TRUE(policy.ok()) << policy.status();
  ExpectRoundTrip(*policy);
}

TEST(PolicyWriterTest, EveryFieldAndAwkwardText) {
  // Names and descriptions YAML would read as something else if written
  // plain, every setting off its default, each rule shape.
  const char* yaml = R"(version: 1
settings:
  max_flows: 4096
  unknown_interface: pass
  revalidate_on_change: true
  max_groups_per_interface: 16
  max_rules_per_group: 200
  timeouts: {tcp_established: 7200, udp: 10, other: 1}
prefix_lists:
  "null": [203.0.113.0/24, "2001:db8:100::/48"]
  pl-empty:
security_groups:
  "yes":
    description: "  leading spaces, a # and a: colon "
    ingress:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, description: "null"}
      - {protocol: udp, ports: 1024-65535, cidr: [198.51.100.0/24, "::/0"]}
      - {protocol: icmp, icmp_type: 8, cidr: 198.51.100.0/24}
      - {protocol: icmpv6, icmp_type: 1, icmp_code: 4, cidr: "2001:db8::/32"}
      - {protocol: 47, security_group: "yes"}
      - {protocol: all, prefix_list: "null", description: "multi\nline \"q\""}
      - {protocol: tcp, ports: 0, cidr: 192.0.2.0/24, description: "~"}
    egress: []
  sg-omitted-egress:
    ingress: []
  "80":
    description: 'é ünïcode'
    egress:
      - {protocol: 0, cidr: 192.0.2.0/24}
interfaces:
  eni-a: {addresses: [198.51.100.10, "2001:db8::10"], security_groups: ["yes", "80"], vlan: 0}
  eni-b: {addresses: [198.51.100.11], node: "true"}
  "- dash": {addresses: [198.51.100.12], security_groups: [sg-omitted-egress], vlan: 4095}
)";
  absl::StatusOr<Policy> policy = LoadPolicyString(yaml, "awkward");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ExpectRoundTrip(*policy);
}

// Domain rules (issue 15) travel through the fleet too.
TEST(PolicyWriterTest, DomainRulesRoundTrip) {
  const char* yaml = R"(version: 1
settings:
  domain_reject: drop
security_groups:
  sg-out:
    egress:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, domains: [api.example.com, "*.example.org"]}
      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}
interfaces:
  eni-a: {addresses: [198.51.100.10], security_groups: [sg-out]}
)";
  absl::StatusOr<Policy> policy = LoadPolicyString(yaml, "domains");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ExpectRoundTrip(*policy);
  std::string written = WritePolicyYaml(*policy);
  EXPECT_NE(written.find("*.example.org"), std::string::npos) << written;
  EXPECT_NE(written.find("domain_reject"), std::string::npos) << written;
}

// The operations keys (issue 16) travel through the fleet too.
TEST(PolicyWriterTest, OperationsKeysRoundTrip) {
  const char* yaml = R"(version: 1
settings:
  flow_logs: {path: /var/log/sgate/flows.log, interval: 60, max_size_mb: 5}
  account_id: "000123456789"
  max_flows_per_interface: 1000
  anti_spoofing: true
interfaces:
  eni-a: {addresses: [198.51.100.10], macs: ["02:00:5e:10:00:0a", "02:00:5e:10:00:0b"], max_flows: 10}
  eni-b: {addresses: [198.51.100.11]}
)";
  absl::StatusOr<Policy> policy = LoadPolicyString(yaml, "operations");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ExpectRoundTrip(*policy);
  std::string written = WritePolicyYaml(*policy);
  for (const char* key : {"flow_logs", "account_id", "max_flows_per_interface",
                          "anti_spoofing", "macs", "max_flows"}) {
    EXPECT_NE(written.find(key), std::string::npos) << key << "\n" << written;
  }
}

TEST(PolicyWriterTest, DefaultsStayImplied) {
  absl::StatusOr<Policy> policy = LoadPolicyString(
      "version: 1\n"
      "security_groups:\n"
      "  sg-a:\n"
      "    ingress: [{protocol: tcp, ports: 22, cidr: 0.0.0.0/0}]\n"
      "interfaces:\n"
      "  eni-a: {addresses: [198.51.100.10], security_groups: [sg-a]}\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::string yaml = WritePolicyYaml(*policy);
  // Neither the implicit default group nor sg-a's default egress.
  EXPECT_THAT(yaml, ::testing::Not(HasSubstr("default")));
  EXPECT_THAT(yaml, ::testing::Not(HasSubstr("egress")));
  std::vector<PolicyObjectYaml> objects = WritePolicyObjects(*policy);
  ASSERT_EQ(objects.size(), 3u);  // settings, sg-a, eni-a
  EXPECT_EQ(objects[0].section, PolicySection::kSettings);
  EXPECT_EQ(objects[0].yaml, "{}\n");
  EXPECT_EQ(objects[1].yaml,
            "ingress:\n  - {protocol: tcp, ports: 22, cidr: 0.0.0.0/0}\n");
  EXPECT_EQ(objects[2].yaml,
            "{addresses: [198.51.100.10], security_groups: [sg-a]}\n");
}

// Errors in an object keep the policy's own terms, located in the object
// under the name the caller gives it (the fleet: the etcd key).
TEST(PolicyObjectTest, ErrorsAreLocatedInTheObject) {
  Policy policy;
  Diagnostics diagnostics;
  ParsePolicyObject(PolicySection::kSecurityGroups, "sg-web",
                    "ingress:\n  - {protocol: tcp, ports: 70000, cidr: "
                    "0.0.0.0/0}\n",
                    "/sgate/policy/security_groups/sg-web", policy,
                    diagnostics);
  ParsePolicyObject(PolicySection::kInterfaces, "eni-a", "{vlan: 1}\n",
                    "/sgate/policy/interfaces/eni-a", policy, diagnostics);
  ParsePolicyObject(PolicySection::kSettings, "", "max_flow: 1\n",
                    "/sgate/policy/settings", policy, diagnostics);
  ParsePolicyObject(PolicySection::kPrefixLists, "", "[]\n",
                    "/sgate/policy/prefix_lists/", policy, diagnostics);
  ParsePolicyObject(PolicySection::kPrefixLists, "pl", "[a: b\n",
                    "/sgate/policy/prefix_lists/pl", policy, diagnostics);
  std::string errors(diagnostics.ToStatus().message());
  EXPECT_THAT(errors,
              HasSubstr("/sgate/policy/security_groups/sg-web:2:28: "
                        "security_groups.sg-web.ingress[0].ports: 70000 is "
                        "out of range"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/interfaces/eni-a: "
                                "interfaces.eni-a: addresses is missing"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/settings:1:1: settings: "
                                "unknown key 'max_flow'"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/prefix_lists/: prefix_lists: "
                                "a name cannot be empty"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/prefix_lists/pl:2:1: syntax "
                                "error"));
}

}  // namespace
}  // namespace sgate::rules

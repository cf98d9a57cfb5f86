// The policy keys of DESIGN.md §8 (operations): flow logs, the account id,
// per-interface flow caps and anti-spoofing MACs. Kept apart from
// policy_loader_test.cc so each group of keys has its own fixtures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "rules/mac_address.h"
#include "rules/policy_loader.h"
#include "tests/support/policy_errors.h"

namespace sgate::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MacAddressTest, ParsesBothSeparatorsAndAnyCase) {
  absl::StatusOr<MacAddress> a = ParseMacAddress("02:00:5e:10:00:0A");
  absl::StatusOr<MacAddress> b = ParseMacAddress("02-00-5E-10-00-0a");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->ToString(), "02:00:5e:10:00:0a");
  EXPECT_EQ(a->value(), 0x02005e10000aull);
}

TEST(MacAddressTest, RefusesWhatIsNotAUnicastMac) {
  for (const char* text :
       {"", "02:00:5e:10:00", "02:00:5e:10:00:0a:01", "02:00-5e:10:00:0a",
        "02:00:5e:10:00:0g", "0200.5e10.000a", "2:0:5e:10:0:a"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<MacAddress> mac = ParseMacAddress(text);
    ASSERT_FALSE(mac.ok());
    EXPECT_THAT(mac.status().message(), HasSubstr("is not a MAC address"));
  }
  EXPECT_THAT(ParseMacAddress("01:00:5e:00:00:01").status().message(),
              HasSubstr("is a group (multicast or broadcast) address"));
  EXPECT_THAT(ParseMacAddress("ff:ff:ff:ff:ff:ff").status().message(),
              HasSubstr("is a group"));
  EXPECT_THAT(ParseMacAddress("00:00:00:00:00:00").status().message(),
              HasSubstr("is not an address"));
}

TEST(OperationsSettingsTest, LoadsEveryKey) {
  absl::StatusOr<Policy> policy = LoadPolicyString(R"(version: 1
settings:
  flow_logs: {path: /var/log/sgate/flows.log, interval: 60, max_size_mb: 64}
  account_id: "123456789012"
  max_flows_per_interface: 5000
  anti_spoofing: true
interfaces:
  eni-a:
    addresses: [198.51.100.10]
    macs: ["02:00:00:00:00:0a", 02-00-00-00-00-0B]
    max_flows: 10
  eni-b:
    addresses: [198.51.100.11]
    macs: "02:00:00:00:00:0c"
)", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Settings& s = policy->settings;
  ASSERT_TRUE(s.flow_logs.has_value());
  EXPECT_EQ(s.flow_logs->path, "/var/log/sgate/flows.log");
  EXPECT_EQ(s.flow_logs->interval, 60u);
  EXPECT_EQ(s.flow_logs->max_size_mb, 64u);
  EXPECT_EQ(s.flow_logs->location.ToString(), "p.yaml:3:21");
  EXPECT_EQ(s.account_id, "123456789012");
  EXPECT_EQ(s.max_flows_per_interface, 5000u);
  EXPECT_TRUE(s.anti_spoofing);
  const Interface& a = policy->interfaces.at("eni-a");
  ASSERT_EQ(a.macs.size(), 2u);
  EXPECT_EQ(a.macs[0].ToString(), "02:00:00:00:00:0a");
  EXPECT_EQ(a.macs[1].ToString(), "02:00:00:00:00:0b");
  EXPECT_EQ(a.max_flows, 10u);
  EXPECT_EQ(s.FlowCap(a), 10u);
  const Interface& b = policy->interfaces.at("eni-b");
  ASSERT_EQ(b.macs.size(), 1u);
  EXPECT_EQ(s.FlowCap(b), 5000u);
}

TEST(OperationsSettingsTest, DefaultsChangeNothing) {
  absl::StatusOr<Policy> policy = LoadPolicyString(
      "version: 1\ninterfaces:\n  eni-a: {addresses: [198.51.100.10]}\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Settings& s = policy->settings;
  EXPECT_FALSE(s.flow_logs.has_value());
  EXPECT_EQ(s.account_id, "-");
  EXPECT_FALSE(s.max_flows_per_interface.has_value());
  EXPECT_FALSE(s.anti_spoofing);
  EXPECT_FALSE(s.FlowCap(policy->interfaces.at("eni-a")).has_value());
  EXPECT_TRUE(policy->interfaces.at("eni-a").macs.empty());
}

TEST(OperationsSettingsTest, FlowLogIntervalDefaultsToAws) {
  absl::StatusOr<Policy> policy = LoadPolicyString(
      "version: 1\nsettings:\n  flow_logs: {path: /tmp/f.log}\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->settings.flow_logs->interval, 600u);
  EXPECT_EQ(policy->settings.flow_logs->max_size_mb, 1024u);
}

const sgate::testing::PolicyErrorCase kErrorCases[] = {
    {"cap of 0", "version: 1\nsettings:\n  max_flows_per_interface: 0\n", 3,
     28,
     "settings.max_flows_per_interface: 0 would refuse every new flow; "
     "expected 1 to 268435456 (omit the key for no cap)"},
    {"cap not a number",
     "version: 1\nsettings:\n  max_flows_per_interface: lots\n", 3, 28,
     "settings.max_flows_per_interface: expected an integer from 1"},
    {"interface cap of 0",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    max_flows: 0\n",
     5, 16, "interfaces.eni-a.max_flows: 0 would refuse every new flow"},
    {"bad MAC",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    macs: [\"02:00:00:00:00:0a\", \"02:00:00:00:0a\"]\n",
     5, 33,
     "interfaces.eni-a.macs: '02:00:00:00:0a' is not a MAC address; "
     "expected six hex octets"},
    {"multicast MAC",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    macs: [\"33:33:00:00:00:01\"]\n",
     5, 12, "interfaces.eni-a.macs: 33:33:00:00:00:01 is a group"},
    {"MACs as a map",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    macs: {a: b}\n",
     5, 11,
     "interfaces.eni-a.macs: expected a string or a list of strings, found a "
     "map"},
    {"empty MAC list",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    macs: []\n",
     5, 11, "interfaces.eni-a.macs: expected one or more MAC addresses"},
    {"too many MACs",
     "version: 1\ninterfaces:\n  eni-a:\n    addresses: [198.51.100.10]\n"
     "    macs: [02:00:00:00:00:01, 02:00:00:00:00:02, 02:00:00:00:00:03,\n"
     "           02:00:00:00:00:04, 02:00:00:00:00:05, 02:00:00:00:00:06,\n"
     "           02:00:00:00:00:07, 02:00:00:00:00:08, 02:00:00:00:00:09]\n",
     7, 50, "interfaces.eni-a.macs: more than 8 MAC addresses"},
    {"anti_spoofing not a bool",
     "version: 1\nsettings:\n  anti_spoofing: yes please\n", 3, 18,
     "settings.anti_spoofing: expected true or false, found 'yes please'"},
    {"account id with a space",
     "version: 1\nsettings:\n  account_id: \"1234 5678\"\n", 3, 15,
     "settings.account_id: '1234 5678' is not one word"},
    {"flow logs without a path",
     "version: 1\nsettings:\n  flow_logs: {interval: 60}\n", 3, 14,
     "settings.flow_logs: path is missing"},
    {"relative flow log path",
     "version: 1\nsettings:\n  flow_logs: {path: flows.log}\n", 3, 21,
     "settings.flow_logs.path: 'flows.log' is not an absolute path"},
    {"flow log interval of 0",
     "version: 1\nsettings:\n  flow_logs: {path: /tmp/f, interval: 0}\n", 3,
     39, "settings.flow_logs.interval: 0 is out of range; expected 1 to 600"},
    {"flow log interval past AWS's longest",
     "version: 1\nsettings:\n  flow_logs: {path: /tmp/f, interval: 3600}\n",
     3, 39, "settings.flow_logs.interval: 3600 is out of range"},
    {"unknown flow log key",
     "version: 1\nsettings:\n  flow_logs: {path: /tmp/f, format: v5}\n", 3,
     29,
     "settings.flow_logs: unknown key 'format'; expected path, interval, "
     "max_size_mb"},
    {"flow logs as a string",
     "version: 1\nsettings:\n  flow_logs: /tmp/f\n", 3, 14,
     "settings.flow_logs: expected a map, found a scalar"},
};

TEST(OperationsSettingsTest, EveryErrorIsLocatedAndExplained) {
  for (const sgate::testing::PolicyErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.description);
    absl::StatusOr<Policy> policy = LoadPolicyString(c.yaml, "policy");
    ASSERT_FALSE(policy.ok());
    // The error is on its own line, at its position, with its explanation.
    EXPECT_TRUE(sgate::testing::HasErrorLine(
        std::string(policy.status().message()), c));
  }
}

}  // namespace
}  // namespace sgate::rules

// The fleet's pieces that need no etcd: the key layout, what a push
// writes, assembling objects into a policy, the node status and the cache.
// tests/fleet/ runs them against a real etcd.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "control/fleet_cache.h"
#include "control/fleet_layout.h"
#include "control/fleet_objects.h"
#include "control/fleet_push.h"
#include "control/fleet_status.h"
#include "rules/policy_loader.h"
#include "rules/policy_writer.h"
#include "tests/support/policy_difference.h"

namespace sgate::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = FleetLayout::PolicyKey::Kind;
using rules::PolicySection;

rules::Policy Load(absl::string_view yaml) {
  absl::StatusOr<rules::Policy> policy = rules::LoadPolicyString(yaml, "test");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : rules::Policy();
}

const char kPolicy[] = R"(version: 1
settings: {max_flows: 4096}
prefix_lists:
  pl-office: [203.0.113.0/24]
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22, prefix_list: pl-office}
  sg-db:
    ingress: [{protocol: tcp, ports: 5432, security_group: sg-web}]
interfaces:
  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web], node: a}
  eni-db: {addresses: [198.51.100.20], security_groups: [sg-db], node: b}
)";

// The stored state a push of `policy` leaves: its objects and a commit.
std::map<std::string, std::string> Stored(const FleetLayout& layout,
                                          const rules::Policy& policy) {
  std::map<std::string, std::string> stored;
  for (const auto& [key, value] : PlanPush(layout, policy, {}).puts) {
    stored[key] = value;
  }
  stored[layout.CommitKey()] = CommitRecordJson(stored.size());
  return stored;
}

TEST(FleetLayoutTest, KeysAndWhatTheyAre) {
  FleetLayout layout("/vpc");
  EXPECT_EQ(layout.CommitKey(), "/vpc/policy/commit");
  EXPECT_EQ(layout.ObjectKey(PolicySection::kSettings, ""),
            "/vpc/policy/settings");
  EXPECT_EQ(layout.ObjectKey(PolicySection::kSecurityGroups, "sg-web"),
            "/vpc/policy/security_groups/sg-web");
  EXPECT_EQ(layout.NodeKey("hv-1"), "/vpc/nodes/hv-1");

  FleetLayout::PolicyKey k =
      layout.ParsePolicyKey("/vpc/policy/interfaces/eni/with/slashes");
  EXPECT_EQ(k.kind, Kind::kObject);
  EXPECT_EQ(k.section, PolicySection::kInterfaces);
  EXPECT_EQ(k.name, "eni/with/slashes");
  EXPECT_EQ(layout.ParsePolicyKey("/vpc/policy/commit").kind, Kind::kCommit);
  EXPECT_EQ(layout.ParsePolicyKey("/vpc/policy/staging").kind, Kind::kStaging);
  EXPECT_EQ(layout.ParsePolicyKey("/vpc/policy/settings").section,
            PolicySection::kSettings);
  EXPECT_EQ(layout.ParsePolicyKey("/vpc/policy/groups/x").kind, Kind::kUnknown);
  EXPECT_EQ(layout.ParsePolicyKey("/other/policy/commit").kind, Kind::kUnknown);
  EXPECT_EQ(PrefixRangeEnd("/vpc/policy/"), "/vpc/policy0");
  EXPECT_EQ(PrefixRangeEnd(std::string("a\xff", 2)), "b");
}

TEST(FleetPushTest, WritesOnlyWhatChanged) {
  FleetLayout layout("/sgate");
  const rules::Policy before = Load(kPolicy);
  std::map<std::string, std::string> stored = Stored(layout, before);
  // settings, 1 prefix list, 2 groups, 2 interfaces; no implicit default.
  EXPECT_EQ(stored.size(), 7u);

  EXPECT_TRUE(PlanPush(layout, before, stored).empty());

  // One group's rule changes, one interface goes, one comes.
  std::string yaml = kPolicy;
  yaml.replace(yaml.find("ports: 80"), 9, "ports: 443");
  yaml.replace(yaml.find("  eni-db: {addresses: [198.51.100.20]"), 0,
               "  eni-new: {addresses: [198.51.100.30]}\n");
  yaml.erase(yaml.find("  eni-db:"));
  stored["/sgate/policy/junk"] = "left by hand";
  PushPlan plan = PlanPush(layout, Load(yaml), stored);
  std::vector<std::string> puts;
  for (const auto& [key, value] : plan.puts) puts.push_back(key);
  EXPECT_THAT(puts, ElementsAre("/sgate/policy/interfaces/eni-new",
                                "/sgate/policy/security_groups/sg-web"));
  EXPECT_THAT(plan.deletes, ElementsAre("/sgate/policy/interfaces/eni-db",
                                        "/sgate/policy/junk"));
  EXPECT_EQ(plan.unchanged, 4u);
  int64_t bytes = 0;
  for (const auto& [key, value] : plan.puts) bytes += key.size() + value.size();
  for (const std::string& key : plan.deletes) bytes += key.size();
  EXPECT_EQ(plan.bytes, bytes);
}

TEST(FleetPushTest, SplitsWithinEtcdsLimits) {
  PushPlan plan;
  for (int i = 0; i < 250; ++i) {
    plan.puts.emplace_back(absl::StrCat("k", i), std::string(100, 'x'));
  }
  plan.puts.emplace_back("big", std::string(5000, 'x'));
  plan.deletes = {"d1", "d2"};
  std::vector<std::vector<EtcdTxn::Operation>> batches =
      SplitPush(plan, {.max_operations = 100, .max_bytes = 4000});
  size_t operations = 0;
  for (const auto& batch : batches) {
    EXPECT_LE(batch.size(), 100u);
    int64_t bytes = 0;
    for (const EtcdTxn::Operation& op : batch) {
      bytes += op.key.size() + op.value.size();
    }
    EXPECT_TRUE(bytes <= 4000 || batch.size() == 1) << bytes;
    operations += batch.size();
  }
  EXPECT_EQ(operations, 253u);
  // The oversized object travels alone; deletes come last.
  bool alone = false;
  for (const auto& batch : batches) {
    alone |= batch.size() == 1 && batch[0].key == "big";
  }
  EXPECT_TRUE(alone);
  EXPECT_TRUE(batches.back().back().is_delete);
  EXPECT_EQ(batches.back().back().key, "d2");
  // A small change is one batch.
  PushPlan small;
  small.puts.emplace_back("k", "v");
  EXPECT_EQ(SplitPush(small, {}).size(), 1u);
}

TEST(FleetObjectsTest, AssemblesWhatAPushWrote) {
  FleetLayout layout("/sgate");
  const rules::Policy policy = Load(kPolicy);
  FleetObjects objects(layout);
  int64_t revision = 10;
  for (const auto& [key, value] : Stored(layout, policy)) {
    objects.Put(key, value, ++revision);
  }
  absl::StatusOr<rules::Policy> assembled = objects.Assemble();
  ASSERT_TRUE(assembled.ok()) << assembled.status();
  EXPECT_EQ(testing::PolicyDifference(policy, *assembled), "");
  EXPECT_EQ(objects.commit_revision(), 11);  // the commit key sorts first
  EXPECT_FALSE(objects.staging());

  // A watch's delete: the interface goes, and with it sg-db's only member.
  objects.Delete("/sgate/policy/interfaces/eni-db");
  assembled = objects.Assemble();
  ASSERT_TRUE(assembled.ok()) << assembled.status();
  EXPECT_FALSE(assembled->interfaces.contains("eni-db"));
}

TEST(FleetObjectsTest, ErrorsNameTheKeys) {
  FleetObjects objects{FleetLayout("/sgate")};
  objects.Put("/sgate/policy/commit", R"({"version": 2})", 5);
  objects.Put("/sgate/policy/security_groups/sg-a",
              "ingress:\n  - {protocol: tcp, ports: 80, cidr: 10.0.0.1/8}\n",
              4);
  objects.Put("/sgate/policy/interfaces/eni-a",
              "{addresses: [198.51.100.1], security_groups: [sg-missing]}\n",
              4);
  objects.Put("/sgate/policy/groups/x", "{}", 4);
  absl::StatusOr<rules::Policy> assembled = objects.Assemble();
  ASSERT_FALSE(assembled.ok());
  const std::string errors(assembled.status().message());
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/commit:1:13: version: 2 is not "
                                "supported; expected 1"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/security_groups/sg-a:2:38: "
                                "security_groups.sg-a.ingress[0].cidr: "
                                "'10.0.0.1/8' has host bits set"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/interfaces/eni-a:1:47: "
                                "interfaces.eni-a.security_groups: "
                                "'sg-missing' is not defined"));
  EXPECT_THAT(errors, HasSubstr("/sgate/policy/groups/x: not a key of sgate's "
                                "policy layout"));
}

TEST(FleetStatusTest, JsonRoundTripWithinItsCaps) {
  NodeStatus status;
  status.node = "hv-1";
  status.state = NodeStatus::State::kRejected;
  status.revision = 41;
  status.generation = 7;
  status.source = "etcd";
  status.rejected_revision = 42;
  for (int i = 0; i < 15; ++i) {
    status.errors.push_back(absl::StrCat("/sgate/policy/x:1:", i, ": bad"));
  }
  status.error_count = 15;
  status.interface_count = 2;
  status.interfaces = {"eni-a", "eni-b"};
  status.sgate_version = SgateVersion();
  status.updated = 1800000000;
  const std::string json = NodeStatusJson(status);
  EXPECT_THAT(json, HasSubstr(R"("updated":"2027-01-15T08:00:00Z")"));
  absl::StatusOr<NodeStatus> parsed = ParseNodeStatus(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->node, "hv-1");
  EXPECT_EQ(parsed->state, NodeStatus::State::kRejected);
  EXPECT_EQ(parsed->revision, 41);
  EXPECT_EQ(parsed->generation, 7u);
  EXPECT_EQ(parsed->rejected_revision, 42);
  EXPECT_EQ(parsed->errors.size(), NodeStatus::kMaxErrors);
  EXPECT_EQ(parsed->error_count, 15u);
  EXPECT_THAT(parsed->interfaces, ElementsAre("eni-a", "eni-b"));
  EXPECT_EQ(parsed->updated, 1800000000);
  EXPECT_FALSE(ParseNodeStatus("[1]").ok());
  EXPECT_FALSE(ParseNodeStatus(R"({"state": "happy"})").ok());
}

TEST(FleetCacheTest, AtomicPrivateRoundTrip) {
  const std::string dir =
      ::testing::TempDir() + "/fleet-cache-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/cache.json";
  {
    std::ofstream old(path);  // a world-readable file from before
    old << "old";
  }
  chmod(path.c_str(), 0644);
  FleetCache cache{.prefix = "/sgate",
                   .revision = 1234,
                   .objects = {{"/sgate/policy/commit", "{\"version\":1}"},
                               {"/sgate/policy/settings", "{}\n"},
                               {"/sgate/policy/security_groups/sg \"q\"",
                                "description: \"tab\\there\"\nä: \x01\n"}}};
  ASSERT_TRUE(WriteFleetCache(path, cache).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Nothing left beside it.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  absl::StatusOr<FleetCache> read = ReadFleetCache(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->prefix, "/sgate");
  EXPECT_EQ(read->revision, 1234);
  EXPECT_EQ(read->objects, cache.objects);

  EXPECT_EQ(ReadFleetCache(dir + "/none.json").status().code(),
            absl::StatusCode::kNotFound);
  {
    std::ofstream bad(dir + "/bad.json");
    bad << "{\"prefix\": \"/sgate\"}";
  }
  EXPECT_EQ(ReadFleetCache(dir + "/bad.json").status().code(),
            absl::StatusCode::kDataLoss);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sgate::control

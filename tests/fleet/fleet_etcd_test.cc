// The etcd client, pushes and the node agent against a real etcd
// (with_etcd.sh starts one and sets SGATE_ETCD). No EAL, no root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "control/etcd_client.h"
#include "control/fleet_agent.h"
#include "control/fleet_objects.h"
#include "control/fleet_push.h"
#include "rules/policy_loader.h"
#include "tests/support/policy_difference.h"

namespace sgate::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

EtcdOptions Etcd(const std::string& prefix) {
  EtcdOptions options;
  const char* url = std::getenv("SGATE_ETCD");
  options.endpoints = {url != nullptr ? url : "http://127.0.0.1:2379"};
  options.prefix = prefix;
  return options;
}

// An endpoint nothing listens on.
EtcdOptions Nowhere() {
  EtcdOptions options;
  options.endpoints = {"http://127.0.0.1:1"};
  return options;
}

class FleetEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("SGATE_ETCD") == nullptr) {
      GTEST_SKIP() << "SGATE_ETCD is not set: run through with_etcd.sh";
    }
  }
};

rules::Policy Load(absl::string_view yaml) {
  absl::StatusOr<rules::Policy> policy = rules::LoadPolicyString(yaml, "test");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : rules::Policy();
}

// A policy with `interfaces` interfaces and sg-web open on `port`.
rules::Policy Policy(int port, int interfaces = 2) {
  std::string yaml = absl::StrCat(
      "version: 1\n"
      "security_groups:\n"
      "  sg-web:\n"
      "    ingress: [{protocol: tcp, ports: ",
      port,
      ", cidr: 0.0.0.0/0}]\n"
      "  sg-db:\n"
      "    ingress: [{protocol: tcp, ports: 5432, security_group: sg-web}]\n"
      "interfaces:\n");
  for (int i = 0; i < interfaces; ++i) {
    absl::StrAppend(&yaml, "  eni-", i, ": {addresses: [198.51.", 100 + i / 250,
                    ".", 1 + i % 250, "], security_groups: [",
                    i % 2 ? "sg-db" : "sg-web", "], node: n", i % 3, "}\n");
  }
  return Load(yaml);
}

// Every event of [from, to] under `prefix`, as "PUT key" / "DELETE key",
// grouped by revision.
std::map<int64_t, std::vector<std::string>> History(EtcdClient& etcd,
                                                    const std::string& prefix,
                                                    int64_t from, int64_t to) {
  std::map<int64_t, std::vector<std::string>> history;
  absl::Status s = etcd.Watch(
      prefix, PrefixRangeEnd(prefix), from, [&](const EtcdWatchResponse& r) {
        for (const auto& e : r.events) {
          history[e.kv.mod_revision].push_back(
              absl::StrCat(e.deleted ? "DELETE " : "PUT ", e.kv.key));
        }
        return history.empty() || history.rbegin()->first < to;
      });
  EXPECT_TRUE(s.ok()) << s;
  return history;
}

TEST_F(FleetEtcdTest, RangeReadsPagesAtOneRevision) {
  EtcdClient etcd(Etcd("/range"));
  EtcdTxn txn;
  for (int i = 0; i < 25; ++i) txn.Put(absl::StrCat("/range/", 100 + i), "a");
  absl::StatusOr<EtcdTxnResult> first = etcd.Txn(txn);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->succeeded);
  EtcdTxn change;
  change.Put("/range/100", "b");
  ASSERT_TRUE(etcd.Txn(change).ok());

  absl::StatusOr<EtcdRange> now =
      etcd.Range("/range/", PrefixRangeEnd("/range/"), 0, /*page=*/10);
  ASSERT_TRUE(now.ok()) << now.status();
  ASSERT_EQ(now->kvs.size(), 25u);
  EXPECT_EQ(now->kvs[0].value, "b");
  EXPECT_EQ(now->kvs[24].key, "/range/124");
  absl::StatusOr<EtcdRange> then = etcd.Range(
      "/range/", PrefixRangeEnd("/range/"), first->revision, /*page=*/7);
  ASSERT_TRUE(then.ok()) << then.status();
  ASSERT_EQ(then->kvs.size(), 25u);
  EXPECT_EQ(then->kvs[0].value, "a");
  EXPECT_EQ(then->revision, first->revision);
}

TEST_F(FleetEtcdTest, TxnComparesModRevisions) {
  EtcdClient etcd(Etcd("/txn"));
  EtcdTxn create;
  create.CompareModRevision("/txn/k", 0);  // absent
  create.Put("/txn/k", "1");
  absl::StatusOr<EtcdTxnResult> r = etcd.Txn(create);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->succeeded);
  r = etcd.Txn(create);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);  // it exists now
}

TEST_F(FleetEtcdTest, WatchKeepsRevisionsTogetherAndReportsCompaction) {
  EtcdClient etcd(Etcd("/watch"));
  EtcdTxn txn;
  txn.Put("/watch/a", "1");
  txn.Put("/watch/b", "2");
  absl::StatusOr<EtcdTxnResult> r1 = etcd.Txn(txn);
  ASSERT_TRUE(r1.ok());
  EtcdTxn del;
  del.Delete("/watch/a");
  absl::StatusOr<EtcdTxnResult> r2 = etcd.Txn(del);
  ASSERT_TRUE(r2.ok());
  auto history = History(etcd, "/watch/", r1->revision, r2->revision);
  EXPECT_THAT(history[r1->revision],
              ElementsAre("PUT /watch/a", "PUT /watch/b"));
  EXPECT_THAT(history[r2->revision], ElementsAre("DELETE /watch/a"));

  EtcdTxn more;
  more.Put("/watch/c", "3");
  absl::StatusOr<EtcdTxnResult> r3 = etcd.Txn(more);
  ASSERT_TRUE(r3.ok());
  ASSERT_TRUE(etcd.Compact(r3->revision).ok());
  int64_t compacted = 0;
  absl::Status s = etcd.Watch("/watch/", PrefixRangeEnd("/watch/"),
                              r1->revision, [&](const EtcdWatchResponse& r) {
                                if (r.canceled) compacted = r.compact_revision;
                                return true;
                              });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(compacted, r3->revision);
  EXPECT_EQ(etcd.Range("/watch/", PrefixRangeEnd("/watch/"), r1->revision)
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(FleetEtcdTest, LeasesAndInterrupt) {
  EtcdClient etcd(Etcd("/lease"));
  absl::StatusOr<int64_t> lease = etcd.LeaseGrant(30);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EtcdTxn put;
  put.Put("/lease/node", "up", *lease);
  ASSERT_TRUE(etcd.Txn(put).ok());
  absl::StatusOr<int64_t> ttl = etcd.LeaseKeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(*ttl, 20);
  ASSERT_TRUE(etcd.LeaseRevoke(*lease).ok());
  EXPECT_TRUE(etcd.Range("/lease/node", "")->kvs.empty());
  ttl = etcd.LeaseKeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(*ttl, 0);

  // A watch with nothing to say returns at once when interrupted.
  EtcdClient watcher(Etcd("/lease"));
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    watcher.Interrupt();
  });
  auto start = std::chrono::steady_clock::now();
  absl::Status s = watcher.Watch("/lease/", PrefixRangeEnd("/lease/"), 0,
                                 [](const EtcdWatchResponse&) { return true; });
  stopper.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(FleetEtcdTest, UnreachableEndpointsAreSkippedAndNamed) {
  EtcdOptions options = Etcd("/reach");
  options.endpoints.insert(options.endpoints.begin(), "http://127.0.0.1:1");
  EtcdClient etcd(options);
  EXPECT_TRUE(etcd.Range("/reach/x", "").ok());
  EtcdClient nowhere(Nowhere());
  absl::StatusOr<EtcdRange> r = nowhere.Range("/reach/x", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("http://127.0.0.1:1"));
}

TEST_F(FleetEtcdTest, APushWritesOnlyTheChangedObjectAndTheCommit) {
  EtcdClient etcd(Etcd("/push1"));
  FleetLayout layout("/push1");
  absl::StatusOr<PushResult> first =
      PushPolicy(etcd, layout, Policy(80), std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->changed);
  EXPECT_EQ(first->transactions, 1u);
  EXPECT_EQ(first->plan.puts.size(), 5u);  // settings, 2 groups, 2 interfaces

  absl::StatusOr<PushResult> same =
      PushPolicy(etcd, layout, Policy(80), first->revision);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(same->revision, first->revision);

  absl::StatusOr<PushResult> second =
      PushPolicy(etcd, layout, Policy(443), first->revision);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->plan.puts.size(), 1u);
  EXPECT_EQ(second->revision, first->revision + 1);
  auto history = History(etcd, "/push1/", second->revision, second->revision);
  EXPECT_THAT(history[second->revision],
              ElementsAre("PUT /push1/policy/security_groups/sg-web",
                          "PUT /push1/policy/commit"));

  // Conditional on a revision that is no longer the newest: refused.
  absl::StatusOr<PushResult> stale =
      PushPolicy(etcd, layout, Policy(8080), first->revision);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  FleetObjects objects(layout);
  ASSERT_TRUE(ReadCommittedPolicy(etcd, 0, objects).ok());
  EXPECT_EQ(objects.commit_revision(), second->revision);
  absl::StatusOr<rules::Policy> stored = objects.Assemble();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(testing::PolicyDifference(Policy(443), *stored), "");
}

TEST_F(FleetEtcdTest, ABigPushIsBatchedAndInvisibleUntilItCommits) {
  EtcdClient etcd(Etcd("/push2"));
  FleetLayout layout("/push2");
  absl::StatusOr<PushResult> base =
      PushPolicy(etcd, layout, Policy(80, 4), std::nullopt);
  ASSERT_TRUE(base.ok()) << base.status();
  absl::StatusOr<PushResult> big = PushPolicy(
      etcd, layout, Policy(80, 40), base->revision, {.max_operations = 8});
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->plan.puts.size(), 36u);
  EXPECT_EQ(big->transactions, 5u);
  auto history = History(etcd, "/push2/", base->revision + 1, big->revision);
  ASSERT_EQ(history.size(), 5u);
  for (const auto& [revision, events] : history) {
    // Every batch but the last names the push in the staging key; the
    // last commits and clears it.
    if (revision != big->revision) {
      EXPECT_EQ(events.back(), "PUT /push2/policy/staging");
    } else {
      EXPECT_THAT(events, ::testing::Contains("PUT /push2/policy/commit"));
      EXPECT_EQ(events.back(), "DELETE /push2/policy/staging");
    }
  }

  // A push cut short: a batch written, no commit. Readers still see the
  // last commit; once it is compacted, they wait.
  EtcdTxn batch;
  batch.Put(layout.ObjectKey(rules::PolicySection::kInterfaces, "eni-x"),
            "{addresses: [192.0.2.1]}");
  batch.Put(layout.StagingKey(), "{}");
  absl::StatusOr<EtcdTxnResult> cut = etcd.Txn(batch);
  ASSERT_TRUE(cut.ok());
  FleetObjects objects(layout);
  absl::StatusOr<int64_t> read = ReadCommittedPolicy(etcd, 0, objects);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, big->revision);
  EXPECT_FALSE(objects.staging());
  EXPECT_EQ(objects.Assemble()->interfaces.size(), 40u);
  ASSERT_TRUE(etcd.Compact(cut->revision).ok());
  EXPECT_EQ(ReadCommittedPolicy(etcd, 0, objects).status().code(),
            absl::StatusCode::kUnavailable);
  // The next push writes over it, commits and clears the staging key.
  absl::StatusOr<PushResult> next =
      PushPolicy(etcd, layout, Policy(80, 40), std::nullopt);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->changed);
  EXPECT_THAT(next->plan.deletes,
              ElementsAre(layout.ObjectKey(rules::PolicySection::kInterfaces,
                                           "eni-x")));
  ASSERT_TRUE(ReadCommittedPolicy(etcd, 0, objects).ok());
  EXPECT_FALSE(objects.staging());
  EXPECT_EQ(objects.commit_revision(), next->revision);
}

// Waits for the agent's next snapshot.
std::optional<FleetAgent::Snapshot> NextSnapshot(FleetAgent& agent) {
  for (int i = 0; i < 100; ++i) {
    if (auto s = agent.TakeSnapshot()) return s;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

TEST_F(FleetEtcdTest, AgentFollowsCommitsAndReportsUnderALease) {
  EtcdClient etcd(Etcd("/agent1"));
  FleetLayout layout("/agent1");
  absl::StatusOr<PushResult> first =
      PushPolicy(etcd, layout, Policy(80), std::nullopt);
  ASSERT_TRUE(first.ok());
  FleetAgent agent({.etcd = Etcd("/agent1"), .node = "n1"});
  agent.Start();
  EXPECT_TRUE(agent.WaitForFirstContact(5s));
  std::optional<FleetAgent::Snapshot> s = NextSnapshot(agent);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->revision, first->revision);
  ASSERT_TRUE(s->policy.ok()) << s->policy.status();
  EXPECT_EQ(testing::PolicyDifference(Policy(80), *s->policy), "");

  NodeStatus status;
  status.node = "n1";
  status.state = NodeStatus::State::kOk;
  status.revision = s->revision;
  agent.Report(status);
  absl::StatusOr<PushResult> second =
      PushPolicy(etcd, layout, Policy(443), std::nullopt);
  ASSERT_TRUE(second.ok());
  s = NextSnapshot(agent);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->revision, second->revision);
  EXPECT_EQ(s->objects.size(), 6u);  // 5 objects and the commit

  std::optional<EtcdKeyValue> key;
  for (int i = 0; i < 100 && !key; ++i) {
    absl::StatusOr<EtcdRange> r = etcd.Range(layout.NodeKey("n1"), "");
    if (r.ok() && !r->kvs.empty()) key = r->kvs[0];
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(key);
  EXPECT_NE(key->lease, 0);
  EXPECT_THAT(key->value, HasSubstr(R"("node":"n1","state":"ok")"));
  agent.Stop();  // revokes the lease
  EXPECT_TRUE(etcd.Range(layout.NodeKey("n1"), "")->kvs.empty());
}

TEST_F(FleetEtcdTest, AgentResumesFromItsCacheOrAfreshAfterCompaction) {
  EtcdClient etcd(Etcd("/agent2"));
  FleetLayout layout("/agent2");
  absl::StatusOr<PushResult> old =
      PushPolicy(etcd, layout, Policy(80), std::nullopt);
  ASSERT_TRUE(old.ok());
  FleetObjects objects(layout);
  ASSERT_TRUE(ReadCommittedPolicy(etcd, 0, objects).ok());
  const FleetCache cache{.prefix = "/agent2",
                         .revision = old->revision,
                         .objects = objects.Values()};

  // Caught up at once: the cache is the newest commit.
  {
    FleetAgent agent({.etcd = Etcd("/agent2"), .node = "n"});
    ASSERT_TRUE(agent.Resume(cache).ok());
    agent.Start();
    EXPECT_TRUE(agent.WaitForFirstContact(5s));
    EXPECT_FALSE(agent.TakeSnapshot());
  }
  // An agent resumed from the cache delivers `pushed` (the policy of
  // `port`) as its next snapshot.
  auto resumes_to = [&](const PushResult& pushed, int port) {
    FleetAgent agent({.etcd = Etcd("/agent2"), .node = "n"});
    ASSERT_TRUE(agent.Resume(cache).ok());
    agent.Start();
    EXPECT_TRUE(agent.WaitForFirstContact(5s));
    std::optional<FleetAgent::Snapshot> s = NextSnapshot(agent);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->revision, pushed.revision);
    ASSERT_TRUE(s->policy.ok());
    EXPECT_EQ(testing::PolicyDifference(Policy(port), *s->policy), "");
  };
  // Behind: the watch resumes after the cached revision.
  absl::StatusOr<PushResult> newer =
      PushPolicy(etcd, layout, Policy(443), std::nullopt);
  ASSERT_TRUE(newer.ok());
  resumes_to(*newer, 443);
  // The cached revision compacted away: a fresh read.
  absl::StatusOr<PushResult> newest =
      PushPolicy(etcd, layout, Policy(8443), std::nullopt);
  ASSERT_TRUE(newest.ok());
  ASSERT_TRUE(etcd.Compact(newest->revision).ok());
  resumes_to(*newest, 8443);
}

TEST_F(FleetEtcdTest, AgentWithoutEtcdSaysSoQuickly) {
  FleetAgent agent({.etcd = Nowhere(), .node = "n"});
  agent.Start();
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(agent.WaitForFirstContact(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(agent.TakeSnapshot());
}

}  // namespace
}  // namespace sgate::control

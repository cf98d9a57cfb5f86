#include "dataplane/flow_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <unordered_map>

namespace sgate::dataplane {
namespace {

// A FlowTable over its own heap block, as the dataplane would use hugepages.
class TestTable {
 public:
  explicit TestTable(uint32_t capacity)
      : memory_(static_cast<uint8_t*>(
            std::aligned_alloc(64, FlowTable::MemoryFor(capacity)))),
        table_(memory_.get(), capacity) {}
  FlowTable* operator->() { return &table_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory_;
  FlowTable table_;
};

FlowKey Key(uint32_t n, uint8_t protocol = 6) {
  FlowKey key;
  key.family = 4;
  key.protocol = protocol;
  key.local = {198, 51, 100, 10};
  key.remote = {203, 0, 113, static_cast<uint8_t>(n)};
  key.local_port = 443;
  key.remote_port = static_cast<uint16_t>(1024 + (n >> 8));
  return key;
}

FlowEntry* Find(TestTable& t, const FlowKey& key, uint32_t now) {
  return t->Lookup(key, FlowTable::Hash(key), now);
}
FlowEntry* Add(TestTable& t, const FlowKey& key, uint32_t expires_at) {
  FlowEntry* e = t->Insert(key, FlowTable::Hash(key));
  if (e) e->expires_at = expires_at;
  return e;
}

TEST(FlowTableTest, InsertThenLookup) {
  TestTable t(16);
  EXPECT_EQ(Find(t, Key(1), 0), nullptr);
  FlowEntry* e = Add(t, Key(1), 100);
  ASSERT_NE(e, nullptr);
  e->rule_id = 7;
  FlowEntry* found = Find(t, Key(1), 50);
  ASSERT_EQ(found, e);
  EXPECT_EQ(found->rule_id, 7u);
  EXPECT_EQ(Find(t, Key(2), 50), nullptr);
  EXPECT_EQ(Find(t, Key(1, 17), 50), nullptr);  // protocol is in the key
  EXPECT_EQ(t->counters().created, 1u);
  EXPECT_EQ(t->counters().active, 1u);
}

TEST(FlowTableTest, FullTableRefusesNewFlowsAndKeepsOldOnes) {
  TestTable t(4);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_NE(Add(t, Key(i), 1000), nullptr);
  EXPECT_EQ(Add(t, Key(99), 1000), nullptr);
  EXPECT_EQ(t->counters().insert_failed, 1u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_NE(Find(t, Key(i), 10), nullptr);
  // Room comes back when a flow goes.
  t->Remove(Find(t, Key(2), 10));
  EXPECT_EQ(t->counters().removed, 1u);
  EXPECT_NE(Add(t, Key(99), 1000), nullptr);
  EXPECT_EQ(Find(t, Key(2), 10), nullptr);
}

TEST(FlowTableTest, ExpiredFlowsAreNeverFound) {
  TestTable t(8);
  Add(t, Key(1), 100);
  EXPECT_NE(Find(t, Key(1), 99), nullptr);
  EXPECT_EQ(Find(t, Key(1), 100), nullptr);  // idle timeout reached
  EXPECT_EQ(t->counters().expired, 1u);
  EXPECT_EQ(t->counters().active, 0u);
  // The key can be admitted again as a new flow.
  EXPECT_NE(Add(t, Key(1), 200), nullptr);
}

TEST(FlowTableTest, ClockWrapIsHandled) {
  TestTable t(8);
  uint32_t now = UINT32_MAX - 5;
  Add(t, Key(1), now + 10);  // wraps past zero
  EXPECT_NE(Find(t, Key(1), now + 9), nullptr);
  EXPECT_EQ(Find(t, Key(1), now + 10), nullptr);
}

TEST(FlowTableTest, ExpireSomeScansIncrementally) {
  TestTable t(100);
  for (uint32_t i = 0; i < 100; ++i) Add(t, Key(i), i < 50 ? 10 : 1000);
  uint32_t removed = 0;
  for (int call = 0; call < 10; ++call) {
    uint32_t n = t->ExpireSome(20, 10);
    EXPECT_LE(n, 10u);
    removed += n;
  }
  EXPECT_EQ(removed, 50u);
  EXPECT_EQ(t->counters().active, 50u);
  EXPECT_EQ(t->counters().expired, 50u);
  uint32_t live = 0;
  t->ForEach(20, [&](const FlowEntry&) { ++live; });
  EXPECT_EQ(live, 50u);
}

// Random operations against std::unordered_map as the model.
TEST(FlowTableTest, MatchesAModelUnderRandomOperations) {
  constexpr uint32_t kCapacity = 5000;
  TestTable t(kCapacity);
  std::unordered_map<uint32_t, uint32_t> model;  // key number -> expiry
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  uint32_t now = 0;
  for (int op = 0; op < 200'000; ++op) {
    uint32_t n = rng() % 8000;
    FlowKey key = Key(n);
    key.remote[2] = n >> 8;  // spread the keys
    if (rng() % 100 == 0) ++now;
    auto it = model.find(n);
    bool live = it != model.end() && static_cast<int32_t>(now - it->second) < 0;
    if (it != model.end() && !live) model.erase(it);
    FlowEntry* e = Find(t, key, now);
    ASSERT_EQ(e != nullptr, live) << "op " << op;
    if (!live && rng() % 2) {
      FlowEntry* added = Add(t, key, now + 1 + rng() % 50);
      if (model.size() < kCapacity) {
        ASSERT_NE(added, nullptr) << "op " << op;  // no spurious failures
        model[n] = added->expires_at;
      } else {
        ASSERT_EQ(added, nullptr);
      }
    } else if (live && rng() % 10 == 0) {
      t->Remove(e);
      model.erase(n);
    }
    if (op % 1000 == 0) t->ExpireSome(now, 500);
  }
}

// The second bucket must not follow from the first: flows whose first
// bucket is full must spread over the others, not pile into one partner
// (CRC chains over the same words once made it a fixed function).
TEST(FlowTableTest, TheTwoBucketsOfAFlowAreIndependent) {
  std::vector<int> secondaries(16, 0);
  int keys = 0;
  for (uint32_t n = 0; n < 65536; ++n) {
    uint64_t hash = FlowTable::Hash(Key(n));
    if ((hash & 15) != 3) continue;
    ++keys;
    ++secondaries[(hash >> 32) & 15];
  }
  ASSERT_GT(keys, 3000);
  for (int b = 0; b < 16; ++b) {
    EXPECT_NEAR(secondaries[b], keys / 16, keys / 32) << "bucket " << b;
  }
}

TEST(FlowTableTest, AMillionFlowsFitTheMemoryBudget) {
  // Issue 5: at most 128 bytes per flow, 1 M flows within 256 MiB.
  constexpr uint32_t kFlows = 1 << 20;
  EXPECT_LE(FlowTable::MemoryFor(kFlows) / kFlows, 128u);
  EXPECT_LE(FlowTable::MemoryFor(kFlows), 256u << 20);
}

}  // namespace
}  // namespace sgate::dataplane

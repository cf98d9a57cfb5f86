#include "dataplane/flow_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

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
  key.family = rules::Family::kIPv4;
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
  t->SetRule(e, 7);
  FlowEntry* found = Find(t, Key(1), 50);
  ASSERT_EQ(found, e);
  EXPECT_EQ(t->Record(*found).rule_id, 7u);
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
  t->ForEach(20, [&](const FlowRecord&) { ++live; });
  EXPECT_EQ(live, 50u);
}

// Random inserts, lookups, removals and expiry against a plain map. A
// refused insert must come from a crowded table: at least
// `active_when_refused` entries (live, or dead ones the sweep has not
// reached yet).
void MatchModel(uint32_t capacity, uint32_t keys, int ops,
                uint32_t active_when_refused) {
  TestTable t(capacity);
  std::unordered_map<uint32_t, uint32_t> model;  // key number -> expiry
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  uint32_t now = 0;
  for (int op = 0; op < ops; ++op) {
    uint32_t n = static_cast<uint32_t>(rng() % keys);
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
      if (added != nullptr) {
        model[n] = added->expires_at;
      } else {
        ASSERT_GE(t->counters().active, active_when_refused) << "op " << op;
      }
    } else if (live && rng() % 10 == 0) {
      t->Remove(e);
      model.erase(n);
    }
    if (op % 1000 == 0) t->ExpireSome(now, 500);
  }
}

// 2,048 buckets of 8 slots for 5,000 flows: both buckets of a key are full
// only when the table nearly is.
TEST(FlowTableTest, MatchesAModelUnderRandomOperations) {
  MatchModel(5000, 8000, 200'000, 5000 * 9 / 10);
}

// Nine flows with the same primary bucket (of 16, 8 slots each, for a
// 64-flow table): the ninth goes to its secondary bucket and must be found
// there, and again after the others leave.
TEST(FlowTableTest, FlowsInTheirSecondaryBucketAreFound) {
  TestTable t(64);
  std::vector<FlowKey> same_primary;
  for (uint32_t n = 0; n < 65536 && same_primary.size() < 9; ++n) {
    FlowKey key = Key(n);
    uint64_t hash = FlowTable::Hash(key);
    if ((hash & 15) == 3 && ((hash >> 32) & 15) != 3) {
      same_primary.push_back(key);
    }
  }
  ASSERT_EQ(same_primary.size(), 9u);
  for (const FlowKey& key : same_primary) ASSERT_NE(Add(t, key, 100), nullptr);
  for (const FlowKey& key : same_primary) EXPECT_NE(Find(t, key, 1), nullptr);
  for (int i = 0; i < 8; ++i) t->Remove(Find(t, same_primary[i], 1));
  EXPECT_NE(Find(t, same_primary[8], 1), nullptr);
  EXPECT_EQ(Find(t, same_primary[0], 1), nullptr);
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

// 16 buckets of 8 slots for 64 flows: primary buckets fill up often, flows go
// to their secondary bucket and leave it, and a lookup must still find
// every one of them (Bucket::displaced). A refusal needs both of the key's
// buckets full: 16 entries.
TEST(FlowTableTest, MatchesAModelWhenBucketsOverflow) {
  MatchModel(64, 200, 200'000, 16);
}

// An entry counts packets in 16 bits and bytes in 32 (one cache line per
// flow); they carry over into the cold fields before they wrap, so the
// totals the control thread reads stay exact past both limits.
TEST(FlowTableTest, CountersStayExactPastTheEntrysNarrowFields) {
  TestTable t(8);
  FlowEntry* e = Add(t, Key(1), 100);
  ASSERT_NE(e, nullptr);
  constexpr uint64_t kPackets = 200'000;  // three carries of the packets
  constexpr uint32_t kLength = 60'000;    // 12 GB: bytes carry too
  for (uint64_t i = 0; i < kPackets; ++i) t->Count(e, 0, kLength);
  t->Count(e, 1, 64);
  t->SetRule(e, 42);
  FlowRecord r = t->Record(*e);
  EXPECT_EQ(r.packets[0], kPackets);
  EXPECT_EQ(r.bytes[0], kPackets * kLength);
  EXPECT_EQ(r.packets[1], 1u);
  EXPECT_EQ(r.bytes[1], 64u);
  EXPECT_EQ(r.rule_id, 42u);
  // A new flow in the same entry starts from zero.
  t->Remove(e);
  FlowEntry* again = Add(t, Key(1), 100);
  ASSERT_EQ(again, e);
  EXPECT_EQ(t->Record(*again).packets[0], 0u);
  EXPECT_EQ(t->Record(*again).bytes[0], 0u);
  EXPECT_EQ(t->Record(*again).rule_id, 0u);
}

// A flow whose name is pending or denied never has a table's generation,
// so the established path's one generation test finds it; its record
// shows the generation that admitted it.
TEST(FlowTableTest, ANameCheckTakesTheFlowOutOfEveryGeneration) {
  TestTable t(16);
  FlowEntry* e = Add(t, Key(1), 100);
  ASSERT_NE(e, nullptr);
  e->generation = 7;
  for (NameCheck check : {NameCheck::kPending, NameCheck::kNotAllowed,
                          NameCheck::kUndecided}) {
    e->SetNameCheck(check);
    EXPECT_EQ(e->name_check, check);
    EXPECT_NE(e->generation, 7u);
    EXPECT_GT(e->generation, kMaxGeneration);
    EXPECT_EQ(e->admitted_generation(), 7u);
    EXPECT_EQ(t->Record(*e).generation, 7u);
    EXPECT_EQ(t->Record(*e).name_check, check);
  }
  e->SetNameCheck(NameCheck::kNone);
  EXPECT_EQ(e->generation, 7u);
  EXPECT_EQ(t->Record(*e).name_check, NameCheck::kNone);
}

// Tables' generations never reach the name check's bit: they go round.
TEST(FlowTableTest, GenerationsStayBelowTheNameCheckBit) {
  EXPECT_EQ(NextGeneration(0), 1u);
  EXPECT_EQ(NextGeneration(41), 42u);
  EXPECT_EQ(NextGeneration(kMaxGeneration - 1), kMaxGeneration);
  EXPECT_EQ(NextGeneration(kMaxGeneration), 1u);
}

// The layout the hit path depends on: an entry is one cache line, and
// entries start on line boundaries.
TEST(FlowTableTest, EachEntryIsOneCacheLine) {
  TestTable t(16);
  for (uint32_t i = 0; i < 16; ++i) {
    FlowEntry* e = Add(t, Key(i), 100);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e) % 64, 0u) << i;
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

#include "dataplane/rule_counters.h"

#include <gtest/gtest.h>

namespace sgate::dataplane {
namespace {

TEST(RuleCountersTest, SumsWorkersPerRule) {
  RuleCounters counters(/*workers=*/3, /*rules=*/10);
  counters.Add(0, 9);
  counters.Add(1, 9);
  counters.Add(2, 9);
  counters.Add(2, 0);
  EXPECT_EQ(counters.Admitted(9), 3u);
  EXPECT_EQ(counters.Admitted(0), 1u);
  for (uint32_t rule = 1; rule < 9; ++rule) EXPECT_EQ(counters.Admitted(rule), 0u);
}

TEST(RuleCountersTest, WorkersWriteSeparateCacheLines) {
  // Rule counts that are not a multiple of 8 still keep the slices apart:
  // worker 1's first counter is not worker 0's last.
  RuleCounters counters(2, 3);
  counters.Add(0, 2);
  counters.Add(1, 0);
  EXPECT_EQ(counters.Admitted(2), 1u);
  EXPECT_EQ(counters.Admitted(0), 1u);
  // Each slice starts a cache line, whatever the allocator's alignment.
  for (uint32_t worker : {0u, 1u}) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(counters.slice(worker)) %
                  RuleCounters::kCacheLine,
              0u);
  }
  EXPECT_GE(reinterpret_cast<uintptr_t>(counters.slice(1)) -
                reinterpret_cast<uintptr_t>(counters.slice(0)),
            RuleCounters::kCacheLine);
}

}  // namespace
}  // namespace sgate::dataplane

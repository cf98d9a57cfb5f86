#include "dataplane/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/support/eal_environment.h"

namespace sgate::dataplane {
namespace {

std::atomic<int> g_live_tables{0};
std::atomic<uint32_t> registered_readers{0};

// A table whose contents check themselves: every word is derived from the
// generation, and destruction poisons them, so a reader holding a freed
// table sees a mismatch (and ASan sees the use after free).
struct TestTable {
  static constexpr int kWords = 64;
  explicit TestTable(uint32_t generation) : generation(generation) {
    for (int i = 0; i < kWords; ++i) words[i] = generation * 2654435761u + i;
    ++g_live_tables;
  }
  ~TestTable() {
    std::memset(words, 0xDE, sizeof(words));
    generation = 0xDEADDEAD;
    --g_live_tables;
  }
  bool Consistent() const {
    for (int i = 0; i < kWords; ++i) {
      if (words[i] != generation * 2654435761u + i) return false;
    }
    return true;
  }
  uint32_t generation;
  uint32_t words[kWords];
};

// Two readers use the table continuously, as workers do (read once per
// iteration, use it, report a quiescent state), while 1,000 tables are
// published in a row. No reader may ever see a freed table or a generation
// going backwards, and in the end exactly one table is alive.
TEST(PublishedTest, ThousandSwapsUnderLoad) {
  ASSERT_TRUE(sgate::testing::InitEal());
  constexpr uint32_t kReaders = 2;
  constexpr uint32_t kSwaps = 1000;
  {
    Published<TestTable> tables(kReaders);
    ASSERT_TRUE(tables.ok());
    tables.Swap(std::make_unique<TestTable>(1));
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0};
    std::atomic<uint64_t> reads{0};
    std::vector<std::thread> readers;
    for (uint32_t id = 0; id < kReaders; ++id) {
      readers.emplace_back([&, id] {
        tables.RegisterWorker(id);
        ++registered_readers;
        uint32_t last = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          const TestTable* t = tables.Current();
          // "Use" the table for a while, as a burst would.
          for (int k = 0; k < 8; ++k) {
            if (!t->Consistent() || t->generation < last) ++bad;
          }
          last = t->generation;
          ++reads;
          tables.Quiescent(id);
        }
        tables.UnregisterWorker(id);
      });
    }
    // Swap only once every reader is registered and reading: from then on
    // each swap waits for both, so swaps and reads interleave.
    while (registered_readers.load() < kReaders) std::this_thread::yield();
    for (uint32_t g = 2; g <= kSwaps + 1; ++g) {
      std::unique_ptr<TestTable> old =
          tables.Swap(std::make_unique<TestTable>(g));
      ASSERT_NE(old, nullptr);
      EXPECT_EQ(old->generation, g - 1);
      // `old` is freed here: the grace period has passed.
    }
    stop = true;
    for (std::thread& r : readers) r.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(reads.load(), kSwaps);  // the readers really were reading
    EXPECT_EQ(tables.Current()->generation, kSwaps + 1);
    EXPECT_EQ(g_live_tables.load(), 1);  // only the live one remains
  }
  EXPECT_EQ(g_live_tables.load(), 0);  // and Published frees it at the end
}

// A reader that stops reporting holds the swap up instead of letting it
// free a table in use; the wait is measured.
TEST(PublishedTest, AStuckReaderDelaysTheFree) {
  ASSERT_TRUE(sgate::testing::InitEal());
  Published<TestTable> tables(1);
  tables.Swap(std::make_unique<TestTable>(1));
  std::atomic<bool> release{false};
  std::atomic<bool> holding{false};
  std::thread reader([&] {
    tables.RegisterWorker(0);
    const TestTable* t = tables.Current();
    holding = true;
    while (!release) std::this_thread::yield();  // stuck, holding `t`
    EXPECT_TRUE(t->Consistent());  // still alive: the swap waited
    tables.Quiescent(0);
    tables.UnregisterWorker(0);
  });
  while (!holding) std::this_thread::yield();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
  });
  std::unique_ptr<TestTable> old = tables.Swap(std::make_unique<TestTable>(2));
  EXPECT_GE(tables.last_grace_period(), std::chrono::milliseconds(40));
  reader.join();
  releaser.join();
}

}  // namespace
}  // namespace sgate::dataplane

#include "dataplane/worker.h"

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "dataplane/port.h"
#include "dataplane/reference_table.h"
#include "rules/policy_loader.h"
#include "tests/support/eal_environment.h"
#include "tests/support/frame_builder.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::FrameBuilder;

constexpr char kPolicy[] = R"(version: 1
security_groups:
  sg-dns:
    ingress:
      - {protocol: udp, ports: 53, cidr: 0.0.0.0/0}
interfaces:
  eni-dns: {addresses: [198.51.100.10], security_groups: [sg-dns]}
)";

// The peer takes `per_call` frames off the inside port's transmit ring just
// before each transmit attempt (a pre-tx callback, so in the worker's own
// thread: the test does not depend on the scheduler).
struct DrainingPeer {
  rte_ring* ring;
  unsigned per_call;
  uint64_t delivered = 0;

  static uint16_t BeforeTx(uint16_t, uint16_t, rte_mbuf**, uint16_t frames,
                           void* self) {
    auto* peer = static_cast<DrainingPeer*>(self);
    void* taken[kMaxPerCall];
    unsigned n = rte_ring_dequeue_burst(peer->ring, taken, peer->per_call,
                                        nullptr);
    for (unsigned i = 0; i < n; ++i) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(taken[i]));
    }
    peer->delivered += n;
    return frames;
  }
  static constexpr unsigned kMaxPerCall = 64;
};

// A transmit queue that refuses part of a burst (the peer's ring is full)
// gets the rest on retries while it drains, and only what it never takes
// is dropped as tx_full. Ports are ring-backed (net_ring), so the test sees
// every frame the worker sends.
class WorkerTest : public ::testing::Test {
 protected:
  // The inside port's transmit ring holds this many frames.
  static constexpr unsigned kTxRoom = 8;
  static constexpr uint16_t kFrames = 32;  // one rx burst
  static constexpr int kMaxBursts = 200;   // kMaxBursts * kFrames flows

  static void SetUpTestSuite() {
    ASSERT_TRUE(sgate::testing::InitEal({.program = "sgate-worker-test"}));
    pool_ = rte_pktmbuf_pool_create("worker_test", 4096, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }

  void SetUp() override {
    static int instance = 0;
    ++instance;
    auto ring = [&](const char* what, unsigned size) {
      std::string name = std::string(what) + std::to_string(instance);
      return rte_ring_create(name.c_str(), size, SOCKET_ID_ANY,
                             RING_F_EXACT_SZ);
    };
    // Port "inside": receives nothing, sends into a small ring.
    inside_rx_ = ring("in_rx", 64);
    inside_tx_ = ring("in_tx", kTxRoom);
    // Port "outside": the test's frames arrive on it; it sends nowhere.
    outside_rx_ = ring("out_rx", 64);
    outside_tx_ = ring("out_tx", 64);
    ASSERT_TRUE(inside_rx_ && inside_tx_ && outside_rx_ && outside_tx_);
    std::string n = std::to_string(instance);
    int inside = rte_eth_from_rings(("w_in" + n).c_str(), &inside_rx_, 1,
                                    &inside_tx_, 1, SOCKET_ID_ANY);
    int outside = rte_eth_from_rings(("w_out" + n).c_str(), &outside_rx_, 1,
                                     &outside_tx_, 1, SOCKET_ID_ANY);
    ASSERT_GE(inside, 0);
    ASSERT_GE(outside, 0);
    pair_ = {static_cast<uint16_t>(inside), static_cast<uint16_t>(outside)};
    // ethdev's burst functions are live only on a started port.
    for (uint16_t port : {pair_.inside, pair_.outside}) {
      absl::Status started =
          SetUpPort({.port_id = port, .rss = false, .pool = pool_});
      ASSERT_TRUE(started.ok()) << started;
    }

    tables_ = std::make_unique<Published<ReferenceTable>>(1);
    tables_->Swap(std::make_unique<ReferenceTable>(
        *rules::LoadPolicyString(kPolicy), "", /*generation=*/1));
    const uint32_t capacity = 8192;  // a flow per frame sent
    flow_memory_ = rte_zmalloc("worker_test_flows",
                               FlowTable::MemoryFor(capacity), 64);
    accounting_memory_ = rte_zmalloc(
        "worker_test_accounting", FlowAccounting::MemoryFor(capacity), 64);
    ASSERT_NE(flow_memory_, nullptr);
    ASSERT_NE(accounting_memory_, nullptr);
    worker_ = Worker<ReferenceTable>::Create(
        SOCKET_ID_ANY, 0, 0, std::vector<PortPairIds>{pair_}, flow_memory_,
        accounting_memory_, capacity, *tables_, stop_);
    ASSERT_NE(worker_, nullptr);
    thread_ = std::thread([this] { worker_->Run(); });
  }

  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    // The worker has stopped: nothing runs the callback any more.
    if (drain_callback_ != nullptr) {
      rte_eth_remove_tx_callback(pair_.inside, 0, drain_callback_);
      rte_free(const_cast<rte_eth_rxtx_callback*>(drain_callback_));
    }
    worker_.reset();
    for (uint16_t port : {pair_.inside, pair_.outside}) {
      rte_eth_dev_stop(port);
      rte_eth_dev_close(port);
    }
    rte_free(flow_memory_);
    rte_free(accounting_memory_);
    tables_.reset();
    for (rte_ring* r : {inside_tx_, outside_rx_}) {
      void* m;
      while (rte_ring_dequeue(r, &m) == 0) {
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
    }
  }

  // One burst of allowed DNS queries from outside, each a new flow.
  void SendBurst(uint16_t first_source_port) {
    rte_mbuf* burst[kFrames];
    for (uint16_t i = 0; i < kFrames; ++i) {
      std::vector<uint8_t> frame =
          FrameBuilder()
              .Ipv4("203.0.113.5", "198.51.100.10")
              .Udp(static_cast<uint16_t>(first_source_port + i), 53)
              .Build();
      burst[i] = rte_pktmbuf_alloc(pool_);
      ASSERT_NE(burst[i], nullptr);
      std::memcpy(rte_pktmbuf_append(burst[i], frame.size()), frame.data(),
                  frame.size());
    }
    ASSERT_EQ(rte_ring_enqueue_burst(outside_rx_, reinterpret_cast<void**>(burst),
                                     kFrames, nullptr),
              kFrames);
  }

  void DrainFromPeer(DrainingPeer* peer) {
    drain_callback_ = rte_eth_add_tx_callback(pair_.inside, 0,
                                              &DrainingPeer::BeforeTx, peer);
    ASSERT_NE(drain_callback_, nullptr);
  }

  // Waits until the worker has decided every frame sent so far.
  void WaitForDecisions(uint64_t total) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (Decided() < total &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // Every frame is either forwarded or dropped for some reason.
  uint64_t Decided() const {
    const volatile EnforcerCounters& c = worker_->counters();
    uint64_t decided = c.forwarded;
    for (int reason = 0; reason < kDropReasonCount; ++reason) {
      decided += c.drops[reason];
    }
    return decided;
  }

  static rte_mempool* pool_;
  rte_ring* inside_rx_ = nullptr;
  rte_ring* inside_tx_ = nullptr;
  rte_ring* outside_rx_ = nullptr;
  rte_ring* outside_tx_ = nullptr;
  PortPairIds pair_;
  std::unique_ptr<Published<ReferenceTable>> tables_;
  void* flow_memory_ = nullptr;
  void* accounting_memory_ = nullptr;
  std::atomic<bool> stop_{false};
  Worker<ReferenceTable>::Ptr worker_;
  std::thread thread_;
  const rte_eth_rxtx_callback* drain_callback_ = nullptr;
};
rte_mempool* WorkerTest::pool_ = nullptr;

// Nobody drains the ring: the worker gives up after kTxIdleRetries idle
// retries and drops the tail as tx_full.
TEST_F(WorkerTest, AStuckQueueDropsTheTail) {
  SendBurst(10000);
  WaitForDecisions(kFrames);
  stop_ = true;
  thread_.join();
  const EnforcerCounters& c = worker_->counters();
  EXPECT_EQ(c.forwarded, kTxRoom);
  EXPECT_EQ(c.drops[static_cast<int>(DropReason::kTxFull)], kFrames - kTxRoom);
  EXPECT_EQ(worker_->port_counters(pair_.inside).tx_packets, kTxRoom);
  EXPECT_EQ(worker_->port_counters(pair_.inside).tx_retried, 0u);
  EXPECT_EQ(worker_->port_counters(pair_.outside).rx_dropped,
            kFrames - kTxRoom);
  EXPECT_EQ(rte_ring_count(inside_tx_), kTxRoom);
}

// A queue that drains as the worker waits: the tail the first attempt could
// not place goes out on the retries, and nothing is dropped.
TEST_F(WorkerTest, ADrainingQueueTakesTheTailOnRetries) {
  DrainingPeer peer{inside_tx_, /*per_call=*/4};
  DrainFromPeer(&peer);
  SendBurst(20000);
  WaitForDecisions(kFrames);
  stop_ = true;
  thread_.join();
  const EnforcerCounters& c = worker_->counters();
  EXPECT_EQ(c.forwarded, kFrames);
  EXPECT_EQ(c.drops[static_cast<int>(DropReason::kTxFull)], 0u);
  // 8 placed at once, then 4 per retry.
  EXPECT_EQ(worker_->port_counters(pair_.inside).tx_retried,
            kFrames - kTxRoom);
  EXPECT_EQ(worker_->port_counters(pair_.inside).tx_packets, kFrames);
  EXPECT_EQ(peer.delivered + rte_ring_count(inside_tx_), kFrames);
}

// A queue that drains too slowly: the retries are bounded, and what they
// could not place is dropped as tx_full.
TEST_F(WorkerTest, ASlowQueueGetsBoundedRetries) {
  DrainingPeer peer{inside_tx_, /*per_call=*/1};
  DrainFromPeer(&peer);
  SendBurst(30000);
  WaitForDecisions(kFrames);
  stop_ = true;
  thread_.join();
  const uint64_t retried = Worker<ReferenceTable>::kTxRetries;  // 1 frame each
  const EnforcerCounters& c = worker_->counters();
  EXPECT_EQ(c.forwarded, kTxRoom + retried);
  EXPECT_EQ(c.drops[static_cast<int>(DropReason::kTxFull)],
            kFrames - kTxRoom - retried);
  EXPECT_EQ(worker_->port_counters(pair_.inside).tx_retried, retried);
  EXPECT_EQ(peer.delivered + rte_ring_count(inside_tx_), c.forwarded);
}

}  // namespace
}  // namespace sgate::dataplane

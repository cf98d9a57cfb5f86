#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/enforcer.h"
#include "dataplane/flow_table.h"
#include "dataplane/port_pair.h"
#include "dataplane/published.h"

namespace sgate::dataplane {

// Per-port counters of one worker, for `sgatectl stats`.
struct PortCounters {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_dropped = 0;  // received here and dropped by sgate
};

// Port ids index the per-port counters; 32 ports is past any deployment of
// a bump in the wire and keeps the array a few cache lines.
inline constexpr uint16_t kMaxPorts = 32;

// One worker lcore's loop, run to completion: for each port of each pair,
// rx burst → Enforcer per packet → tx burst to the peer port; then a slice
// of flow expiry and an RCU quiescent state. All state it writes is its
// own (flow table, counters), so it takes no locks.
template <typename Table>
class Worker {
 public:
  // 32 packets per burst: DPDK's usual rx burst, enough to amortise the
  // driver call, small enough that a burst's mbufs stay in L1.
  static constexpr uint16_t kBurst = 32;
  // Expiry examines this many flow entries per loop iteration: at tens of
  // millions of iterations a second that sweeps a 1 M-flow table in well
  // under a second, at a cost of a few ns per iteration.
  static constexpr uint32_t kExpiryBudget = 64;

  Worker(uint32_t id, uint16_t queue, std::vector<PortPairIds> pairs,
         FlowTable& flows, Published<Table>& tables,
         const std::atomic<bool>& stop)
      : id_(id),
        queue_(queue),
        pairs_(std::move(pairs)),
        enforcer_(flows, id),
        tables_(tables),
        stop_(stop) {}

  void Run() {
    tables_.RegisterWorker(id_);
    const uint64_t hz = rte_get_tsc_hz();
    while (!stop_.load(std::memory_order_relaxed)) {
      uint32_t now = static_cast<uint32_t>(rte_get_tsc_cycles() / hz);
      const Table* table = tables_.Current();
      for (const PortPairIds& pair : pairs_) {
        Poll(pair.inside, pair.outside, Side::kInside, now, *table);
        Poll(pair.outside, pair.inside, Side::kOutside, now, *table);
      }
      enforcer_.flows().ExpireSome(now, kExpiryBudget);
      tables_.Quiescent(id_);
    }
    tables_.UnregisterWorker(id_);
  }

  const EnforcerCounters& counters() const { return enforcer_.counters(); }
  const PortCounters& port_counters(uint16_t port) const {
    return ports_[port];
  }
  const FlowTable& flows() { return enforcer_.flows(); }

 private:
  void Poll(uint16_t rx_port, uint16_t tx_port, Side side, uint32_t now,
            const Table& table) {
    rte_mbuf* rx[kBurst];
    uint16_t n = rte_eth_rx_burst(rx_port, queue_, rx, kBurst);
    if (n == 0) return;
    ports_[rx_port].rx_packets += n;
    rte_mbuf* tx[kBurst];
    uint16_t forward = 0;
    for (uint16_t i = 0; i < n; ++i) {
      if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
      rte_mbuf* m = rx[i];
      // Headers are parsed from the first segment: with 2 KiB mbufs and
      // standard MTUs every frame is one segment; a jumbo frame scattered
      // over segments still has its headers in the first.
      Verdict v = enforcer_.Process(rte_pktmbuf_mtod(m, const uint8_t*),
                                    rte_pktmbuf_data_len(m), side, now,
                                    table);
      if (v.forward) {
        tx[forward++] = m;
      } else {
        ++ports_[rx_port].rx_dropped;
        rte_pktmbuf_free(m);
      }
    }
    uint16_t sent = rte_eth_tx_burst(tx_port, queue_, tx, forward);
    ports_[tx_port].tx_packets += sent;
    if (sent < forward) {
      enforcer_.CountTxFailures(forward - sent);
      ports_[rx_port].rx_dropped += forward - sent;
      rte_pktmbuf_free_bulk(tx + sent, forward - sent);
    }
  }

  uint32_t id_;
  uint16_t queue_;
  std::vector<PortPairIds> pairs_;
  Enforcer enforcer_;
  Published<Table>& tables_;
  const std::atomic<bool>& stop_;
  PortCounters ports_[kMaxPorts] = {};
};

}  // namespace sgate::dataplane

#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/enforcer.h"
#include "dataplane/flow_snapshot.h"
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
  static constexpr uint16_t kBurst = Enforcer::kMaxBurst;
  // Flow entries expiry examines per loop iteration. Busy, a few: at
  // ~200 k bursts a second that still sweeps a 1 M-flow table every
  // second or so (and Lookup never returns an expired flow anyway). Idle,
  // many: the time is free.
  static constexpr uint32_t kExpiryBusy = 8;
  static constexpr uint32_t kExpiryIdle = 512;

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
      uint32_t received = 0;
      for (const PortPairIds& pair : pairs_) {
        received += Poll(pair.inside, pair.outside, Side::kInside, now, *table);
        received += Poll(pair.outside, pair.inside, Side::kOutside, now, *table);
      }
      enforcer_.flows().ExpireSome(now, received ? kExpiryBusy : kExpiryIdle);
      snapshot_.Serve(enforcer_.flows(), now);
      probe_.Serve(enforcer_.flows(), now);
      tables_.Quiescent(id_);
    }
    tables_.UnregisterWorker(id_);
  }

  const EnforcerCounters& counters() const { return enforcer_.counters(); }
  const PortCounters& port_counters(uint16_t port) const {
    return ports_[port];
  }
  const FlowTable& flows() { return enforcer_.flows(); }
  FlowSnapshot& snapshot() { return snapshot_; }
  FlowProbe& probe() { return probe_; }

 private:
  // Returns how many packets it received.
  uint16_t Poll(uint16_t rx_port, uint16_t tx_port, Side side, uint32_t now,
                const Table& table) {
    rte_mbuf* rx[kBurst];
    uint16_t n = rte_eth_rx_burst(rx_port, queue_, rx, kBurst);
    if (n == 0) return 0;
    ports_[rx_port].rx_packets += n;
    // Headers are parsed from the first segment: with 2 KiB mbufs and
    // standard MTUs every frame is one segment; a jumbo frame scattered
    // over segments still has its headers in the first.
    const uint8_t* frames[kBurst];
    uint32_t lengths[kBurst];
    for (uint16_t i = 0; i < n; ++i) {
      frames[i] = rte_pktmbuf_mtod(rx[i], const uint8_t*);
      lengths[i] = rte_pktmbuf_data_len(rx[i]);
      rte_prefetch0(frames[i]);
    }
    Verdict verdicts[kBurst];
    enforcer_.ProcessBurst(frames, lengths, n, side, now, table, verdicts);
    rte_mbuf* tx[kBurst];
    uint16_t forward = 0;
    for (uint16_t i = 0; i < n; ++i) {
      if (verdicts[i].forward) {
        tx[forward++] = rx[i];
      } else {
        ++ports_[rx_port].rx_dropped;
        rte_pktmbuf_free(rx[i]);
      }
    }
    uint16_t sent = rte_eth_tx_burst(tx_port, queue_, tx, forward);
    ports_[tx_port].tx_packets += sent;
    if (sent < forward) {
      enforcer_.CountTxFailures(forward - sent);
      ports_[rx_port].rx_dropped += forward - sent;
      rte_pktmbuf_free_bulk(tx + sent, forward - sent);
    }
    return n;
  }

  uint32_t id_;
  uint16_t queue_;
  std::vector<PortPairIds> pairs_;
  Enforcer enforcer_;
  Published<Table>& tables_;
  const std::atomic<bool>& stop_;
  PortCounters ports_[kMaxPorts] = {};
  FlowSnapshot snapshot_;
  FlowProbe probe_;
};

}  // namespace sgate::dataplane

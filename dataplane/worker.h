#pragma once

#include <rte_cycles.h>
#include <rte_debug.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "dataplane/counter_list.h"
#include "dataplane/enforcer.h"
#include "dataplane/flow_accounting.h"
#include "dataplane/flow_snapshot.h"
#include "dataplane/flow_table.h"
#include "dataplane/port_pair.h"
#include "dataplane/policy_table.h"
#include "dataplane/published.h"
#include "dataplane/tcp_reset.h"

namespace sgate::dataplane {

// Port ids index the per-port counters; 32 ports is past any deployment of
// a bump in the wire and keeps the array a few cache lines.
inline constexpr uint16_t kMaxPorts = 32;
inline constexpr uint16_t kMaxPairs = kMaxPorts / 2;

// One worker lcore's loop, run to completion: for each port of each pair,
// rx burst → Enforcer per packet → tx burst to the peer port; then a slice
// of flow expiry and an RCU quiescent state. All state it writes is its
// own (flow table, counters, fragment table, listing buffers), held in the
// object itself, so that Create puts it all on the worker's socket; it
// takes no locks.
template <PolicyTable Table>
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
  // A transmit queue refuses what it has no room for: the peer's ring of a
  // virtual link whose reader was descheduled a moment, a NIC's descriptors
  // in a micro-burst. The unsent tail of a burst is retried up to
  // kTxRetries times, kTxRetryDelayUs apart, before it is dropped as
  // tx_full (testpmd's --retry idea). A queue that takes nothing on
  // kTxIdleRetries retries in a row is not draining: the worker gives up
  // then, so a dead peer costs each burst 2 µs, not 16.
  static constexpr int kTxRetries = 16;
  static constexpr int kTxIdleRetries = 2;
  static constexpr uint32_t kTxRetryDelayUs = 1;

  // `flow_memory`: FlowTable::MemoryFor(flow_capacity) bytes and
  // `accounting_memory`: FlowAccounting::MemoryFor(flow_capacity) bytes
  // (the worker owns neither). At most kMaxPairs pairs.
  Worker(uint32_t id, uint16_t queue, const std::vector<PortPairIds>& pairs,
         void* flow_memory, void* accounting_memory, uint32_t flow_capacity,
         Published<Table>& tables, const std::atomic<bool>& stop)
      : id_(id),
        queue_(queue),
        pair_count_(static_cast<uint16_t>(pairs.size())),
        flows_(flow_memory, flow_capacity),
        accounting_(accounting_memory, flow_capacity),
        enforcer_(flows_, id),
        tables_(tables),
        stop_(stop) {
    RTE_ASSERT(pairs.size() <= kMaxPairs);
    std::copy(pairs.begin(), pairs.end(), pairs_.begin());
    flows_.Attach(&accounting_);
  }

  // Workers are freed with rte_free (Create).
  struct Free {
    void operator()(Worker* worker) const {
      worker->~Worker();
      rte_free(worker);
    }
  };
  using Ptr = std::unique_ptr<Worker, Free>;

  // A worker in DPDK memory on `socket`, cache-aligned: its loop touches
  // its counters and tables on every packet, so they live beside the
  // lcore that runs it. Null when the memory is not there.
  template <typename... Args>
  static Ptr Create(int socket, Args&&... args) {
    void* memory = rte_zmalloc_socket("sgate_worker", sizeof(Worker),
                                      RTE_CACHE_LINE_SIZE, socket);
    if (memory == nullptr) return nullptr;
    return Ptr(new (memory) Worker(std::forward<Args>(args)...));
  }

  void Run() {
    tables_.RegisterWorker(id_);
    const uint64_t hz = rte_get_tsc_hz();
    while (!stop_.load(std::memory_order_relaxed)) {
      uint32_t now = static_cast<uint32_t>(rte_get_tsc_cycles() / hz);
      const Table* table = tables_.Current();
      uint32_t received = 0;
      for (uint16_t p = 0; p < pair_count_; ++p) {
        const PortPairIds& pair = pairs_[p];
        if (table == nullptr) {  // no policy yet: forward nothing
          received += DropAll(pair.inside) + DropAll(pair.outside);
          continue;
        }
        received += Poll(pair.inside, pair.outside, Side::kInside, now, *table);
        received += Poll(pair.outside, pair.inside, Side::kOutside, now, *table);
      }
      // Expiry reports the flows it frees to the accounting, with `now`.
      accounting_.Tick(now, table != nullptr && table->flow_logs());
      flows_.ExpireSome(now, received ? kExpiryBusy : kExpiryIdle);
      accounting_.ServeFlush(flows_);
      snapshot_.Serve(flows_, enforcer_.names(), now);
      probe_.Serve(flows_, enforcer_.names(), now);
      tables_.Quiescent(id_);
    }
    tables_.UnregisterWorker(id_);
  }

  const EnforcerCounters& counters() const { return enforcer_.counters(); }
  const PortCounters& port_counters(uint16_t port) const {
    return ports_[port];
  }
  const FlowTable& flows() const { return flows_; }
  // The control thread: interface counters, flow-log queue and flushes.
  FlowAccounting& accounting() { return accounting_; }
  const FlowAccounting& accounting() const { return accounting_; }
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
    const uint32_t to_reset = enforcer_.resets();
    rte_mbuf* tx[kBurst];
    rte_mbuf* resets[kBurst];
    uint16_t forward = 0, reset = 0;
    for (uint16_t i = 0; i < n; ++i) {
      if (verdicts[i].forward) {
        tx[forward++] = rx[i];
      } else {
        ++ports_[rx_port].rx_dropped;
        if ((to_reset >> i & 1) != 0 && MakeReset(rx[i])) {
          resets[reset++] = rx[i];
        } else {
          rte_pktmbuf_free(rx[i]);
        }
      }
    }
    uint16_t sent = rte_eth_tx_burst(tx_port, queue_, tx, forward);
    if (sent < forward) [[unlikely]] {
      sent += RetryTx(tx_port, tx + sent, forward - sent);
    }
    ports_[tx_port].tx_packets += sent;
    if (sent < forward) {
      enforcer_.CountTxFailures(forward - sent);
      ports_[rx_port].rx_dropped += forward - sent;
      rte_pktmbuf_free_bulk(tx + sent, forward - sent);
    }
    if (reset != 0) SendResets(rx_port, resets, reset);
    return n;
  }

  // Sends what it can of `count` frames the queue refused; returns how many.
  uint16_t RetryTx(uint16_t port, rte_mbuf** unsent, uint16_t count) {
    uint16_t sent = 0;
    for (int retry = 0, idle = 0;
         retry < kTxRetries && idle < kTxIdleRetries && sent < count;
         ++retry) {
      rte_delay_us_block(kTxRetryDelayUs);
      uint16_t n = rte_eth_tx_burst(port, queue_, unsent + sent, count - sent);
      sent += n;
      idle = n ? 0 : idle + 1;
    }
    ports_[port].tx_retried += sent;
    return sent;
  }

  // Before the first policy (a fleet node with neither etcd nor a cache):
  // every frame is received, counted under no_policy and freed.
  uint16_t DropAll(uint16_t rx_port) {
    rte_mbuf* rx[kBurst];
    uint16_t n = rte_eth_rx_burst(rx_port, queue_, rx, kBurst);
    if (n == 0) return 0;
    ports_[rx_port].rx_packets += n;
    ports_[rx_port].rx_dropped += n;
    enforcer_.CountUndecided(n, DropReason::kNoPolicy);
    rte_pktmbuf_free_bulk(rx, n);
    return n;
  }

  // A dropped frame becomes, in place, the TCP RST to its sender (a client
  // denied by name); false if it cannot (then it is freed).
  static bool MakeReset(rte_mbuf* m) {
    if (m->nb_segs != 1) return false;
    uint32_t length = RewriteAsReset(rte_pktmbuf_mtod(m, uint8_t*),
                                     rte_pktmbuf_data_len(m));
    if (length == 0) return false;
    m->data_len = static_cast<uint16_t>(length);
    m->pkt_len = length;
    m->ol_flags = 0;
    return true;
  }
  // Back out of the port they came from. Resets the queue refuses are
  // freed: the client's next packet is answered again.
  void SendResets(uint16_t port, rte_mbuf** resets, uint16_t count) {
    uint16_t sent = rte_eth_tx_burst(port, queue_, resets, count);
    ports_[port].tx_packets += sent;
    enforcer_.CountResetsSent(sent);
    if (sent < count) rte_pktmbuf_free_bulk(resets + sent, count - sent);
  }

  uint32_t id_;
  uint16_t queue_;
  uint16_t pair_count_;
  std::array<PortPairIds, kMaxPairs> pairs_{};
  FlowTable flows_;
  FlowAccounting accounting_;
  Enforcer enforcer_;
  Published<Table>& tables_;
  const std::atomic<bool>& stop_;
  PortCounters ports_[kMaxPorts] = {};
  FlowSnapshot snapshot_;
  FlowProbe probe_;
};

}  // namespace sgate::dataplane

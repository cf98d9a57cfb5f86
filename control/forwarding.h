#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/dataplane_view.h"
#include "control/flow_log_writer.h"
#include "control/stats_snapshot.h"
#include "dataplane/live_table.h"
#include "dataplane/port_pair.h"
#include "dataplane/published.h"
#include "dataplane/worker.h"

struct rte_mempool;

namespace sgate::control {

struct ForwardingConfig {
  std::vector<dataplane::PortPairIds> pairs;
  // Mbufs in the pool; 0: enough for every descriptor (MbufCount).
  uint32_t mbufs = 0;
  // Each mbuf's data room, headroom included; 0: RTE_MBUF_DEFAULT_BUF_SIZE.
  uint32_t mbuf_size = 0;
  // Spread connections over the workers' queues with RSS; off when the
  // ports' queues are already split by connection.
  bool rss = true;
  // Flows tracked by all workers together (settings.max_flows).
  uint32_t max_flows = 0;
};

// The forwarding side of sgate: the mbuf pool, the ports and one Worker per
// worker lcore, each with its flow table, all in DPDK memory on the
// worker's socket. The control thread starts and stops it, sums its
// counters and asks the workers about their flows; the workers read the
// rule table from the PolicyPublisher's Published<>.
class Forwarding {
 public:
  using Worker = dataplane::Worker<dataplane::LiveTable>;

  Forwarding() = default;
  Forwarding(const Forwarding&) = delete;
  Forwarding& operator=(const Forwarding&) = delete;
  // Stops the workers if need be, stops and closes the ports, frees the
  // flow tables and the workers.
  ~Forwarding();

  // Workers: every lcore but the main one.
  static uint32_t WorkerCount();

  // Creates the pool, sets up every port of `config.pairs` with a queue
  // pair per worker, and launches the workers; they run until `stop` is
  // set. A failure is an error naming what could not be had.
  absl::Status Start(const ForwardingConfig& config,
                     dataplane::Published<dataplane::LiveTable>& tables,
                     const std::atomic<bool>& stop);
  // Once `stop` is set: waits for the workers to return. Their counters
  // stay readable until the Forwarding is destroyed.
  void Stop();

  // Port and worker counters, summed over the workers, into `snapshot`,
  // and those of each interface it lists.
  void AddTo(StatsSnapshot& snapshot) const;

  // Per interface slot (control/interface_slots.h): the flows all workers
  // track for it, and zeroing what they counted (a slot nothing uses).
  uint64_t FlowsOf(uint16_t slot) const;
  void ResetSlot(uint16_t slot);
  // What the flow-log writer reads: each worker's accounting and flows.
  std::vector<FlowLogWriter::Source> FlowLogSources();

  // DataplaneView's flow questions, answered by the workers themselves.
  absl::StatusOr<std::optional<DataplaneView::FoundFlow>> FindFlow(
      const dataplane::FlowKey& key);
  absl::StatusOr<std::vector<std::vector<DataplaneView::ListedFlow>>>
  ListFlows(uint32_t limit);

  uint32_t flows_per_worker() const { return flows_per_worker_; }

 private:
  struct FreeDpdk {
    void operator()(void* memory) const;
  };
  std::vector<dataplane::PortPairIds> pairs_;
  rte_mempool* pool_ = nullptr;
  std::vector<std::unique_ptr<void, FreeDpdk>> flow_memory_;
  std::vector<Worker::Ptr> workers_;
  uint32_t flows_per_worker_ = 0;
  bool launched_ = false;
};

}  // namespace sgate::control

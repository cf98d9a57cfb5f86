#include "control/forwarding.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dataplane/port.h"
#include "rules/status_macros.h"

namespace sgate::control {
namespace {

// Mbufs: every rx and tx descriptor of every queue can hold one, plus a
// burst in flight per worker and port, plus the per-lcore caches and some
// slack for the pool's own accounting.
constexpr uint32_t kMbufCache = 256;
uint32_t MbufCount(uint32_t ports, uint32_t workers) {
  const dataplane::PortConfig defaults;
  uint32_t descriptors =
      ports * workers * (defaults.rx_descriptors + defaults.tx_descriptors);
  uint32_t in_flight = workers * ports * 2 * Forwarding::Worker::kBurst;
  return descriptors + in_flight + (workers + 1) * kMbufCache + 1024;
}

// Workers serve a question within microseconds; a second means one is
// stuck, and the answer says so rather than waiting on it.
constexpr auto kWorkerAnswerTimeout = std::chrono::seconds(1);

// Waits until ready(w) for every worker, polling; false at the deadline.
template <typename Ready>
bool WaitForWorkers(size_t workers, Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kWorkerAnswerTimeout;
  for (size_t w = 0; w < workers; ++w) {
    while (!ready(w)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  return true;
}

}  // namespace

void Forwarding::FreeDpdk::operator()(void* memory) const { rte_free(memory); }

uint32_t Forwarding::WorkerCount() { return rte_lcore_count() - 1; }

absl::Status Forwarding::Start(
    const ForwardingConfig& config,
    dataplane::Published<dataplane::LiveTable>& tables,
    const std::atomic<bool>& stop) {
  const uint32_t workers = WorkerCount();
  if (workers == 0) {
    return absl::InvalidArgumentError(
        "sgate needs at least two lcores (e.g. -l 0,1): the main lcore "
        "runs control, the others forward");
  }
  if (config.pairs.size() > dataplane::kMaxPairs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", dataplane::kMaxPairs, " port pairs are supported"));
  }
  pairs_ = config.pairs;
  std::vector<uint16_t> ports;
  for (const dataplane::PortPairIds& p : pairs_) {
    for (uint16_t port : {p.inside, p.outside}) {
      if (port >= dataplane::kMaxPorts) {
        return absl::InvalidArgumentError(absl::StrCat(
            "port ", port, " is past the ", dataplane::kMaxPorts,
            " ports sgate supports"));
      }
      ports.push_back(port);
    }
  }
  uint32_t mbufs = config.mbufs ? config.mbufs
                                : MbufCount(ports.size(), workers);
  uint16_t mbuf_size = static_cast<uint16_t>(
      config.mbuf_size ? config.mbuf_size : RTE_MBUF_DEFAULT_BUF_SIZE);
  pool_ = rte_pktmbuf_pool_create("sgate_mbufs", mbufs, kMbufCache, 0,
                                  mbuf_size, rte_socket_id());
  if (pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot allocate the mbuf pool: ", rte_strerror(rte_errno),
        " (give EAL more memory: -m, or hugepages)"));
  }
  for (uint16_t port : ports) {
    SGATE_RETURN_IF_ERROR(dataplane::SetUpPort(
        {.port_id = port, .queues = static_cast<uint16_t>(workers),
         .rss = config.rss, .pool = pool_}));
  }

  // Each worker tracks its share of settings.max_flows (RSS gives each a
  // share of the connections), in memory on its own socket: the flow table
  // and its side arrays (dataplane/flow_accounting.h) in one block.
  flows_per_worker_ = std::max<uint32_t>(1, config.max_flows / workers);
  const size_t table_bytes =
      dataplane::FlowTable::MemoryFor(flows_per_worker_);
  const size_t bytes =
      table_bytes + dataplane::FlowAccounting::MemoryFor(flows_per_worker_);
  uint32_t id = 0;
  unsigned lcore;
  std::vector<unsigned> lcores;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    const int socket = static_cast<int>(rte_lcore_to_socket_id(lcore));
    void* memory = rte_zmalloc_socket("sgate_flows", bytes,
                                      RTE_CACHE_LINE_SIZE, socket);
    if (memory == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot allocate a flow table of ", flows_per_worker_, " flows (",
          bytes >> 20, " MiB per worker): give EAL more memory (-m, "
          "hugepages) or lower settings.max_flows"));
    }
    flow_memory_.emplace_back(memory);
    Worker::Ptr worker =
        Worker::Create(socket, id, static_cast<uint16_t>(id), pairs_, memory,
                       static_cast<uint8_t*>(memory) + table_bytes,
                       flows_per_worker_, tables, stop);
    if (worker == nullptr) {
      return absl::ResourceExhaustedError(
          "cannot allocate a worker: give EAL more memory");
    }
    workers_.push_back(std::move(worker));
    lcores.push_back(lcore);
    ++id;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    rte_eal_remote_launch(
        [](void* worker) {
          static_cast<Worker*>(worker)->Run();
          return 0;
        },
        workers_[i].get(), lcores[i]);
  }
  launched_ = true;
  return absl::OkStatus();
}

void Forwarding::Stop() {
  if (launched_) rte_eal_mp_wait_lcore();
  launched_ = false;
}

Forwarding::~Forwarding() {
  Stop();
  for (const dataplane::PortPairIds& p : pairs_) {
    for (uint16_t port : {p.inside, p.outside}) {
      rte_eth_dev_stop(port);
      rte_eth_dev_close(port);
    }
  }
  pairs_.clear();
  workers_.clear();
  flow_memory_.clear();
}

void Forwarding::AddTo(StatsSnapshot& s) const {
  for (const dataplane::PortPairIds& p : pairs_) {
    for (uint16_t port : {p.inside, p.outside}) {
      StatsSnapshot::Port& sum = s.ports.emplace_back();
      sum.port = port;
      sum.name = dataplane::PortName(port);
      for (const Worker::Ptr& w : workers_) {
        dataplane::AddPortCounters(w->port_counters(port), sum.counters);
      }
      // The device's own: frames lost before any worker polled them.
      rte_eth_stats device{};
      if (rte_eth_stats_get(port, &device) == 0) {
        dataplane::SetDeviceCounters(device, sum.counters);
      }
    }
  }
  for (const Worker::Ptr& w : workers_) {
    dataplane::AddWorkerCounters(w->counters(), w->flows().counters(),
                                 s.counters);
  }
  for (StatsSnapshot::Interface& i : s.interfaces) {
    for (const Worker::Ptr& w : workers_) {
      dataplane::AddInterfaceCounters(w->accounting().counters(i.slot),
                                      i.counters);
    }
  }
}

uint64_t Forwarding::FlowsOf(uint16_t slot) const {
  uint64_t flows = 0;
  for (const Worker::Ptr& w : workers_) {
    flows += w->accounting().counters(slot).flows;
  }
  return flows;
}

void Forwarding::ResetSlot(uint16_t slot) {
  for (const Worker::Ptr& w : workers_) w->accounting().ResetSlot(slot);
}

std::vector<FlowLogWriter::Source> Forwarding::FlowLogSources() {
  std::vector<FlowLogWriter::Source> sources;
  for (const Worker::Ptr& w : workers_) {
    sources.push_back({&w->accounting(), &w->flows()});
  }
  return sources;
}

absl::StatusOr<std::optional<DataplaneView::FoundFlow>> Forwarding::FindFlow(
    const dataplane::FlowKey& key) {
  for (const Worker::Ptr& w : workers_) w->probe().Ask(key);
  if (!WaitForWorkers(workers_.size(),
                      [&](size_t w) { return workers_[w]->probe().Ready(); })) {
    return absl::DeadlineExceededError(
        "a worker did not answer within a second");
  }
  for (uint32_t w = 0; w < workers_.size(); ++w) {
    const dataplane::FlowProbe& probe = workers_[w]->probe();
    if (probe.answer()) {
      return DataplaneView::FoundFlow{w, *probe.answer(),
                                      std::string(probe.name())};
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<std::vector<DataplaneView::ListedFlow>>>
Forwarding::ListFlows(uint32_t limit) {
  for (const Worker::Ptr& w : workers_) w->snapshot().Request(limit);
  if (!WaitForWorkers(workers_.size(), [&](size_t w) {
        return workers_[w]->snapshot().Ready();
      })) {
    return absl::DeadlineExceededError(
        "a worker did not answer within a second");
  }
  std::vector<std::vector<DataplaneView::ListedFlow>> flows;
  for (const Worker::Ptr& w : workers_) {
    const dataplane::FlowSnapshot& snapshot = w->snapshot();
    std::vector<DataplaneView::ListedFlow>& listed = flows.emplace_back();
    for (uint32_t i = 0; i < snapshot.count(); ++i) {
      listed.push_back({snapshot.flows()[i], std::string(snapshot.name(i))});
    }
  }
  return flows;
}

}  // namespace sgate::control

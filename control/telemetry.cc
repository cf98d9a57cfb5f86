#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <mutex>

namespace sgate::control {
namespace {

std::mutex g_mutex;
StatsSnapshot g_snapshot;  // guarded by g_mutex

StatsSnapshot Latest() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_snapshot;
}

int Stats(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = Latest();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
  rte_tel_data_add_dict_u64(d, "reloads_rejected", s.reloads_rejected);
  rte_tel_data_add_dict_u64(d, "received", s.totals.received);
  rte_tel_data_add_dict_u64(d, "forwarded", s.totals.forwarded);

  rte_tel_data* ports = rte_tel_data_alloc();
  rte_tel_data_start_array(ports, RTE_TEL_CONTAINER);
  for (const StatsSnapshot::Port& p : s.ports) {
    rte_tel_data* port = rte_tel_data_alloc();
    rte_tel_data_start_dict(port);
    rte_tel_data_add_dict_u64(port, "port", p.port);
    rte_tel_data_add_dict_u64(port, "rx_packets", p.counters.rx_packets);
    rte_tel_data_add_dict_u64(port, "tx_packets", p.counters.tx_packets);
    rte_tel_data_add_dict_u64(port, "rx_dropped", p.counters.rx_dropped);
    rte_tel_data_add_array_container(ports, port, /*keep=*/0);
  }
  rte_tel_data_add_dict_container(d, "ports", ports, /*keep=*/0);

  rte_tel_data* drops = rte_tel_data_alloc();
  rte_tel_data_start_dict(drops);
  for (int r = dataplane::kFirstDropReason; r < dataplane::kDropReasonCount;
       ++r) {
    rte_tel_data_add_dict_u64(
        drops, dataplane::DropReasonName(static_cast<dataplane::DropReason>(r)),
        s.totals.drops[r]);
  }
  rte_tel_data_add_dict_container(d, "drops", drops, /*keep=*/0);

  rte_tel_data* flows = rte_tel_data_alloc();
  rte_tel_data_start_dict(flows);
  rte_tel_data_add_dict_u64(flows, "active", s.flows.active);
  rte_tel_data_add_dict_u64(flows, "created", s.flows.created);
  rte_tel_data_add_dict_u64(flows, "expired", s.flows.expired);
  rte_tel_data_add_dict_u64(flows, "insert_failed", s.flows.insert_failed);
  rte_tel_data_add_dict_container(d, "flows", flows, /*keep=*/0);
  return 0;
}

int Generation(const char*, const char*, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", Latest().generation);
  return 0;
}

}  // namespace

void RegisterTelemetry() {
  rte_telemetry_register_cmd("/sgate/stats", Stats,
                             "sgate's counters: ports, drops by reason, "
                             "flows. No parameters.");
  rte_telemetry_register_cmd("/sgate/generation", Generation,
                             "The live policy generation. No parameters.");
}

void PublishTelemetry(StatsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_snapshot = std::move(snapshot);
}

}  // namespace sgate::control

#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <mutex>
#include <string>

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
  rte_tel_data_add_dict_int(d, "last_grace_period_us",
                            static_cast<int>(s.last_grace_period_us));
  rte_tel_data_add_dict_u64(d, "received", s.totals.received);
  rte_tel_data_add_dict_u64(d, "forwarded", s.totals.forwarded);
  rte_tel_data_add_dict_u64(d, "icmp_errors_of_flows",
                            s.totals.icmp_errors_of_flows);
  rte_tel_data_add_dict_u64(d, "unknown_interface_passed",
                            s.totals.unknown_interface_passed);

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
  rte_tel_data_add_dict_u64(flows, "removed", s.flows.removed);
  rte_tel_data_add_dict_u64(flows, "insert_failed", s.flows.insert_failed);
  rte_tel_data_add_dict_container(d, "flows", flows, /*keep=*/0);
  return 0;
}

// DPDK 22.11 telemetry nests containers one level deep, and a dict may hold
// no array of containers: the ports are a command of their own, a dict by
// port id.
int Ports(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = Latest();
  rte_tel_data_start_dict(d);
  for (const StatsSnapshot::Port& p : s.ports) {
    rte_tel_data* port = rte_tel_data_alloc();
    rte_tel_data_start_dict(port);
    rte_tel_data_add_dict_u64(port, "port", p.port);
    rte_tel_data_add_dict_string(port, "name", p.name.c_str());
    rte_tel_data_add_dict_u64(port, "rx_packets", p.counters.rx_packets);
    rte_tel_data_add_dict_u64(port, "tx_packets", p.counters.tx_packets);
    rte_tel_data_add_dict_u64(port, "rx_dropped", p.counters.rx_dropped);
    rte_tel_data_add_dict_container(d, std::to_string(p.port).c_str(), port,
                                    /*keep=*/0);
  }
  return 0;
}

// Flows admitted per rule under the live generation, as "rules_admitted"
// in `sgatectl stats --json` ("group/direction/index" -> flows), but as two
// lists of the same length: telemetry dict keys allow only a few characters
// and group names may hold any. A telemetry list holds at most
// RTE_TEL_MAX_ARRAY_ENTRIES, a string RTE_TEL_MAX_STRING_LEN - 1 bytes: the
// rules past either limit are counted in "rules_left_out" (`sgatectl rules`
// lists every rule).
int Rules(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = Latest();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
  rte_tel_data* names = rte_tel_data_alloc();
  rte_tel_data* counts = rte_tel_data_alloc();
  rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
  rte_tel_data_start_array(counts, RTE_TEL_U64_VAL);
  size_t shown = 0;
  for (const auto& [rule, count] : s.rules_admitted) {
    if (rule.size() >= RTE_TEL_MAX_STRING_LEN ||
        rte_tel_data_add_array_string(names, rule.c_str()) != 0) {
      break;
    }
    rte_tel_data_add_array_u64(counts, count);
    ++shown;
  }
  rte_tel_data_add_dict_container(d, "rules", names, /*keep=*/0);
  rte_tel_data_add_dict_container(d, "admitted", counts, /*keep=*/0);
  rte_tel_data_add_dict_u64(d, "rules_left_out",
                            s.rules_admitted.size() - shown);
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
                             "sgate's counters: drops by reason, flows "
                             "(ports: /sgate/ports). No parameters.");
  rte_telemetry_register_cmd("/sgate/ports", Ports,
                             "Packets per port, by port id. No "
                             "parameters.");
  rte_telemetry_register_cmd("/sgate/rules", Rules,
                             "Flows admitted per rule (rules with none are "
                             "left out). No parameters.");
  rte_telemetry_register_cmd("/sgate/generation", Generation,
                             "The live policy generation. No parameters.");
}

void PublishTelemetry(StatsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_snapshot = std::move(snapshot);
}

}  // namespace sgate::control

#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <string>

#include "control/latest_stats.h"

namespace sgate::control {
namespace {

// The same keys as `sgatectl stats --json`, from the same counter list;
// the ports are /sgate/ports.
int Stats(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = LatestStats();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
  rte_tel_data_add_dict_u64(d, "reloads_rejected", s.reloads_rejected);
  rte_tel_data_add_dict_int(d, "last_grace_period_us",
                            static_cast<int>(s.last_grace_period_us));
  rte_tel_data_add_dict_int(d, "last_build_us",
                            static_cast<int>(s.last_build_us));
  rte_tel_data_add_dict_u64(d, "acl_contexts_built", s.acl_contexts_built);
  rte_tel_data_add_dict_u64(d, "acl_contexts_reused", s.acl_contexts_reused);
  rte_tel_data* section = nullptr;
  for (size_t i = 0; i < dataplane::kCounterList.size(); ++i) {
    const dataplane::CounterInfo& c = dataplane::kCounterList[i];
    const char* key = SectionKey(c.section);
    if (key == nullptr) {
      rte_tel_data_add_dict_u64(d, c.name, s.counters[i]);
      continue;
    }
    if (section == nullptr) {
      section = rte_tel_data_alloc();
      rte_tel_data_start_dict(section);
    }
    rte_tel_data_add_dict_u64(section, c.name, s.counters[i]);
    if (i + 1 == dataplane::kCounterList.size() ||
        dataplane::kCounterList[i + 1].section != c.section) {
      rte_tel_data_add_dict_container(d, key, section, /*keep=*/0);
      section = nullptr;
    }
  }
  return 0;
}

// DPDK 22.11 telemetry nests containers one level deep, and a dict may hold
// no array of containers: the ports are a command of their own, a dict by
// port id.
int Ports(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = LatestStats();
  rte_tel_data_start_dict(d);
  for (const StatsSnapshot::Port& p : s.ports) {
    rte_tel_data* port = rte_tel_data_alloc();
    rte_tel_data_start_dict(port);
    rte_tel_data_add_dict_u64(port, "port", p.port);
    rte_tel_data_add_dict_string(port, "name", p.name.c_str());
    for (size_t i = 0; i < dataplane::kPortCounterCount; ++i) {
      rte_tel_data_add_dict_u64(port, dataplane::kPortCounterList[i].name,
                                p.counters[i]);
    }
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
  StatsSnapshot s = LatestStats();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
  rte_tel_data* names = rte_tel_data_alloc();
  rte_tel_data* counts = rte_tel_data_alloc();
  rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
  rte_tel_data_start_array(counts, RTE_TEL_U64_VAL);
  size_t shown = 0;
  for (const StatsSnapshot::RuleAdmitted& rule : s.rules_admitted) {
    std::string name = rule.Name();
    if (name.size() >= RTE_TEL_MAX_STRING_LEN ||
        rte_tel_data_add_array_string(names, name.c_str()) != 0) {
      break;
    }
    rte_tel_data_add_array_u64(counts, rule.admitted);
    ++shown;
  }
  rte_tel_data_add_dict_container(d, "rules", names, /*keep=*/0);
  rte_tel_data_add_dict_container(d, "admitted", counts, /*keep=*/0);
  rte_tel_data_add_dict_u64(d, "rules_left_out",
                            s.rules_admitted.size() - shown);
  return 0;
}

// The interfaces' counters (dataplane::kInterfaceCounterList), as lists of
// the same length beside "interfaces", the names (telemetry keys cannot
// hold every interface name), like /sgate/rules; those past a list's
// limit are counted in "interfaces_left_out".
int Interfaces(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s = LatestStats();
  rte_tel_data_start_dict(d);
  rte_tel_data* names = rte_tel_data_alloc();
  rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
  rte_tel_data* values[dataplane::kInterfaceCounterCount];
  for (rte_tel_data*& v : values) {
    v = rte_tel_data_alloc();
    rte_tel_data_start_array(v, RTE_TEL_U64_VAL);
  }
  size_t shown = 0;
  for (const StatsSnapshot::Interface& i : s.interfaces) {
    if (i.name.size() >= RTE_TEL_MAX_STRING_LEN ||
        rte_tel_data_add_array_string(names, i.name.c_str()) != 0) {
      break;
    }
    for (size_t c = 0; c < dataplane::kInterfaceCounterCount; ++c) {
      rte_tel_data_add_array_u64(values[c], i.counters[c]);
    }
    ++shown;
  }
  rte_tel_data_add_dict_container(d, "interfaces", names, /*keep=*/0);
  for (size_t c = 0; c < dataplane::kInterfaceCounterCount; ++c) {
    rte_tel_data_add_dict_container(d, dataplane::kInterfaceCounterList[c].name,
                                    values[c], /*keep=*/0);
  }
  rte_tel_data_add_dict_u64(d, "interfaces_left_out",
                            s.interfaces.size() - shown);
  return 0;
}

int Generation(const char*, const char*, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", LatestStats().generation);
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
  rte_telemetry_register_cmd("/sgate/interfaces", Interfaces,
                             "Flows, drops and flow-log losses per "
                             "interface. No parameters.");
  rte_telemetry_register_cmd("/sgate/generation", Generation,
                             "The live policy generation. No parameters.");
}

}  // namespace sgate::control

#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/enforcer.h"
#include "dataplane/flow_table.h"
#include "dataplane/worker.h"

namespace sgate::control {

// sgate's counters summed over the workers at one moment: what `sgatectl
// stats`, --stats-interval, the exit totals and DPDK telemetry all show.
struct StatsSnapshot {
  uint32_t generation = 0;
  uint64_t reloads_rejected = 0;
  // How long the last swap waited for every worker to pass a quiescent
  // state before freeing the old table: a stuck worker shows here.
  int64_t last_grace_period_us = 0;
  uint64_t tsc_hz = 0;  // turns packet rates into cycles per packet
  uint64_t tsc = 0;     // when it was taken: rates between two snapshots
  struct Port {
    uint16_t port = 0;
    std::string name;
    dataplane::PortCounters counters;
  };
  std::vector<Port> ports;
  dataplane::EnforcerCounters totals;
  dataplane::FlowTable::Counters flows;
  // "group/direction/index" -> flows admitted under the live generation;
  // rules with none are left out (`sgatectl rules` lists them all).
  std::vector<std::pair<std::string, uint64_t>> rules_admitted;
};

// The JSON of DESIGN.md §6 (and more keys; those names stay stable).
std::string StatsJson(const StatsSnapshot& s);

}  // namespace sgate::control

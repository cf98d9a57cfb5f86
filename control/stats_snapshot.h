#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/counter_list.h"
#include "rules/policy.h"

namespace sgate::control {

// sgate's counters summed over the workers at one moment: what `sgatectl
// stats`, --stats-interval, the exit totals and DPDK telemetry all show.
// The worker counters are values in dataplane::kCounterList order, so every
// report iterates that one list.
struct StatsSnapshot {
  uint32_t generation = 0;
  uint64_t reloads_rejected = 0;
  // How long the last swap waited for every worker to pass a quiescent
  // state before freeing the old table: a stuck worker shows here.
  int64_t last_grace_period_us = 0;
  // How long the live table took to build, and how many of its rte_acl
  // contexts it built or shared with the table before it (a reload that
  // only moved interfaces builds none).
  int64_t last_build_us = 0;
  uint32_t acl_contexts_built = 0;
  uint32_t acl_contexts_reused = 0;
  uint64_t tsc_hz = 0;  // turns packet rates into cycles per packet
  uint64_t tsc = 0;     // when it was taken: rates between two snapshots
  struct Port {
    uint16_t port = 0;
    std::string name;
    dataplane::PortCounterValues counters{};  // kPortCounterList order
  };
  std::vector<Port> ports;
  dataplane::CounterValues counters{};  // dataplane::kCounterList order
  // Flows admitted per rule under the live generation; rules with none are
  // left out (`sgatectl rules` lists them all).
  struct RuleAdmitted {
    std::string group;
    rules::Direction direction = rules::Direction::kIngress;
    uint32_t index = 0;
    uint64_t admitted = 0;
    std::string Name() const;  // "group/direction/index"
  };
  std::vector<RuleAdmitted> rules_admitted;
  // The interfaces enforced here (and those removed whose flows are still
  // open), in slot order (control/interface_slots.h).
  struct Interface {
    uint16_t slot = 0;
    std::string name;
    bool live = true;  // false: gone from the policy, flows left
    std::optional<uint32_t> max_flows;  // the node's cap, if any
    dataplane::InterfaceCounterValues counters{};  // kInterfaceCounterList
  };
  std::vector<Interface> interfaces;

  // One counter by section and name (0 if there is none such).
  uint64_t Get(dataplane::CounterSection section, const char* name) const;
};

// The JSON of DESIGN.md §6 (and more keys; those names stay stable): the
// packet counters at the top level, "drops" and "flows" objects, "ports".
std::string StatsJson(const StatsSnapshot& s);

// The JSON key of a counter section's object ("drops", "flows"); null for
// the packet counters, which sit at the top level.
const char* SectionKey(dataplane::CounterSection section);

}  // namespace sgate::control

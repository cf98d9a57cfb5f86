#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/stats_snapshot.h"
#include "dataplane/flow_table.h"
#include "dataplane/policy_table.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::control {

// What the control socket's commands ask of a running sgate: the narrow
// interface between the server-side handlers (request_handlers.h) and the
// program that owns the workers and the published tables. The handlers
// run on the control thread, which is also the only thread that swaps
// tables: whatever a call returns by reference stays valid until the
// handler returns. Tests implement it without EAL.
class DataplaneView {
 public:
  virtual ~DataplaneView() = default;

  // The live policy generation, its policy and how its table decides one
  // packet (and, if `name` is not empty, a flow pending a name on it).
  virtual uint32_t generation() const = 0;
  virtual const rules::Policy& policy() const = 0;
  virtual dataplane::Explanation Explain(const rules::PacketKey& packet,
                                         absl::string_view name) const = 0;
  // Flows admitted by rule `rule_id` of the live policy, all workers; and
  // by domain `domain_id` (rules::Policy::domain()).
  virtual uint64_t Admitted(uint32_t rule_id) const = 0;
  virtual uint64_t NamesMatched(uint32_t domain_id) const = 0;
  virtual StatsSnapshot Stats() const = 0;

  // Loads and publishes the policy again; a policy that fails to load or
  // compile leaves the live table in place and is returned as the error.
  virtual absl::Status Reload() = 0;

  // Seconds on the workers' flow clock (FlowRecord::expires_at's).
  virtual uint32_t FlowClock() const = 0;
  // A flow, and the name that decided it (empty if none, or forgotten:
  // dataplane/flow_names.h).
  struct ListedFlow {
    dataplane::FlowRecord entry;
    std::string name;
  };
  struct FoundFlow {
    uint32_t worker = 0;
    dataplane::FlowRecord entry;
    std::string name;
  };
  // Asks every worker whether it tracks `key` (each looks in its own
  // table). An error when a worker does not answer in time.
  virtual absl::StatusOr<std::optional<FoundFlow>> FindFlow(
      const dataplane::FlowKey& key) = 0;
  // Up to `limit` live flows of each worker, copied by the workers
  // themselves; indexed by worker. An error when one does not answer.
  virtual absl::StatusOr<std::vector<std::vector<ListedFlow>>> ListFlows(
      uint32_t limit) = 0;
};

}  // namespace sgate::control

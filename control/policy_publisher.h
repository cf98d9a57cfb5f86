#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/stats_snapshot.h"
#include "dataplane/live_table.h"
#include "dataplane/published.h"
#include "rules/policy.h"

namespace sgate::control {

// The control thread's one writer of the live rule table: compiles a
// policy off the packet path and publishes it to the workers with an RCU
// pointer swap (dataplane::Published), one generation per good policy.
// Whatever the policy came from (a file, SIGHUP, the control socket, a
// fleet agent), it goes through Publish.
class PolicyPublisher {
 public:
  // `workers`: how many worker lcores will read the table.
  PolicyPublisher(uint32_t workers, dataplane::LiveTable::Options options);

  // False when the RCU state could not be allocated.
  bool ok() const { return tables_.ok(); }

  // Compiles `policy` and publishes it as the next generation, returning
  // once no worker can still read the previous table, which it frees. A
  // policy that failed to load (an error) or fails to compile changes
  // nothing: it is logged, counted as rejected and returned.
  absl::Status Publish(absl::StatusOr<rules::Policy> policy);

  // What the workers read; Live() is null before the first Publish.
  dataplane::Published<dataplane::LiveTable>& tables() { return tables_; }
  const dataplane::LiveTable* Live() const { return tables_.Current(); }

  uint32_t generation() const { return generation_; }
  // Generation, refusals, the last grace period and the flows admitted per
  // rule of the live table.
  void AddTo(StatsSnapshot& snapshot) const;

 private:
  uint32_t workers_;
  dataplane::LiveTable::Options options_;
  dataplane::Published<dataplane::LiveTable> tables_;
  uint32_t generation_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace sgate::control

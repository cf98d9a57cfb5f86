#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/interface_slots.h"
#include "control/stats_snapshot.h"
#include "dataplane/live_table.h"
#include "dataplane/published.h"
#include "rules/policy.h"

namespace sgate::control {

// A part of sgate that a policy's settings configure besides the rule
// table (the flow-log writer). Publish asks every one to Prepare a new
// policy's settings before the table goes live; one refusal (a located
// error: a file that cannot be opened, ...) refuses the whole policy, and
// the others Abandon what they prepared. Commit puts the settings in force
// once the table is live.
class SettingsConsumer {
 public:
  virtual ~SettingsConsumer() = default;
  virtual absl::Status Prepare(const rules::Policy& policy) = 0;
  virtual void Commit() = 0;
  virtual void Abandon() = 0;
};

// The control thread's one writer of the live rule table: compiles a
// policy off the packet path and publishes it to the workers with an RCU
// pointer swap (dataplane::Published), one generation per good policy.
// Whatever the policy came from (a file, SIGHUP, the control socket, a
// fleet agent), it goes through Publish: it is where a policy's settings
// take effect, and a refused policy changes nothing.
class PolicyPublisher {
 public:
  // `workers`: how many worker lcores will read the table.
  PolicyPublisher(uint32_t workers, dataplane::LiveTable::Options options);

  // False when the RCU state could not be allocated.
  bool ok() const { return tables_.ok(); }

  // Told of every policy before it is published (not owned).
  void AddConsumer(SettingsConsumer* consumer) {
    consumers_.push_back(consumer);
  }

  // Compiles `policy`, gives its interfaces their slots, lets the settings
  // consumers prepare, and publishes it as the next generation, returning
  // once no worker can still read the previous table, which it frees. A
  // policy that failed to load (an error), fails to compile or is refused
  // by a consumer changes nothing: it is logged, counted as rejected and
  // returned.
  absl::Status Publish(absl::StatusOr<rules::Policy> policy);

  // What the workers read; Live() is null before the first Publish.
  dataplane::Published<dataplane::LiveTable>& tables() { return tables_; }
  const dataplane::LiveTable* Live() const { return tables_.Current(); }
  InterfaceSlots& slots() { return slots_; }
  const InterfaceSlots& slots() const { return slots_; }

  uint32_t generation() const { return generation_; }
  // Generation, refusals, the last grace period, the flows admitted per
  // rule of the live table and the interfaces by slot (their counters are
  // the workers', Forwarding::AddTo).
  void AddTo(StatsSnapshot& snapshot) const;

 private:
  // The table of a loaded policy, with its interfaces' slots and every
  // consumer prepared; on an error, nothing is left prepared.
  absl::StatusOr<std::unique_ptr<dataplane::LiveTable>> Prepare(
      absl::StatusOr<rules::Policy> policy);

  uint32_t workers_;
  dataplane::LiveTable::Options options_;
  dataplane::Published<dataplane::LiveTable> tables_;
  InterfaceSlots slots_;
  std::vector<SettingsConsumer*> consumers_;
  uint32_t generation_ = 0;
  uint64_t rejected_ = 0;
  // How the live table was built (what it shares with its predecessor).
  rules::RuleTableStats last_build_;
};

}  // namespace sgate::control

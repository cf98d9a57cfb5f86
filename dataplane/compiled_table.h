#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/enforcer.h"
#include "dataplane/rule_counters.h"
#include "rules/policy.h"
#include "rules/rule_table.h"
#include "rules/untracked.h"

namespace sgate::dataplane {

// What the workers read through Published<>: one policy compiled into a
// rules::RuleTable (rte_fib + rte_acl), with the generation and timeouts
// that came with it. Immutable once built.
class CompiledTable {
 public:
  static absl::StatusOr<std::unique_ptr<CompiledTable>> Build(
      rules::Policy policy, uint32_t generation, uint32_t workers,
      const rules::RuleTableOptions& options) {
    absl::StatusOr<std::unique_ptr<rules::RuleTable>> table =
        rules::RuleTable::Build(policy, options);
    if (!table.ok()) return table.status();
    return std::unique_ptr<CompiledTable>(new CompiledTable(
        std::move(policy), *std::move(table), generation, workers));
  }

  ClassifyResult Classify(const rules::PacketKey& key) const {
    rules::Classification c = table_->Classify(key);
    ClassifyResult r{c.interface != rules::Classification::kNoInterface,
                     c.allowed(), c.rule_id};
    // New flows only: the deciding rule's remote and the interface's other
    // direction make it untracked (DESIGN.md §5).
    r.untracked = c.decision == rules::Decision::kAllowedByRule &&
                  untracked_.IsUntracked(table_->interface_name(c.interface),
                                         key.direction, key.local.family,
                                         key.protocol, c.rule_id);
    return r;
  }
  bool revalidate_on_change() const {
    return policy_.settings.revalidate_on_change;
  }
  uint32_t generation() const { return generation_; }
  void CountAdmitted(uint32_t worker, uint32_t rule_id) const {
    counters_.Add(worker, rule_id);
  }
  const RuleCounters& rule_counters() const { return counters_; }
  const rules::Timeouts& timeouts() const {
    return policy_.settings.timeouts;
  }
  const rules::Policy& policy() const { return policy_; }
  const rules::RuleTable& rule_table() const { return *table_; }

 private:
  CompiledTable(rules::Policy policy, std::unique_ptr<rules::RuleTable> table,
                uint32_t generation, uint32_t workers)
      : policy_(std::move(policy)),
        table_(std::move(table)),
        generation_(generation),
        counters_(workers, policy_.rules().size()),
        untracked_(policy_) {}

  rules::Policy policy_;
  std::unique_ptr<rules::RuleTable> table_;
  uint32_t generation_;
  RuleCounters counters_;
  rules::UntrackedFlows untracked_;
};

}  // namespace sgate::dataplane

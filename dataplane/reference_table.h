#pragma once

#include <string>

#include "dataplane/enforcer.h"
#include "dataplane/rule_counters.h"
#include "rules/policy.h"
#include "rules/reference.h"
#include "rules/untracked.h"

namespace sgate::dataplane {

// A rule table answered by rules::Reference: the semantics by definition.
// Tests drive the Enforcer with it, and it checks the compiled table. It
// allocates on a flow miss, so it is no table for line rate.
class ReferenceTable {
 public:
  ReferenceTable(rules::Policy policy, std::string node, uint32_t generation,
                 uint32_t workers = 1)
      : policy_(std::move(policy)),
        reference_(policy_, std::move(node)),
        generation_(generation),
        counters_(workers, policy_.rules().size()),
        untracked_(policy_) {}
  ReferenceTable(const ReferenceTable&) = delete;
  ReferenceTable& operator=(const ReferenceTable&) = delete;

  ClassifyResult Classify(const rules::PacketKey& key) const {
    rules::Verdict v = reference_.Evaluate(key);
    ClassifyResult r{v.interface != nullptr, v.allowed,
                     v.matching_rules.empty() ? 0 : v.matching_rules.front()};
    // Untracked if any of the rules that allow it makes it so.
    for (uint32_t id : v.matching_rules) {
      r.untracked = r.untracked ||
                    untracked_.IsUntracked(v.interface->name, key.direction,
                                           key.local.family, key.protocol, id);
    }
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
  rules::Policy& mutable_policy() { return policy_; }

 private:
  rules::Policy policy_;
  rules::Reference reference_;
  uint32_t generation_;
  RuleCounters counters_;
  rules::UntrackedFlows untracked_;
};

}  // namespace sgate::dataplane

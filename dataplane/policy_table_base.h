#pragma once

#include <cstdint>

#include "dataplane/rule_counters.h"
#include "rules/policy.h"
#include "rules/untracked.h"

namespace sgate::dataplane {

// What every published table carries besides its classifier: the policy it
// was built from, its generation, the flows admitted per rule, and which
// flows are untracked. The Enforcer's Table interface, less Classify().
class PolicyTableBase {
 public:
  PolicyTableBase(rules::Policy policy, uint32_t generation, uint32_t workers)
      : policy_(std::move(policy)),
        generation_(generation),
        counters_(workers, policy_.rules().size()),
        untracked_(policy_) {}
  PolicyTableBase(const PolicyTableBase&) = delete;
  PolicyTableBase& operator=(const PolicyTableBase&) = delete;

  uint32_t generation() const { return generation_; }
  const rules::Timeouts& timeouts() const {
    return policy_.settings.timeouts;
  }
  bool revalidate_on_change() const {
    return policy_.settings.revalidate_on_change;
  }
  void CountAdmitted(uint32_t worker, uint32_t rule_id) const {
    counters_.Add(worker, rule_id);
  }
  const RuleCounters& rule_counters() const { return counters_; }
  const rules::Policy& policy() const { return policy_; }

 protected:
  rules::Policy policy_;
  uint32_t generation_;
  RuleCounters counters_;
  rules::UntrackedFlows untracked_;
};

}  // namespace sgate::dataplane

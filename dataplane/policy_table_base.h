#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/policy_table.h"
#include "dataplane/rule_counters.h"
#include "rules/policy.h"
#include "rules/untracked.h"

namespace sgate::dataplane {

// What every published table carries besides its classifier: the policy it
// was built from, its generation, the flows admitted per rule, and which
// flows are untracked. A PolicyTable, less Classify, ClassifyBurst and
// Explain.
class PolicyTableBase {
 public:
  // `interfaces`: the names of the interfaces the classifier reports, by
  // the id it reports them with.
  PolicyTableBase(rules::Policy policy, uint32_t generation, uint32_t workers,
                  const std::vector<std::string>& interfaces)
      : policy_(std::move(policy)),
        generation_(generation),
        counters_(workers, policy_.rules().size()),
        untracked_(policy_, interfaces) {}
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

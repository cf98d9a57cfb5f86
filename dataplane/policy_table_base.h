#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_debug.h>

#include "dataplane/flow_table.h"
#include "dataplane/interface_table.h"
#include "dataplane/policy_table.h"
#include "dataplane/rule_counters.h"
#include "rules/policy.h"
#include "rules/untracked.h"

namespace sgate::dataplane {

// What every published table carries besides its classifier: the policy it
// was built from, its generation, the flows admitted per rule and per
// domain, and which flows are untracked. A PolicyTable, less Classify,
// ClassifyBurst, DecideName and Explain.
class PolicyTableBase {
 public:
  // `interfaces`: the names of the interfaces the classifier reports, by
  // the id it reports them with. Until set_interfaces, an interface's slot
  // is its id (InterfaceTable::Identity).
  PolicyTableBase(rules::Policy policy, uint32_t generation, uint32_t workers,
                  const std::vector<std::string>& interfaces)
      : policy_(std::move(policy)),
        generation_(generation),
        flow_logs_(policy_.settings.flow_logs.has_value()),
        workers_(workers),
        counters_(workers, policy_.rules().size()),
        name_counters_(workers, policy_.domain_rules().size()),
        untracked_(policy_, interfaces),
        interface_names_(interfaces),
        interfaces_(InterfaceTable::Identity(policy_, interfaces, workers)) {
    RTE_VERIFY(generation <= kMaxGeneration);
  }
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
  void CountName(uint32_t worker, uint32_t domain_id) const {
    name_counters_.Add(worker, domain_id);
  }
  rules::DomainReject domain_reject() const {
    return policy_.settings.domain_reject;
  }
  const RuleCounters& rule_counters() const { return counters_; }
  // Indexed by domain id.
  const RuleCounters& name_counters() const { return name_counters_; }
  const rules::Policy& policy() const { return policy_; }
  const InterfaceTable& interfaces() const { return interfaces_; }
  bool flow_logs() const { return flow_logs_; }

  // The control thread, before the table is published: the interfaces'
  // slots (control/interface_slots.h), stable across generations.
  const std::vector<std::string>& interface_names() const {
    return interface_names_;
  }
  uint32_t workers() const { return workers_; }
  void set_interfaces(InterfaceTable interfaces) {
    interfaces_ = std::move(interfaces);
  }

 protected:
  rules::Policy policy_;
  uint32_t generation_;
  bool flow_logs_;  // beside generation_: the workers read it every burst
  uint32_t workers_;
  RuleCounters counters_;
  RuleCounters name_counters_;
  rules::UntrackedFlows untracked_;
  std::vector<std::string> interface_names_;
  InterfaceTable interfaces_;
};

}  // namespace sgate::dataplane

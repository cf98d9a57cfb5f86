#pragma once

#include <string>
#include <vector>

#include "dataplane/policy_table.h"
#include "dataplane/policy_table_base.h"
#include "rules/policy.h"
#include "rules/reference.h"

namespace sgate::dataplane {

// A rule table answered by rules::Reference: the semantics by definition.
// Tests drive the Enforcer with it, and it checks the compiled table. It
// allocates on a flow miss, so it is no table for line rate.
class ReferenceTable : public PolicyTableBase {
 public:
  ReferenceTable(rules::Policy policy, std::string node, uint32_t generation,
                 uint32_t workers = 1)
      : PolicyTableBase(std::move(policy), generation, workers,
                        InterfaceNames(policy)),
        reference_(policy_, std::move(node)) {}

  ClassifyResult Classify(const rules::PacketKey& key) const {
    rules::Verdict v = reference_.Evaluate(key);
    const bool pending = v.decision == rules::Decision::kPendingName;
    ClassifyResult r{v.interface != nullptr, v.allowed || pending,
                     v.matching_rules.empty() ? 0 : v.matching_rules.front()};
    if (v.interface != nullptr) r.interface = IdOf(*v.interface);
    r.awaiting_name = pending;
    // Untracked if any of the rules that allow it makes it so.
    for (uint32_t id : v.matching_rules) {
      r.untracked = r.untracked ||
                    untracked_.IsUntracked(IdOf(*v.interface), key.direction,
                                           key.local.family, key.protocol, id);
    }
    return r;
  }

  void ClassifyBurst(const rules::PacketKey* keys, uint32_t count,
                     ClassifyResult* out) const {
    for (uint32_t i = 0; i < count; ++i) out[i] = Classify(keys[i]);
  }

  rules::NameMatch DecideName(const rules::PacketKey& key,
                              absl::string_view name, uint32_t) const {
    rules::Verdict v = reference_.EvaluateNamed(key, name);
    if (v.decision != rules::Decision::kAllowedByRule ||
        v.matching_domains.empty()) {
      return {};
    }
    return {true, v.matching_rules.front(), v.matching_domains.front()};
  }

  Explanation Explain(const rules::PacketKey& key,
                      absl::string_view name) const {
    rules::Verdict pending = reference_.Evaluate(key);
    rules::Verdict v =
        name.empty() ? pending : reference_.EvaluateNamed(key, name);
    Explanation e;
    e.decision = v.decision;
    if (v.interface != nullptr) e.interface = v.interface->name;
    if (!v.matching_rules.empty()) e.rule_id = v.matching_rules.front();
    if (pending.decision == rules::Decision::kPendingName) {
      e.name_rules = pending.matching_rules;
    }
    e.by_name = !v.matching_domains.empty();
    if (e.by_name) e.domain_id = v.matching_domains.front();
    return e;
  }

  // Tests change settings in place; the reference reads them live.
  rules::Policy& mutable_policy() { return policy_; }

 private:
  // Interface ids are positions in the policy's (ordered) interface map.
  static std::vector<std::string> InterfaceNames(const rules::Policy& policy) {
    std::vector<std::string> names;
    for (const auto& [name, interface] : policy.interfaces) {
      names.push_back(name);
    }
    return names;
  }
  uint32_t IdOf(const rules::Interface& interface) const {
    auto it = policy_.interfaces.find(interface.name);
    return static_cast<uint32_t>(
        std::distance(policy_.interfaces.begin(), it));
  }

  rules::Reference reference_;
};

static_assert(PolicyTable<ReferenceTable>);

}  // namespace sgate::dataplane

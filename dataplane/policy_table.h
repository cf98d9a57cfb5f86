#pragma once

#include <concepts>
#include <cstdint>
#include <string>

#include "dataplane/interface_table.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::dataplane {

// The seam between the dataplane and a classifier: what the Enforcer and
// the control thread need of a published rule table. A table is built from
// one policy, immutable once published, and read by every worker at once
// (dataplane/published.h). CompiledTable (rules::RuleTable) is the one
// sgate runs; ReferenceTable (rules::Reference) holds it to the semantics
// in tests. Swapping the classifier touches nothing outside its table.

// Which port of a pair a frame arrived on (DESIGN.md §3): interfaces sit
// behind the inside port.
enum class Side : uint8_t { kInside, kOutside };

// What a classifier answers for a packet no flow knows.
struct ClassifyResult {
  bool interface_known = false;
  bool allowed = false;
  uint32_t rule_id = 0;    // valid when allowed by a rule
  bool untracked = false;  // rules::UntrackedFlows says so
  uint32_t interface = 0;  // valid when interface_known: the table's id
};

// How the table decides one packet, for `sgatectl trace` and `flows`: the
// classifier's answer with the interface by name. Control thread only (it
// allocates).
struct Explanation {
  rules::Decision decision = rules::Decision::kNoRuleMatched;
  std::string interface;  // empty: no enforced interface owns the address
  uint32_t rule_id = 0;   // valid when decision == kAllowedByRule
};

class RuleCounters;

template <typename T>
concept PolicyTable = requires(const T& table, const rules::PacketKey& key,
                               const rules::PacketKey* keys, uint32_t count,
                               ClassifyResult* results, uint32_t worker,
                               uint32_t rule_id) {
  // The packet path (workers): no allocation, locks or virtual calls.
  // ClassifyBurst takes at most 32 keys (Enforcer::kMaxBurst).
  { table.Classify(key) } -> std::same_as<ClassifyResult>;
  { table.ClassifyBurst(keys, count, results) } -> std::same_as<void>;
  { table.CountAdmitted(worker, rule_id) } -> std::same_as<void>;
  // Recorded in the flows a table admits; a flow of another generation is
  // re-checked when it is untracked or the policy asks for it.
  { table.generation() } -> std::same_as<uint32_t>;
  { table.timeouts() } -> std::same_as<const rules::Timeouts&>;
  { table.revalidate_on_change() } -> std::same_as<bool>;
  // Operations (DESIGN.md §8): interfaces by slot, with their flow caps
  // and MACs; whether flow logs are on.
  { table.interfaces() } -> std::same_as<const InterfaceTable&>;
  { table.flow_logs() } -> std::same_as<bool>;
  // The control thread.
  { table.Explain(key) } -> std::same_as<Explanation>;
  { table.policy() } -> std::same_as<const rules::Policy&>;
  { table.rule_counters() } -> std::same_as<const RuleCounters&>;
};

}  // namespace sgate::dataplane

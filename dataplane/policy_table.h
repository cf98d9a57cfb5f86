#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

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
  // Allowed, pending a name: only rules with domains allow it (rule_id is
  // one of them), so its client's first payload decides (DecideName).
  bool awaiting_name = false;
};

// How the table decides one packet, for `sgatectl trace` and `flows`: the
// classifier's answer with the interface by name. Control thread only (it
// allocates).
struct Explanation {
  rules::Decision decision = rules::Decision::kNoRuleMatched;
  std::string interface;  // empty: no enforced interface owns the address
  // Valid when decision is kAllowedByRule, or kPendingName (one of the
  // rules that may decide).
  uint32_t rule_id = 0;
  // kPendingName and kNameNotAllowed: the rules with domains that allow
  // the packet, whose names decide. A name that decided: the domain.
  std::vector<uint32_t> name_rules;
  bool by_name = false;
  uint32_t domain_id = 0;  // valid when by_name
};

class RuleCounters;

template <typename T>
concept PolicyTable = requires(const T& table, const rules::PacketKey& key,
                               const rules::PacketKey* keys, uint32_t count,
                               ClassifyResult* results, uint32_t worker,
                               uint32_t rule_id, uint32_t domain_id,
                               absl::string_view name) {
  // The packet path (workers): no allocation, locks or virtual calls.
  // ClassifyBurst takes at most 32 keys (Enforcer::kMaxBurst).
  { table.Classify(key) } -> std::same_as<ClassifyResult>;
  { table.ClassifyBurst(keys, count, results) } -> std::same_as<void>;
  { table.CountAdmitted(worker, rule_id) } -> std::same_as<void>;
  // A pending flow (ClassifyResult::awaiting_name) whose client asked for
  // `name`, a host name as ServerName holds it (lowercased, no trailing dot
  // or port; rules::IsHostName, not checked again): which rule with domains,
  // of those that allow its opening packet `key`, admits it, as
  // rules::Reference::EvaluateNamed decides. `worker` picks the scratch.
  { table.DecideName(key, name, worker) } -> std::same_as<rules::NameMatch>;
  // Flows each domain (rules::Policy::domain()) admitted.
  { table.CountName(worker, domain_id) } -> std::same_as<void>;
  { table.domain_reject() } -> std::same_as<rules::DomainReject>;
  // Recorded in the flows a table admits; a flow of another generation is
  // re-checked when it is untracked or the policy asks for it.
  { table.generation() } -> std::same_as<uint32_t>;
  { table.timeouts() } -> std::same_as<const rules::Timeouts&>;
  { table.revalidate_on_change() } -> std::same_as<bool>;
  // Operations (DESIGN.md §8): interfaces by slot, with their flow caps
  // and MACs; whether flow logs are on.
  { table.interfaces() } -> std::same_as<const InterfaceTable&>;
  { table.flow_logs() } -> std::same_as<bool>;
  // The control thread. `name`, if not empty, decides a pending packet.
  { table.Explain(key, name) } -> std::same_as<Explanation>;
  { table.policy() } -> std::same_as<const rules::Policy&>;
  { table.rule_counters() } -> std::same_as<const RuleCounters&>;
  { table.name_counters() } -> std::same_as<const RuleCounters&>;
};

}  // namespace sgate::dataplane

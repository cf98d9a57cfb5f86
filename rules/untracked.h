#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/policy.h"

namespace sgate::rules {

// DESIGN.md §5, "untracked flows", as AWS defines them: a TCP or UDP flow
// admitted by a rule whose remote is 0.0.0.0/0 (or ::/0), on an interface
// whose other direction also allows that protocol on all ports to
// 0.0.0.0/0 (::/0), is not tracked. Such a flow is re-checked after every
// reload, so removing the rule cuts it at once. ICMP is always tracked, and
// so is every flow a name decided: a rule with domains is never "open".
// Computed once per published table, for the interfaces it knows by id;
// answering is two array loads, cheap enough for every new TCP/UDP flow.
class UntrackedFlows {
 public:
  // `interfaces`: interface names (of `policy`), indexed by the id the
  // table's classifier reports for them.
  UntrackedFlows(const Policy& policy,
                 const std::vector<std::string>& interfaces);

  bool IsUntracked(uint32_t interface, Direction direction, Family family,
                   int protocol, uint32_t rule_id) const;

 private:
  // Bit for (family, direction, tcp or udp).
  static uint8_t Bit(Family family, Direction direction, int protocol);

  std::vector<uint8_t> rule_to_all_;  // per rule id: bit per family
  std::vector<uint8_t> open_;         // per interface id: Bit()s
};

}  // namespace sgate::rules

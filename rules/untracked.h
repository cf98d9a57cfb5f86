#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rules/policy.h"

namespace sgate::rules {

// DESIGN.md §5, "untracked flows", as AWS defines them: a TCP or UDP flow
// admitted by a rule whose remote is 0.0.0.0/0 (or ::/0), on an interface
// whose other direction also allows that protocol on all ports to
// 0.0.0.0/0 (::/0), is not tracked. Such a flow is re-checked after every
// reload, so removing the rule cuts it at once. ICMP is always tracked.
// Computed once per policy; answering is a few table look-ups.
class UntrackedFlows {
 public:
  explicit UntrackedFlows(const Policy& policy);

  bool IsUntracked(const std::string& interface, Direction direction,
                   Family family, int protocol, uint32_t rule_id) const;

 private:
  // Bit for (family, direction, tcp or udp).
  static uint8_t Bit(Family family, Direction direction, int protocol);

  std::vector<uint8_t> rule_to_all_;     // per rule id: bit per family
  std::map<std::string, uint8_t> open_;  // per interface: Bit()s
};

}  // namespace sgate::rules

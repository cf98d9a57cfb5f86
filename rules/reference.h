#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::rules {

struct Verdict {
  bool allowed = false;
  Decision decision = Decision::kNoRuleMatched;
  const Interface* interface = nullptr;  // null for unknown interfaces
  // Ids (Policy::rules()) of every rule that allows the packet, ascending.
  std::vector<uint32_t> matching_rules;
};

// The semantics by definition: plain loops over the policy, no indexes, no
// DPDK. It is the oracle the compiled classifier and the dataplane are tested
// against, so clarity beats speed here.
class Reference {
 public:
  // `node`: as `sgate --node`; empty enforces only interfaces without a node.
  explicit Reference(const Policy& policy, std::string node = "");

  Verdict Evaluate(const PacketKey& packet) const;

  // The enforced interface owning `address` in `vlan`'s address space.
  const Interface* FindInterface(const IpAddress& address,
                                 std::optional<uint16_t> vlan) const;

  // Whether `rule` (of any direction) allows `packet`, ignoring interfaces.
  bool RuleAllows(const Rule& rule, const PacketKey& packet) const;

 private:
  bool RemoteMatches(const Rule& rule, const IpAddress& remote) const;

  const Policy& policy_;
  std::string node_;
};

}  // namespace sgate::rules

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::rules {

struct Verdict {
  bool allowed = false;
  Decision decision = Decision::kNoRuleMatched;
  const Interface* interface = nullptr;  // null for unknown interfaces
  // Ids (Policy::rules()) of every rule that allows the packet, ascending.
  // kPendingName: the rules with domains that may decide the flow;
  // kNameNotAllowed: those that did not admit the name.
  std::vector<uint32_t> matching_rules;
  // EvaluateNamed, allowed by a name: the domains (Policy::domain_rules()
  // ids) of matching_rules that admit it, ascending.
  std::vector<uint32_t> matching_domains;
};

// The semantics by definition: plain loops over the policy, no indexes, no
// DPDK. It is the oracle the compiled classifier and the dataplane are tested
// against, so clarity beats speed here.
class Reference {
 public:
  // `node`: as `sgate --node`; empty enforces only interfaces without a node.
  explicit Reference(const Policy& policy, std::string node = "");

  // The verdict on a flow's first packet. A rule without domains that
  // allows it decides (kAllowedByRule, and matching_rules lists only such
  // rules); failing that, rules with domains that allow it leave it
  // kPendingName (README.md, "Domain rules").
  Verdict Evaluate(const PacketKey& packet) const;

  // The verdict once the flow's first client payload asked for `name`
  // (lowercased, without trailing dot or port; empty or not a host name if
  // it named none): a pending flow is allowed by the rules among
  // matching_rules with a domain that admits the name (DomainMatches),
  // else kNameNotAllowed. Other verdicts are Evaluate's.
  Verdict EvaluateNamed(const PacketKey& packet, absl::string_view name) const;

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

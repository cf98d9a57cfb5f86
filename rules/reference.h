#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/policy.h"

namespace sgate::rules {

// One packet as the semantics see it (DESIGN.md §3, §5). `local` is the
// address of the protected side: the destination of an ingress packet, the
// source of an egress packet.
struct PacketKey {
  Direction direction = Direction::kIngress;
  IpAddress local;
  IpAddress remote;
  std::optional<uint16_t> vlan;  // none: untagged
  uint8_t protocol = 0;
  uint16_t dst_port = 0;   // tcp and udp only
  uint8_t icmp_type = 0;   // icmp and icmpv6 only
  uint8_t icmp_code = 0;
};

enum class Decision : uint8_t {
  kAllowedByRule,           // at least one rule allows it
  kNoRuleMatched,           // the interface exists, no rule allows it
  kUnknownInterfaceDropped, // no enforced interface owns `local`
  kUnknownInterfacePassed,  // ... and settings.unknown_interface is pass
};

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

#pragma once

#include <cstdint>
#include <optional>

#include "rules/ip_address.h"
#include "rules/policy.h"

namespace sgate::rules {

// One packet as the semantics see it (DESIGN.md §3, §5): what every
// classifier — the reference, the compiled table, the dataplane's tables —
// takes. `local` is the address of the protected side: the destination of
// an ingress packet, the source of an egress packet.
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

// How the rules answer for a packet key.
enum class Decision : uint8_t {
  kAllowedByRule,           // at least one rule allows it
  kNoRuleMatched,           // the interface exists, no rule allows it
  kUnknownInterfaceDropped, // no enforced interface owns `local`
  kUnknownInterfacePassed,  // ... and settings.unknown_interface is pass
  // Only rules with domains allow it (egress tcp): the flow is admitted and
  // its first client payload's name decides (Reference::EvaluateNamed).
  kPendingName,
  // ... and the name given matches no domain of those rules (or there is
  // none: not TLS or HTTP, no server_name, no Host).
  kNameNotAllowed,
};

// How the rules answer for the name a pending flow's client asked for.
struct NameMatch {
  bool allowed = false;
  uint32_t rule_id = 0;    // when allowed: a rule with domains that admits it
  uint32_t domain_id = 0;  // ... by this domain of it (Policy::domain())
};

// Allowed outright; a pending name is neither allowed nor denied yet.
inline bool IsAllowed(Decision decision) {
  return decision == Decision::kAllowedByRule ||
         decision == Decision::kUnknownInterfacePassed;
}

}  // namespace sgate::rules

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
};

inline bool IsAllowed(Decision decision) {
  return decision == Decision::kAllowedByRule ||
         decision == Decision::kUnknownInterfacePassed;
}

}  // namespace sgate::rules

#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "rules/ip_address.h"

namespace sgate::rules {

// The protocol vocabulary every layer shares: IANA protocol numbers and the
// ICMP messages the semantics single out, defined once for the policy, the
// parser, connection tracking and the commands.

inline constexpr uint8_t kProtocolIcmp = 1;
inline constexpr uint8_t kProtocolTcp = 6;
inline constexpr uint8_t kProtocolUdp = 17;
inline constexpr uint8_t kProtocolIcmpv6 = 58;
// `protocol: all` / `-1` in a rule: every protocol, no ports, no ICMP fields.
inline constexpr int kProtocolAll = -1;

inline constexpr bool HasPorts(int protocol) {
  return protocol == kProtocolTcp || protocol == kProtocolUdp;
}
inline constexpr bool HasIcmpFields(int protocol) {
  return protocol == kProtocolIcmp || protocol == kProtocolIcmpv6;
}
// The ICMP protocol of an address family.
inline constexpr uint8_t IcmpProtocolOf(Family family) {
  return family == Family::kIPv4 ? kProtocolIcmp : kProtocolIcmpv6;
}

// "tcp", "udp", "icmp", "icmpv6", "all", or the number.
std::string ProtocolName(int protocol);
// The inverse, case-insensitive: a name above, "-1" (all) or "0".."255".
std::optional<int> ParseProtocol(absl::string_view text);

// ICMP (RFC 792) and ICMPv6 (RFC 4443, 4861) types.
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestinationUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;
inline constexpr uint8_t kIcmpv6DestinationUnreachable = 1;
inline constexpr uint8_t kIcmpv6ParameterProblem = 4;  // 2, 3: too big, time
inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;
inline constexpr uint8_t kIcmpv6RouterSolicitation = 133;  // 133-137: NDP
inline constexpr uint8_t kIcmpv6Redirect = 137;

// Echo request or reply: its identifier plays the part of a port, so both
// directions of a ping share a flow.
inline constexpr bool IsIcmpEcho(Family family, uint8_t type) {
  return family == Family::kIPv4
             ? type == kIcmpEchoRequest || type == kIcmpEchoReply
             : type == kIcmpv6EchoRequest || type == kIcmpv6EchoReply;
}

// The errors that quote the packet that caused them and follow the verdict
// of its flow (DESIGN.md §5 "stateful"): destination unreachable, time
// exceeded, parameter problem, and for ICMPv6 packet too big.
inline constexpr bool IsIcmpError(Family family, uint8_t type) {
  return family == Family::kIPv4
             ? type == kIcmpDestinationUnreachable ||
                   type == kIcmpTimeExceeded || type == kIcmpParameterProblem
             : type >= kIcmpv6DestinationUnreachable &&
                   type <= kIcmpv6ParameterProblem;
}

// ICMPv6 router and neighbour discovery (types 133-137), which pass like
// ARP: hosts cannot work without them (DESIGN.md §3).
inline constexpr bool IsNeighborDiscovery(uint8_t icmpv6_type) {
  return icmpv6_type >= kIcmpv6RouterSolicitation &&
         icmpv6_type <= kIcmpv6Redirect;
}

}  // namespace sgate::rules

#pragma once

#include <cstdint>

#include "dataplane/packet_parser.h"

namespace sgate::dataplane {

// Every packet sgate drops is counted under exactly one of these, so
// received = forwarded + the sum of drops (DESIGN.md §6). The parser's
// reasons come first, with the same values as ParseError.
enum class DropReason : uint8_t {
  kTruncatedEthernet = static_cast<uint8_t>(ParseError::kTruncatedEthernet),
  kTooManyVlanTags = static_cast<uint8_t>(ParseError::kTooManyVlanTags),
  kNonIp = static_cast<uint8_t>(ParseError::kNonIp),
  kTruncatedIp = static_cast<uint8_t>(ParseError::kTruncatedIp),
  kBadIpHeader = static_cast<uint8_t>(ParseError::kBadIpHeader),
  kBadIpv6Extension = static_cast<uint8_t>(ParseError::kBadIpv6Extension),
  kTruncatedL4 = static_cast<uint8_t>(ParseError::kTruncatedL4),
  kBadTcpHeader = static_cast<uint8_t>(ParseError::kBadTcpHeader),
  kUnknownInterface = static_cast<uint8_t>(ParseError::kCount),
  kNoRuleMatched,      // the interface's rules do not allow it
  kFlowTableFull,      // allowed, but no room to track it
  kOrphanFragment,     // a later fragment whose first fragment we never saw
  kRevalidationDenied, // a flow the reloaded rules no longer allow
  kTxFull,             // the transmit queue refused it
  kCount,
};

// Reasons are numbered from 1 (0 is ParseError::kNone, no drop).
inline constexpr int kFirstDropReason = 1;
inline constexpr int kDropReasonCount = static_cast<int>(DropReason::kCount);

inline DropReason DropReasonOf(ParseError error) {
  return static_cast<DropReason>(error);
}

// Stable names, used in `sgatectl stats` and its JSON.
const char* DropReasonName(DropReason reason);

}  // namespace sgate::dataplane

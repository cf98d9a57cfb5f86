#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/packet_key.h"

namespace sgate::control {

// The packet of `sgatectl trace`, shared by the offline command and by
// sgate answering it on its control socket:
//   LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]
// LOCAL is the protected interface's address, REMOTE the other end.
absl::StatusOr<rules::PacketKey> ParseTracePacket(
    rules::Direction direction, std::optional<uint16_t> vlan,
    const std::vector<std::string>& words);

// "ingress tcp 203.0.113.9 -> 198.51.100.10 port 22"
std::string DescribePacket(const rules::PacketKey& packet);

// "allowed_by_rule", "no_rule_matched", ... (stable JSON values)
absl::string_view DecisionName(rules::Decision decision);

// "allow", "deny", or "pending" (a flow only rules with domains allow,
// whose client's first payload decides).
absl::string_view VerdictName(rules::Decision decision);

}  // namespace sgate::control

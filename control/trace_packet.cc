#include "control/trace_packet.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rules/status_macros.h"

namespace sgate::control {

absl::StatusOr<rules::PacketKey> ParseTracePacket(
    rules::Direction direction, std::optional<uint16_t> vlan,
    const std::vector<std::string>& words) {
  if (words.size() < 3 || words.size() > 4) {
    return absl::InvalidArgumentError(
        "expected LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]");
  }
  rules::PacketKey packet;
  packet.direction = direction;
  packet.vlan = vlan;
  SGATE_ASSIGN_OR_RETURN(rules::IpAddress local,
                         rules::ParseIpAddress(words[0]));
  SGATE_ASSIGN_OR_RETURN(rules::IpAddress remote,
                         rules::ParseIpAddress(words[1]));
  if (local.family != remote.family) {
    return absl::InvalidArgumentError(
        "LOCAL and REMOTE must be of the same address family");
  }
  packet.local = local;
  packet.remote = remote;
  std::optional<int> protocol = rules::ParseProtocol(words[2]);
  if (!protocol || *protocol == rules::kProtocolAll) {
    return absl::InvalidArgumentError(
        absl::StrCat("PROTO must be tcp, udp, icmp, icmpv6 or a number from "
                     "0 to 255, got '",
                     words[2], "'"));
  }
  packet.protocol = *protocol;
  std::string detail = words.size() == 4 ? words[3] : "";
  if (rules::HasPorts(packet.protocol)) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(detail, &port) || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          words[2], " needs a destination PORT from 0 to 65535"));
    }
    packet.dst_port = port;
  } else if (rules::HasIcmpFields(packet.protocol)) {
    std::vector<std::string> parts = absl::StrSplit(detail, '/');
    uint32_t type = 0, code = 0;
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &type) ||
        type > 255 ||
        (parts.size() == 2 &&
         (!absl::SimpleAtoi(parts[1], &code) || code > 255))) {
      return absl::InvalidArgumentError(absl::StrCat(
          words[2], " needs TYPE or TYPE/CODE, each from 0 to 255"));
    }
    packet.icmp_type = type;
    packet.icmp_code = code;
  } else if (!detail.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol ", words[2], " has no ports"));
  }
  return packet;
}

std::string DescribePacket(const rules::PacketKey& p) {
  bool in = p.direction == rules::Direction::kIngress;
  std::string s = absl::StrCat(
      rules::DirectionName(p.direction), " ", rules::ProtocolName(p.protocol),
      " ", (in ? p.remote : p.local).ToString(), " -> ",
      (in ? p.local : p.remote).ToString());
  if (rules::HasPorts(p.protocol)) absl::StrAppend(&s, " port ", p.dst_port);
  if (rules::HasIcmpFields(p.protocol)) {
    absl::StrAppend(&s, " type ", p.icmp_type, " code ", p.icmp_code);
  }
  if (p.vlan) absl::StrAppend(&s, " vlan ", *p.vlan);
  return s;
}

absl::string_view DecisionName(rules::Decision decision) {
  switch (decision) {
    case rules::Decision::kAllowedByRule:
      return "allowed_by_rule";
    case rules::Decision::kNoRuleMatched:
      return "no_rule_matched";
    case rules::Decision::kUnknownInterfaceDropped:
      return "unknown_interface_dropped";
    case rules::Decision::kUnknownInterfacePassed:
      return "unknown_interface_passed";
    case rules::Decision::kPendingName:
      return "pending_name";
    case rules::Decision::kNameNotAllowed:
      return "name_not_allowed";
  }
  return "?";
}

absl::string_view VerdictName(rules::Decision decision) {
  if (decision == rules::Decision::kPendingName) return "pending";
  return rules::IsAllowed(decision) ? "allow" : "deny";
}

}  // namespace sgate::control

#include "rules/protocol.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sgate::rules {

std::string ProtocolName(int protocol) {
  switch (protocol) {
    case kProtocolAll:
      return "all";
    case kProtocolTcp:
      return "tcp";
    case kProtocolUdp:
      return "udp";
    case kProtocolIcmp:
      return "icmp";
    case kProtocolIcmpv6:
      return "icmpv6";
    default:
      return absl::StrCat(protocol);
  }
}

std::optional<int> ParseProtocol(absl::string_view text) {
  std::string name = absl::AsciiStrToLower(text);
  for (int p : {kProtocolAll, int{kProtocolTcp}, int{kProtocolUdp},
                int{kProtocolIcmp}, int{kProtocolIcmpv6}}) {
    if (name == ProtocolName(p)) return p;
  }
  int number = 0;
  if (absl::SimpleAtoi(name, &number) && number >= -1 && number <= 255 &&
      name.find_first_not_of("-0123456789") == std::string::npos) {
    return number;
  }
  return std::nullopt;
}

}  // namespace sgate::rules

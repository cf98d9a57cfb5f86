#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sgate::rules {

// An Ethernet address, as an interface's `macs` list names it (anti-
// spoofing: the source MACs an interface may send from).
struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  // The six bytes in the low 48 bits of an integer, first byte highest:
  // one compare per MAC on the packet path.
  uint64_t value() const;
  // "02:00:5e:10:00:01": lower-case, colon-separated.
  std::string ToString() const;

  auto operator<=>(const MacAddress&) const = default;
};

// Six hex octets separated by ':' or '-' ("02:00:5e:10:00:01",
// "02-00-5E-10-00-01"). A group (multicast or broadcast) address or the
// all-zero one is an error: no host sends from it.
absl::StatusOr<MacAddress> ParseMacAddress(absl::string_view text);

}  // namespace sgate::rules

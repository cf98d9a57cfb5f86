#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace sgate::rules {

enum class Family : uint8_t { kIPv4, kIPv6 };

absl::string_view FamilyName(Family family);

// An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3]; the
// remaining bytes stay zero so that equality and ordering are plain memcmp.
struct IpAddress {
  Family family = Family::kIPv4;
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(uint32_t host_order);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);

  int bit_width() const { return family == Family::kIPv4 ? 32 : 128; }
  // Host-order value of an IPv4 address.
  uint32_t v4() const;
  bool Bit(int index) const {
    return (bytes[index / 8] >> (7 - index % 8)) & 1;
  }
  std::string ToString() const;

  auto operator<=>(const IpAddress&) const = default;
};

// A prefix whose host bits are zero (the loader rejects any other form).
struct Cidr {
  IpAddress address;
  uint8_t prefix_length = 0;

  bool Contains(const IpAddress& ip) const;
  std::string ToString() const;

  auto operator<=>(const Cidr&) const = default;
};

// Accepts dotted-quad IPv4 and any RFC 4291 textual IPv6 form.
absl::StatusOr<IpAddress> ParseIpAddress(absl::string_view text);

// "a.b.c.d/n" or "x::/n". A prefix with host bits set is an error whose
// message names the canonical form, e.g. "198.51.100.7/24 has host bits
// set; did you mean 198.51.100.0/24?".
absl::StatusOr<Cidr> ParseCidr(absl::string_view text);

// The prefix of `ip` with everything past `prefix_length` cleared.
Cidr MakeCidr(const IpAddress& ip, int prefix_length);

}  // namespace sgate::rules

#include "rules/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sgate::rules {

absl::string_view FamilyName(Family family) {
  return family == Family::kIPv4 ? "IPv4" : "IPv6";
}

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress ip;
  ip.family = Family::kIPv4;
  ip.bytes[0] = host_order >> 24;
  ip.bytes[1] = host_order >> 16;
  ip.bytes[2] = host_order >> 8;
  ip.bytes[3] = host_order;
  return ip;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress ip;
  ip.family = Family::kIPv6;
  ip.bytes = bytes;
  return ip;
}

uint32_t IpAddress::v4() const {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
         uint32_t{bytes[2]} << 8 | bytes[3];
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN];
  int af = family == Family::kIPv4 ? AF_INET : AF_INET6;
  inet_ntop(af, bytes.data(), text, sizeof(text));
  return text;
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.family != address.family) return false;
  for (int i = 0; i < prefix_length; ++i) {
    if (ip.Bit(i) != address.Bit(i)) return false;
  }
  return true;
}

std::string Cidr::ToString() const {
  return absl::StrCat(address.ToString(), "/", prefix_length);
}

absl::StatusOr<IpAddress> ParseIpAddress(absl::string_view text) {
  std::string copy(text);  // inet_pton needs a NUL-terminated string
  IpAddress ip;
  if (inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) {
    ip.family = Family::kIPv4;
    return ip;
  }
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) {
    ip.family = Family::kIPv6;
    return ip;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not an IPv4 or IPv6 address"));
}

Cidr MakeCidr(const IpAddress& ip, int prefix_length) {
  Cidr cidr{ip, static_cast<uint8_t>(prefix_length)};
  for (int i = prefix_length; i < ip.bit_width(); ++i) {
    cidr.address.bytes[i / 8] &= ~(1u << (7 - i % 8));
  }
  return cidr;
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a CIDR: expected ADDRESS/LENGTH, e.g. ",
        "198.51.100.0/24 or 2001:db8::/32"));
  }
  absl::StatusOr<IpAddress> ip = ParseIpAddress(text.substr(0, slash));
  if (!ip.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a CIDR: '", text.substr(0, slash),
        "' is not an IPv4 or IPv6 address"));
  }
  absl::string_view length_text = text.substr(slash + 1);
  int length = -1;
  bool digits_only = !length_text.empty() && length_text.size() <= 3 &&
                     length_text.find_first_not_of("0123456789") ==
                         absl::string_view::npos;
  if (!digits_only || !absl::SimpleAtoi(length_text, &length) ||
      length > ip->bit_width()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' has a bad prefix length: expected 0 to ",
        ip->bit_width(), " for ", FamilyName(ip->family)));
  }
  Cidr canonical = MakeCidr(*ip, length);
  if (canonical.address != *ip) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' has host bits set; did you mean ",
                     canonical.ToString(), "?"));
  }
  return canonical;
}

}  // namespace sgate::rules

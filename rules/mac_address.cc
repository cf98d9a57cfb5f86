#include "rules/mac_address.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sgate::rules {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uint64_t MacAddress::value() const {
  uint64_t v = 0;
  for (uint8_t b : bytes) v = v << 8 | b;
  return v;
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1],
                         bytes[2], bytes[3], bytes[4], bytes[5]);
}

absl::StatusOr<MacAddress> ParseMacAddress(absl::string_view text) {
  auto not_a_mac = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a MAC address; expected six hex octets such as "
        "02:00:5e:10:00:01"));
  };
  // "xx:xx:xx:xx:xx:xx": 17 characters, one separator kind throughout.
  if (text.size() != 17) return not_a_mac();
  const char separator = text[2];
  if (separator != ':' && separator != '-') return not_a_mac();
  MacAddress mac;
  for (int i = 0; i < 6; ++i) {
    int high = HexDigit(text[3 * i]);
    int low = HexDigit(text[3 * i + 1]);
    if (high < 0 || low < 0 || (i < 5 && text[3 * i + 2] != separator)) {
      return not_a_mac();
    }
    mac.bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  if (mac.bytes[0] & 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        mac.ToString(), " is a group (multicast or broadcast) address; "
        "expected the unicast MAC an interface sends from"));
  }
  if (mac.value() == 0) {
    return absl::InvalidArgumentError(
        "00:00:00:00:00:00 is not an address; expected the unicast MAC an "
        "interface sends from");
  }
  return mac;
}

}  // namespace sgate::rules

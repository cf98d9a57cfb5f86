#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sgate::rules {

// Domain names in egress rules (`domains: [api.github.com, "*.amazonaws.com"]`)
// and the names clients ask for (TLS server_name, HTTP Host), and the one
// definition of when a rule's domain matches a name. Plain C++: the loader,
// the reference evaluator and the Hyperscan table (domain_table.h) share it.

// A host name in presentation form is at most 253 characters (RFC 1035's 255
// octets on the wire, less the length bytes), a label at most 63.
inline constexpr size_t kMaxHostNameLength = 253;
inline constexpr size_t kMaxLabelLength = 63;

// A rule's domain as written in a policy: "api.github.com", "API.github.com."
// or "*.amazonaws.com". Returns it lowercased without a trailing dot, or an
// error that says what is wrong (for the loader's located message). Valid:
// labels of letters, digits and '-' (not first or last), 1 to 63 characters,
// 253 in all, ASCII only (internationalised names in punycode, xn--...);
// '*' only as a whole leading label, followed by at least one label; not an
// IPv4 address (rules take addresses as cidr).
absl::StatusOr<std::string> NormalizeDomain(absl::string_view text);

// A rule's domain (normalised) that matches a family of names:
// "*.example.com".
inline bool IsWildcardDomain(absl::string_view domain) {
  return domain.size() > 2 && domain[0] == '*' && domain[1] == '.';
}

// Whether a name seen on the wire, already lowercased and without a
// trailing dot or port, is a host name rules can match: labels of 1 to 63
// letters, digits, '-' or '_' (seen in real names), 253 characters in all.
// Anything else (empty labels, spaces, NUL, non-ASCII) matches no domain.
bool IsHostName(absl::string_view name);

// A name seen on the wire (a ClientHello's server_name, an HTTP Host
// without its port) into the form rules match: lowercased into `out`
// (kMaxHostNameLength bytes), one trailing dot dropped. Returns its length,
// or 0 when it is then no host name (IsHostName). One pass, no allocation:
// the packet path's.
size_t NormalizeHostName(const char* text, size_t length, char* out);

// The semantics: whether a rule's normalised `domain` admits `name`, a
// name for which IsHostName holds. "api.github.com" admits exactly that
// name; "*.example.com" admits every name ending in ".example.com" with at
// least one label before it, but not "example.com" itself.
bool DomainMatches(absl::string_view domain, absl::string_view name);

}  // namespace sgate::rules

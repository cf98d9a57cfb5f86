#include "rules/domain_name.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sgate::rules {
namespace {

bool IsLetterOrDigit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool AllDigits(absl::string_view label) {
  for (char c : label) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Why `label` of a rule's domain is not a host name label, or "" if it is.
std::string LabelProblem(absl::string_view label) {
  if (label.empty()) return "has an empty label";
  if (label.size() > kMaxLabelLength) {
    return absl::StrCat("has a label of ", label.size(),
                        " characters; at most ", kMaxLabelLength);
  }
  if (label == "*") {
    return "has '*' past the first label; '*' is allowed only as a whole "
           "leading label, as in *.example.com";
  }
  for (char c : label) {
    if (IsLetterOrDigit(c) || c == '-') continue;
    if (c == '*') {
      return "has '*' inside a label; '*' is allowed only as a whole leading "
             "label, as in *.example.com";
    }
    return absl::StrCat("has '", std::string(1, c),
                        "', outside the host name characters (letters, "
                        "digits and '-')");
  }
  if (label.front() == '-' || label.back() == '-') {
    return absl::StrCat("has the label '", label,
                        "', which starts or ends with '-'");
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> NormalizeDomain(absl::string_view text) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a domain name: it ", why));
  };
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return invalid(
          "is not ASCII; write an internationalised name in punycode "
          "(xn--...)");
    }
  }
  std::string name = absl::AsciiStrToLower(text);
  if (absl::EndsWith(name, ".")) name.pop_back();
  if (name.empty()) return invalid("is empty");
  if (name.size() > kMaxHostNameLength) {
    return invalid(absl::StrCat("has ", name.size(), " characters; at most ",
                                kMaxHostNameLength));
  }
  std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
  bool wildcard = labels.front() == "*";
  if (wildcard) {
    labels.erase(labels.begin());
    if (labels.empty()) {
      return invalid("needs a name after '*.', as in *.example.com");
    }
  }
  for (absl::string_view label : labels) {
    std::string problem = LabelProblem(label);
    if (!problem.empty()) return invalid(problem);
  }
  if (!wildcard && labels.size() == 4 &&
      std::all_of(labels.begin(), labels.end(), AllDigits)) {
    return invalid("is an IPv4 address; a rule takes addresses as cidr");
  }
  return name;
}

namespace {

// What each byte is in a name seen on the wire: a label character as rules
// match it (lowercased), a dot, or nothing a host name holds.
constexpr char kDot = '.';
struct HostNameBytes {
  char lower[256] = {};  // 0: not a label character
  constexpr HostNameBytes() {
    for (int c = 'a'; c <= 'z'; ++c) lower[c] = static_cast<char>(c);
    for (int c = 'A'; c <= 'Z'; ++c)
      lower[c] = static_cast<char>(c - 'A' + 'a');
    for (int c = '0'; c <= '9'; ++c) lower[c] = static_cast<char>(c);
    lower[static_cast<int>('-')] = '-';
    lower[static_cast<int>('_')] = '_';
  }
};
constexpr HostNameBytes kHostNameBytes;

// Checks `name` (and with kCopy, lowercases it into `out`): labels of 1 to
// 63 label characters, 253 characters in all. kLowercaseOnly: uppercase
// letters are no label characters (IsHostName's names are lowercased).
template <bool kCopy, bool kLowercaseOnly>
bool CheckHostName(const char* name, size_t length, char* out) {
  if (length == 0 || length > kMaxHostNameLength) return false;
  size_t label = 0;  // characters in the current label
  for (size_t i = 0; i < length; ++i) {
    const char c = name[i];
    if (c == kDot) {
      if (label == 0) return false;
      label = 0;
      if constexpr (kCopy) out[i] = kDot;
      continue;
    }
    const char lower = kHostNameBytes.lower[static_cast<uint8_t>(c)];
    if (lower == 0 || (kLowercaseOnly && lower != c) ||
        ++label > kMaxLabelLength) {
      return false;
    }
    if constexpr (kCopy) out[i] = lower;
  }
  return label != 0;
}

}  // namespace

bool IsHostName(absl::string_view name) {
  return CheckHostName<false, true>(name.data(), name.size(), nullptr);
}

size_t NormalizeHostName(const char* text, size_t length, char* out) {
  if (length > 0 && text[length - 1] == kDot) --length;
  return CheckHostName<true, false>(text, length, out) ? length : 0;
}

bool DomainMatches(absl::string_view domain, absl::string_view name) {
  if (!IsWildcardDomain(domain)) return name == domain;
  absl::string_view suffix = domain.substr(1);  // ".example.com"
  return name.size() > suffix.size() && absl::EndsWith(name, suffix);
}

}  // namespace sgate::rules

#include "rules/diagnostics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sgate::rules {

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return absl::StrCat(file, ":", line, ":", column);
}

std::string Diagnostic::ToString() const {
  return absl::StrCat(location.ToString(), ": ", message);
}

void Diagnostics::Error(SourceLocation location, std::string message) {
  errors_.push_back({std::move(location), std::move(message)});
}

absl::Status Diagnostics::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  std::vector<Diagnostic> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.location.file, a.location.line,
                                     a.location.column) <
                            std::tie(b.location.file, b.location.line,
                                     b.location.column);
                   });
  return absl::InvalidArgumentError(absl::StrJoin(
      sorted, "\n", [](std::string* out, const Diagnostic& d) {
        out->append(d.ToString());
      }));
}

}  // namespace sgate::rules

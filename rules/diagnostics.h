#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sgate::rules {

// Where a value came from. Lines and columns are 1-based, as editors show
// them; line 0 means "no position" (e.g. a rule implied by a default).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  std::string ToString() const;  // "file:line:column", or "file" if no line
};

struct Diagnostic {
  SourceLocation location;
  std::string message;

  std::string ToString() const;  // "file:line:column: message"
};

// Collects every error found in an input so they are reported together,
// not one per run (STYLE.md 6).
class Diagnostics {
 public:
  void Error(SourceLocation location, std::string message);
  bool empty() const { return errors_.empty(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }

  // OK when empty; otherwise InvalidArgument whose message holds one
  // diagnostic per line, in input order.
  absl::Status ToStatus() const;

 private:
  std::vector<Diagnostic> errors_;
};

}  // namespace sgate::rules

#pragma once

// Table-driven tests of located policy errors (the loader's and the
// operations settings' tests).

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sgate::testing {

// An invalid policy, the position of the error and a part of its message.
struct PolicyErrorCase {
  const char* description;
  const char* yaml;
  int line;
  int column;
  const char* message;
};

// Whether `message` (a load error from a policy named "policy") has the
// case's error on a line of its own: "policy:LINE:COLUMN: ...MESSAGE...".
inline ::testing::AssertionResult HasErrorLine(const std::string& message,
                                               const PolicyErrorCase& c) {
  const std::string prefix = "policy:" + std::to_string(c.line) + ":" +
                             std::to_string(c.column) + ": ";
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (absl::StartsWith(line, prefix) && absl::StrContains(line, c.message)) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "expected '" << prefix << "..." << c.message << "' in:\n"
         << message;
}

}  // namespace sgate::testing

#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Status plumbing for control and rules code (STYLE.md 6), as Envoy and
// abseil-based codebases write it.

// Returns the status of `expr` from the enclosing function unless it is OK.
#define SGATE_RETURN_IF_ERROR(expr)                                 \
  do {                                                              \
    if (absl::Status sgate_status_ = (expr); !sgate_status_.ok()) { \
      return sgate_status_;                                         \
    }                                                               \
  } while (false)

// `lhs` = the value of the StatusOr `expr`, or returns its error.
#define SGATE_ASSIGN_OR_RETURN(lhs, expr) \
  SGATE_ASSIGN_OR_RETURN_IMPL(SGATE_STATUS_CONCAT(sgate_or_, __LINE__), lhs, expr)

#define SGATE_ASSIGN_OR_RETURN_IMPL(temporary, lhs, expr) \
  auto temporary = (expr);                                \
  if (!temporary.ok()) return temporary.status();         \
  lhs = *std::move(temporary)

#define SGATE_STATUS_CONCAT_INNER(a, b) a##b
#define SGATE_STATUS_CONCAT(a, b) SGATE_STATUS_CONCAT_INNER(a, b)

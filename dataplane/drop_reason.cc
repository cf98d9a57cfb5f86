#include "dataplane/drop_reason.h"

namespace sgate::dataplane {

const char* DropReasonName(DropReason reason) {
  if (static_cast<int>(reason) <
      static_cast<int>(DropReason::kUnknownInterface)) {
    return ParseErrorName(static_cast<ParseError>(reason));
  }
  switch (reason) {
    case DropReason::kUnknownInterface:
      return "unknown_interface";
    case DropReason::kNoRuleMatched:
      return "no_rule_matched";
    case DropReason::kFlowTableFull:
      return "flow_table_full";
    case DropReason::kOrphanFragment:
      return "orphan_fragment";
    case DropReason::kRevalidationDenied:
      return "revalidation_denied";
    case DropReason::kTxFull:
      return "tx_full";
    default:
      return "unknown";
  }
}

}  // namespace sgate::dataplane

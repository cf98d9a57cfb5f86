#include "dataplane/drop_reason.h"

#include <iterator>

namespace sgate::dataplane {
namespace {

struct DropReasonText {
  const char* name;
  const char* help;
};

constexpr DropReasonText kTexts[] = {
    {"none", "not dropped"},
#define SGATE_DROP_TEXT(enumerator, name, help) {name, help},
    SGATE_DROP_REASONS(SGATE_DROP_TEXT)
#undef SGATE_DROP_TEXT
};
static_assert(std::size(kTexts) == kDropReasonCount);

}  // namespace

const char* DropReasonName(DropReason reason) {
  int i = static_cast<int>(reason);
  return i < kDropReasonCount ? kTexts[i].name : "unknown";
}

const char* DropReasonHelp(DropReason reason) {
  int i = static_cast<int>(reason);
  return i < kDropReasonCount ? kTexts[i].help : "";
}

}  // namespace sgate::dataplane

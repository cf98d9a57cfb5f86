#include "dataplane/flow_names.h"

namespace sgate::dataplane {

static_assert(FlowNames::kRecords < UINT16_MAX);

FlowNames::FlowNames(uint32_t flow_capacity)
    : record_of_(new uint16_t[flow_capacity]()),
      records_(new Record[kRecords]) {}

void FlowNames::Remember(uint32_t entry, const FlowKey& key,
                         const ServerName& name) {
  Record& r = records_[next_];
  r.key = key;
  r.name = name;
  record_of_[entry] = static_cast<uint16_t>(next_ + 1);
  next_ = (next_ + 1) % kRecords;
}

absl::string_view FlowNames::Find(uint32_t entry, const FlowKey& key) const {
  uint16_t r = record_of_[entry];
  if (r == 0 || !(records_[r - 1].key == key)) return {};
  return records_[r - 1].name.view();
}

}  // namespace sgate::dataplane

#pragma once

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "dataplane/flow_table.h"
#include "dataplane/server_name.h"

namespace sgate::dataplane {

// The names that decided one worker's flows, for `sgatectl flows` and
// `trace`: a ring of the last kRecords decisions (allowed or denied), so
// that a worker keeps no name per flow. A flow whose record the ring has
// reused shows no name (it keeps its state and rule).
//
// Memory, sized at start-up: 2 bytes per flow of the table, and kRecords
// records of ~300 bytes (~1.2 MiB per worker). Written by the worker only;
// read by it when it copies flows for the control thread.
class FlowNames {
 public:
  // Recent enough for an operator looking at live flows.
  static constexpr uint32_t kRecords = 4096;

  explicit FlowNames(uint32_t flow_capacity);

  // Flow entry `entry`, whose key is `key`, was decided on `name`.
  void Remember(uint32_t entry, const FlowKey& key, const ServerName& name);

  // The name that decided flow `entry` with `key`, or empty.
  absl::string_view Find(uint32_t entry, const FlowKey& key) const;

 private:
  struct Record {
    FlowKey key;
    ServerName name;
  };

  std::unique_ptr<uint16_t[]> record_of_;  // per flow entry: record + 1
  std::unique_ptr<Record[]> records_;
  uint32_t next_ = 0;
};

}  // namespace sgate::dataplane

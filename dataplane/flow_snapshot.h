#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <cstdint>

#include "dataplane/flow_names.h"
#include "dataplane/flow_table.h"
#include "dataplane/server_name.h"

namespace sgate::dataplane {

// Lets the control thread list a worker's flows (`sgatectl flows`) without
// touching the worker's flow table: the control thread asks, the worker
// copies live entries into this buffer in bounded slices at the end of its
// loop iterations, then marks the request served. Until the next request
// only the control thread reads the buffer.
class FlowSnapshot {
 public:
  // At most this many flows per worker per listing: enough to read, small
  // enough (~100 KiB, and 250 KiB of their names) to keep per worker.
  static constexpr uint32_t kMaxFlows = 1024;
  // Entries the worker examines per loop iteration while a request is
  // open: ~10 µs of work, so a listing never stalls forwarding.
  static constexpr uint32_t kScanSlice = 4096;

  // Control thread: opens a request for up to `limit` flows.
  void Request(uint32_t limit) {
    limit_ = limit < kMaxFlows ? limit : kMaxFlows;
    requested_.fetch_add(1, std::memory_order_release);
  }
  // Control thread: whether the worker has served the last request.
  bool Ready() const {
    return served_.load(std::memory_order_acquire) ==
           requested_.load(std::memory_order_relaxed);
  }
  // Control thread, once Ready().
  const FlowRecord* flows() const { return flows_.data(); }
  uint32_t count() const { return count_; }
  // The name that decided flows()[i], or empty.
  absl::string_view name(uint32_t i) const { return names_[i].view(); }

  // Worker: called once per loop iteration; cheap when nothing is asked.
  void Serve(const FlowTable& table, const FlowNames& names, uint32_t now) {
    uint64_t requested = requested_.load(std::memory_order_acquire);
    if (requested == served_.load(std::memory_order_relaxed)) return;
    if (requested != serving_) {  // a new request: start over
      serving_ = requested;
      cursor_ = 0;
      count_ = 0;
    }
    uint32_t first = count_;
    cursor_ = table.Collect(cursor_, kScanSlice, now, flows_.data(), limit_,
                            &count_, indices_.data());
    for (uint32_t i = first; i < count_; ++i) {
      absl::string_view name = names.Find(indices_[i], flows_[i].key);
      names_[i].length = static_cast<uint8_t>(name.size());
      std::copy(name.begin(), name.end(), names_[i].bytes);
    }
    if (cursor_ == table.capacity() || count_ == limit_) {
      served_.store(requested, std::memory_order_release);
    }
  }

 private:
  std::atomic<uint64_t> requested_{0};
  std::atomic<uint64_t> served_{0};
  uint32_t limit_ = 0;
  // The worker's progress through the current request.
  uint64_t serving_ = 0;
  uint32_t cursor_ = 0;
  uint32_t count_ = 0;
  // Inline, so the buffer lives wherever its worker was allocated.
  std::array<FlowRecord, kMaxFlows> flows_;
  std::array<uint32_t, kMaxFlows> indices_;  // in the table
  std::array<ServerName, kMaxFlows> names_;
};

// Lets the control thread ask a worker whether a flow exists (`sgatectl
// trace`): the worker looks the key up in its own table, so no other
// thread ever touches it. One question at a time, answered at the end of
// the worker's next loop iteration.
class FlowProbe {
 public:
  // Control thread.
  void Ask(const FlowKey& key) {
    key_ = key;
    asked_.fetch_add(1, std::memory_order_release);
  }
  bool Ready() const {
    return answered_.load(std::memory_order_acquire) ==
           asked_.load(std::memory_order_relaxed);
  }
  // Once Ready(): the flow, if the worker has it, and the name that
  // decided it (empty if none).
  const std::optional<FlowRecord>& answer() const { return answer_; }
  absl::string_view name() const { return name_.view(); }

  // Worker: once per loop iteration.
  void Serve(FlowTable& table, const FlowNames& names, uint32_t now) {
    uint64_t asked = asked_.load(std::memory_order_acquire);
    if (asked == answered_.load(std::memory_order_relaxed)) return;
    FlowEntry* entry = table.Lookup(key_, FlowTable::Hash(key_), now);
    answer_ = entry ? std::optional<FlowRecord>(table.Record(*entry))
                    : std::nullopt;
    absl::string_view name =
        entry ? names.Find(table.IndexOf(entry), key_) : absl::string_view();
    name_.length = static_cast<uint8_t>(name.size());
    std::copy(name.begin(), name.end(), name_.bytes);
    answered_.store(asked, std::memory_order_release);
  }

 private:
  std::atomic<uint64_t> asked_{0};
  std::atomic<uint64_t> answered_{0};
  FlowKey key_;
  std::optional<FlowRecord> answer_;
  ServerName name_;
};

}  // namespace sgate::dataplane

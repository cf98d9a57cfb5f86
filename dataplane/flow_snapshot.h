#pragma once

#include <array>
#include <atomic>
#include <optional>
#include <cstdint>

#include "dataplane/flow_table.h"

namespace sgate::dataplane {

// Lets the control thread list a worker's flows (`sgatectl flows`) without
// touching the worker's flow table: the control thread asks, the worker
// copies live entries into this buffer in bounded slices at the end of its
// loop iterations, then marks the request served. Until the next request
// only the control thread reads the buffer.
class FlowSnapshot {
 public:
  // At most this many flows per worker per listing: enough to read, small
  // enough (~100 KiB) to keep per worker.
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

  // Worker: called once per loop iteration; cheap when nothing is asked.
  void Serve(const FlowTable& table, uint32_t now) {
    uint64_t requested = requested_.load(std::memory_order_acquire);
    if (requested == served_.load(std::memory_order_relaxed)) return;
    if (requested != serving_) {  // a new request: start over
      serving_ = requested;
      cursor_ = 0;
      count_ = 0;
    }
    cursor_ = table.Collect(cursor_, kScanSlice, now, flows_.data(), limit_,
                            &count_);
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
  // Once Ready(): the flow, if the worker has it.
  const std::optional<FlowRecord>& answer() const { return answer_; }

  // Worker: once per loop iteration.
  void Serve(FlowTable& table, uint32_t now) {
    uint64_t asked = asked_.load(std::memory_order_acquire);
    if (asked == answered_.load(std::memory_order_relaxed)) return;
    FlowEntry* entry = table.Lookup(key_, FlowTable::Hash(key_), now);
    answer_ = entry ? std::optional<FlowRecord>(table.Record(*entry))
                    : std::nullopt;
    answered_.store(asked, std::memory_order_release);
  }

 private:
  std::atomic<uint64_t> asked_{0};
  std::atomic<uint64_t> answered_{0};
  FlowKey key_;
  std::optional<FlowRecord> answer_;
};

}  // namespace sgate::dataplane

#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

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
  // enough (80 KiB) to keep per worker.
  static constexpr uint32_t kMaxFlows = 1024;
  // Entries the worker examines per loop iteration while a request is
  // open: ~10 µs of work, so a listing never stalls forwarding.
  static constexpr uint32_t kScanSlice = 4096;

  FlowSnapshot() : flows_(kMaxFlows) {}

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
  const FlowEntry* flows() const { return flows_.data(); }
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
  std::vector<FlowEntry> flows_;
};

}  // namespace sgate::dataplane

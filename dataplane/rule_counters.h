#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace sgate::dataplane {

// Flows admitted per rule, one slice per worker so that workers never
// write the same cache line (STYLE.md 12): each slice starts on a cache
// line of its own, in memory aligned to one. Owned by a published table:
// rule ids mean something only within its policy, so the counts start
// again with each generation (`sgatectl rules` reports the live one).
class RuleCounters {
 public:
  static constexpr uint32_t kCacheLine = 64;
  static constexpr uint32_t kPerLine = kCacheLine / sizeof(uint64_t);

  RuleCounters(uint32_t workers, uint32_t rules)
      : stride_((rules + kPerLine - 1) / kPerLine * kPerLine),
        size_(uint64_t{workers} * stride_),
        counts_(static_cast<uint64_t*>(std::aligned_alloc(
            kCacheLine, (size_ == 0 ? kPerLine : size_) * sizeof(uint64_t)))) {
    for (uint64_t i = 0; i < size_; ++i) counts_[i] = 0;
  }

  // Called by worker `worker` only: a plain increment.
  void Add(uint32_t worker, uint32_t rule) const {
    ++counts_[uint64_t{worker} * stride_ + rule];
  }
  // Summed over the workers; read by the control thread.
  uint64_t Admitted(uint32_t rule) const {
    uint64_t sum = 0;
    for (uint64_t i = rule; i < size_; i += stride_) sum += counts_[i];
    return sum;
  }
  // Where worker `worker`'s slice starts (for the layout test).
  const uint64_t* slice(uint32_t worker) const {
    return counts_.get() + uint64_t{worker} * stride_;
  }

 private:
  struct Free {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  uint32_t stride_;  // counters per worker: whole cache lines
  uint64_t size_;
  // The tables that own the counters are otherwise immutable and shared
  // const with the workers: the counts are the one thing they write.
  std::unique_ptr<uint64_t[], Free> counts_;
};

}  // namespace sgate::dataplane

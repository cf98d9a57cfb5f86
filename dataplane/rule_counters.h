#pragma once

#include <cstdint>
#include <vector>

namespace sgate::dataplane {

// Flows admitted per rule, one slice per worker so that workers never
// write the same cache line (STYLE.md 12). Owned by a published table:
// rule ids mean something only within its policy, so the counts start
// again with each generation (`sgatectl rules` reports the live one).
class RuleCounters {
 public:
  RuleCounters(uint32_t workers, uint32_t rules)
      // Each slice rounded up to whole cache lines of 8 counters.
      : stride_((rules + 7) / 8 * 8), counts_(uint64_t{workers} * stride_) {}

  // Called by worker `worker` only: a plain increment.
  void Add(uint32_t worker, uint32_t rule) const {
    ++counts_[uint64_t{worker} * stride_ + rule];
  }
  // Summed over the workers; read by the control thread.
  uint64_t Admitted(uint32_t rule) const {
    uint64_t sum = 0;
    for (uint64_t i = rule; i < counts_.size(); i += stride_) sum += counts_[i];
    return sum;
  }

 private:
  uint32_t stride_;
  // Mutable: the tables that own the counters are otherwise immutable and
  // shared const with the workers.
  mutable std::vector<uint64_t> counts_;
};

}  // namespace sgate::dataplane

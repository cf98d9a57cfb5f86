#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace sgate::dataplane {

// A fixed-size queue from one producer thread to one consumer thread,
// without locks: each side writes only its own index, on a cache line of
// its own, and publishes it with a release store. A full queue refuses a
// push rather than wait, so a worker never blocks on the control thread.
// Plain memory, no EAL: the Enforcer's tests use it as they are.
template <typename T, uint32_t kCapacity>
class SpscRing {
  static_assert(std::has_single_bit(kCapacity),
                "the capacity is a power of two: indices wrap with a mask");

 public:
  // Producer: room for how many more items.
  uint32_t FreeCount() const {
    return kCapacity - (tail_.load(std::memory_order_relaxed) -
                        head_.load(std::memory_order_acquire));
  }
  // Producer: false (and nothing queued) when full.
  bool Push(const T& item) {
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) == kCapacity) {
      return false;
    }
    items_[tail & (kCapacity - 1)] = item;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  // Consumer: moves up to `max` items into `out`; returns how many.
  uint32_t Pop(T* out, uint32_t max) {
    uint32_t head = head_.load(std::memory_order_relaxed);
    uint32_t available = tail_.load(std::memory_order_acquire) - head;
    uint32_t n = available < max ? available : max;
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = items_[(head + i) & (kCapacity - 1)];
    }
    head_.store(head + n, std::memory_order_release);
    return n;
  }

  static constexpr uint32_t capacity() { return kCapacity; }

 private:
  alignas(64) std::atomic<uint32_t> head_{0};  // written by the consumer
  alignas(64) std::atomic<uint32_t> tail_{0};  // written by the producer
  alignas(64) std::array<T, kCapacity> items_{};
};

}  // namespace sgate::dataplane

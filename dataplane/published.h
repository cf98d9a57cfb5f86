#pragma once

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

namespace sgate::dataplane {

// An immutable table shared by the workers and replaced by the control
// thread without stopping them (DESIGN.md §1): YANET's generation flip and
// VPP's epochs, done with DPDK's quiescent-state RCU.
//
// Workers: Current() at the start of each loop iteration (every burst of
// that iteration, on every port, uses the same table), Quiescent() at its
// end, once they no longer use what Current() gave them. They never block.
// Current() is null until the first Swap(): a worker then forwards nothing
// (a fleet node that has no policy yet counts its frames under no_policy).
// Control: Swap() stores the new pointer, then waits until every registered
// worker has reported a quiescent state, and only then hands back the old
// table to be freed. A worker that stops reporting makes Swap() wait, never
// free early; the time spent waiting is recorded.
template <typename Table>
class Published {
 public:
  explicit Published(uint32_t max_workers) {
    size_t size = rte_rcu_qsbr_get_memsize(max_workers);
    qsbr_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("sgate_rcu", size, RTE_CACHE_LINE_SIZE));
    if (qsbr_ != nullptr) rte_rcu_qsbr_init(qsbr_, max_workers);
  }
  ~Published() {
    delete current_.load();
    rte_free(qsbr_);
  }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  bool ok() const { return qsbr_ != nullptr; }

  // Called on the worker's own lcore before its first Current().
  void RegisterWorker(uint32_t id) {
    rte_rcu_qsbr_thread_register(qsbr_, id);
    rte_rcu_qsbr_thread_online(qsbr_, id);
  }
  // After its last Current(): a stopped worker must not hold up a Swap().
  void UnregisterWorker(uint32_t id) {
    rte_rcu_qsbr_thread_offline(qsbr_, id);
    rte_rcu_qsbr_thread_unregister(qsbr_, id);
  }

  const Table* Current() const {
    return current_.load(std::memory_order_acquire);
  }
  void Quiescent(uint32_t id) { rte_rcu_qsbr_quiescent(qsbr_, id); }

  // Publishes `table`; returns the previous one once no worker can still be
  // reading it.
  std::unique_ptr<Table> Swap(std::unique_ptr<Table> table) {
    const Table* old =
        current_.exchange(table.release(), std::memory_order_acq_rel);
    uint64_t token = rte_rcu_qsbr_start(qsbr_);
    auto start = std::chrono::steady_clock::now();
    while (rte_rcu_qsbr_check(qsbr_, token, /*wait=*/false) == 0) {
      // Workers pass a quiescent state every few microseconds; polling
      // every 50 µs keeps a reload quick without spinning a core.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    last_grace_period_ = std::chrono::steady_clock::now() - start;
    return std::unique_ptr<Table>(const_cast<Table*>(old));
  }

  // How long the last Swap() waited for the workers.
  std::chrono::nanoseconds last_grace_period() const {
    return last_grace_period_;
  }

 private:
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<const Table*> current_{nullptr};
  std::chrono::nanoseconds last_grace_period_{0};
};

}  // namespace sgate::dataplane

#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/counter_list.h"
#include "dataplane/flow_table.h"
#include "dataplane/interface_table.h"
#include "dataplane/spsc_ring.h"

namespace sgate::dataplane {

// One flow-log record as a worker hands it to the control thread, which
// aggregates and writes them (control/flow_log_writer.h). 64 bytes.
enum class FlowLogKind : uint8_t {
  kAccept,       // packets of a tracked flow, one direction
  kReject,       // rejected packets of one 5-tuple and direction
  kIntervalEnd,  // the worker has handed over everything of an interval
};
struct FlowLogRecord {
  FlowKey key;             // oriented by the interface, as flows are
  uint64_t bytes = 0;      // IP bytes (headers included), as AWS counts
  uint32_t packets = 0;    // kIntervalEnd: the flush it ends
  uint32_t start = 0;      // flow clock seconds: the first packet counted
  uint32_t end = 0;        // ... no later than this
  uint16_t slot = kNoSlot;  // the interface (InterfaceTable)
  FlowLogKind kind = FlowLogKind::kAccept;
  bool ingress = false;    // sent from the remote end to the interface
};
static_assert(sizeof(FlowLogRecord) == 64);

// What one worker keeps per flow and per interface for operations
// (DESIGN.md §8), beside its flow table rather than in the hot FlowEntry:
//   - per flow entry (by its index in the table): the interface slot it
//     belongs to, and for flow logs when it opened and the counts already
//     reported;
//   - per interface slot: InterfaceCounters (tracked flows for the caps,
//     drops charged to it, flow-log records lost);
//   - flow logs: a queue of records to the control thread, a small cache
//     that aggregates rejected packets by 5-tuple, and the interval flush.
// Touched when a flow opens or goes, when a packet is rejected or spoofed,
// and by the interval flush; an established flow's packet touches nothing
// here (its counts are the flow table's own), except the slot read that
// anti-spoofing makes for frames from the inside.
//
// Single writer (the worker) but for the control thread's RequestFlush,
// Drain and ResetSlot, and its plain reads of the counters.
class FlowAccounting {
 public:
  // Records a worker can queue: the control loop drains every 20 ms, so
  // 8,192 is ~400,000 records a second per worker before any is lost,
  // well past what an interval's flush produces at that pace (the flush
  // waits for room; only records of flows that go and of rejected packets
  // can be lost). 512 KiB.
  static constexpr uint32_t kQueueSize = 8192;
  // Rejected 5-tuples aggregated in the worker before they are queued:
  // direct-mapped by flow hash, so a scan or flood of distinct tuples
  // costs one queued record each, and a repeated one costs nothing more.
  static constexpr uint32_t kRejectCacheSize = 512;
  // Flow entries the flush examines per loop iteration: ~10 µs.
  static constexpr uint32_t kFlushSlice = 1024;

  using Queue = SpscRing<FlowLogRecord, kQueueSize>;

  // Bytes of caller memory the per-flow arrays of a table of `capacity`
  // flows need, 64-byte aligned.
  static size_t MemoryFor(uint32_t capacity);
  // `memory`: MemoryFor(capacity) bytes, 64-byte aligned, overwritten.
  FlowAccounting(void* memory, uint32_t capacity);
  FlowAccounting(const FlowAccounting&) = delete;
  FlowAccounting& operator=(const FlowAccounting&) = delete;

  // Worker: the clock the records carry, and whether flow logs are on
  // (the live table says), once per loop iteration or burst.
  void Tick(uint32_t now, bool logging) {
    now_ = now;
    logging_ = logging;
  }
  bool logging() const { return logging_; }

  // Worker: whether the interface of `slot` may track another flow under a
  // cap of `cap` (InterfaceTable::Limits::flow_cap).
  bool AtCap(uint16_t slot, uint32_t cap) const {
    return counters_[slot].flows >= cap;
  }
  // Worker: flow entry `index` was just inserted, for the interface of
  // `slot`. Its mark is written only while flow logs are on: turning them
  // on sets every flow's mark (the writer's first flush), so a new flow
  // need not pay for a cache line it would never read.
  void Opened(uint32_t index, uint16_t slot) {
    slots_[index] = slot;
    ++counters_[slot].flows;
    if (logging_) marks_[index] = {now_, {0, 0}, {0, 0}};
  }
  // The flow table, as it frees entry `index`: the interface loses a flow,
  // and the packets not yet reported are queued (lost if the queue is
  // full: the interface's SKIPDATA).
  void Released(uint32_t index, const FlowRecord& flow);
  uint16_t SlotOf(uint32_t index) const { return slots_[index]; }

  void CountCapped(uint16_t slot) { ++counters_[slot].interface_flow_cap; }
  void CountSpoofed(uint16_t slot) { ++counters_[slot].spoofed_source; }

  // Worker: a packet of `key` (`hash`: FlowTable::Hash) was rejected.
  void Rejected(const FlowKey& key, uint64_t hash, bool ingress, uint16_t slot,
                uint32_t bytes);

  // Worker, once per loop iteration: serves a flush the control thread
  // asked for, a slice at a time (cheap when none is asked): queues the
  // packets of every flow not yet reported, then the rejected tuples, then
  // a kIntervalEnd record.
  void ServeFlush(const FlowTable& table);

  // Control thread: ends the interval (ServeFlush does the work).
  void RequestFlush() { requested_.fetch_add(1, std::memory_order_release); }
  // Control thread: whether every flush asked for has been served.
  bool FlushServed() const {
    return served_.load(std::memory_order_acquire) ==
           requested_.load(std::memory_order_relaxed);
  }
  // Control thread: takes up to `max` queued records.
  uint32_t Drain(FlowLogRecord* out, uint32_t max) {
    return queue_.Pop(out, max);
  }
  // Control thread (plain reads while the worker counts).
  const InterfaceCounters& counters(uint16_t slot) const {
    return counters_[slot];
  }
  // Control thread: zeroes a slot no flow and no table refers to any more,
  // before the slot is given to another interface.
  void ResetSlot(uint16_t slot) { counters_[slot] = InterfaceCounters(); }

 private:
  // What a flow has reported so far: [0] ingress, [1] egress.
  struct Mark {
    uint32_t opened;
    uint32_t packets[2];
    uint64_t bytes[2];
  };
  enum class FlushPhase : uint8_t { kFlows, kRejects, kEnd };

  // Queues the packets of entry `index` since its mark, one record per
  // direction, and moves the mark. A record the queue refuses is lost.
  void Report(uint32_t index, const FlowRecord& flow);
  void Enqueue(const FlowLogRecord& record) {
    if (!queue_.Push(record)) ++counters_[record.slot].flow_log_records_lost;
  }

  uint16_t* slots_;  // by flow entry index
  Mark* marks_;      // by flow entry index
  uint32_t now_ = 0;
  bool logging_ = false;
  // Flush: the control thread's requests, the one being served and where.
  std::atomic<uint64_t> requested_{0};
  std::atomic<uint64_t> served_{0};
  uint64_t serving_ = 0;
  uint32_t cursor_ = 0;
  FlushPhase phase_ = FlushPhase::kFlows;
  // When the interval being collected began: a flow older than that
  // reports its packets from here.
  uint32_t interval_start_ = 0;
  std::array<FlowLogRecord, kRejectCacheSize> rejects_{};  // packets 0: free
  std::array<InterfaceCounters, kSlotArraySize> counters_{};
  Queue queue_;
};

}  // namespace sgate::dataplane

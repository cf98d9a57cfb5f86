#include "dataplane/flow_accounting.h"

namespace sgate::dataplane {
namespace {

constexpr size_t kAlign = 64;
size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

size_t FlowAccounting::MemoryFor(uint32_t capacity) {
  return AlignUp(sizeof(Mark) * capacity) +
         AlignUp(sizeof(uint16_t) * capacity);
}

FlowAccounting::FlowAccounting(void* memory, uint32_t capacity) {
  auto* base = static_cast<uint8_t*>(memory);
  marks_ = reinterpret_cast<Mark*>(base);
  base += AlignUp(sizeof(Mark) * capacity);
  slots_ = reinterpret_cast<uint16_t*>(base);
  for (uint32_t i = 0; i < capacity; ++i) {
    marks_[i] = Mark{};
    slots_[i] = kNoSlot;
  }
}

void FlowAccounting::Report(uint32_t index, const FlowRecord& flow) {
  Mark& mark = marks_[index];
  for (int d = 0; d < 2; ++d) {
    // Marks keep 32 bits of the packet count: an interval's difference is
    // exact modulo 2^32, far beyond what one flow sends in one.
    uint32_t packets =
        static_cast<uint32_t>(flow.packets[d]) - mark.packets[d];
    if (packets == 0) continue;
    FlowLogRecord r;
    r.key = flow.key;
    r.bytes = flow.bytes[d] - mark.bytes[d];
    r.packets = packets;
    r.start = std::max(mark.opened, interval_start_);
    r.end = now_;
    r.slot = slots_[index];
    r.kind = FlowLogKind::kAccept;
    r.ingress = d == 0;
    Enqueue(r);
    mark.packets[d] = static_cast<uint32_t>(flow.packets[d]);
    mark.bytes[d] = flow.bytes[d];
  }
}

void FlowAccounting::Released(uint32_t index, const FlowRecord& flow) {
  if (logging_) Report(index, flow);
  --counters_[slots_[index]].flows;
  slots_[index] = kNoSlot;
}

void FlowAccounting::Rejected(const FlowKey& key, uint64_t hash, bool ingress,
                              uint16_t slot, uint32_t bytes) {
  if (!logging_) return;
  FlowLogRecord& cached = rejects_[hash & (kRejectCacheSize - 1)];
  if (cached.packets != 0 && cached.ingress == ingress &&
      cached.slot == slot && cached.key == key) {
    ++cached.packets;
    cached.bytes += bytes;
    cached.end = now_;
    return;
  }
  if (cached.packets != 0) Enqueue(cached);
  cached.key = key;
  cached.bytes = bytes;
  cached.packets = 1;
  cached.start = cached.end = now_;
  cached.slot = slot;
  cached.kind = FlowLogKind::kReject;
  cached.ingress = ingress;
}

void FlowAccounting::ServeFlush(const FlowTable& table) {
  uint64_t requested = requested_.load(std::memory_order_acquire);
  if (requested == served_.load(std::memory_order_relaxed)) return;
  if (requested != serving_) {  // a new request: start over
    serving_ = requested;
    cursor_ = 0;
    phase_ = FlushPhase::kFlows;
  }
  if (phase_ == FlushPhase::kFlows) {
    // A flow queues at most two records: scan only while there is room,
    // so the flush itself never loses one.
    uint32_t end = std::min(table.high_water(), cursor_ + kFlushSlice);
    for (; cursor_ < end; ++cursor_) {
      if (queue_.FreeCount() < 2) return;
      const FlowEntry& entry = table.entry(cursor_);
      if (entry.in_use) Report(cursor_, table.Record(entry));
    }
    if (cursor_ < table.high_water()) return;
    phase_ = FlushPhase::kRejects;
    cursor_ = 0;
  }
  if (phase_ == FlushPhase::kRejects) {
    for (; cursor_ < kRejectCacheSize; ++cursor_) {
      FlowLogRecord& cached = rejects_[cursor_];
      if (cached.packets == 0) continue;
      if (!queue_.Push(cached)) return;
      cached.packets = 0;
    }
    phase_ = FlushPhase::kEnd;
  }
  FlowLogRecord end;
  end.kind = FlowLogKind::kIntervalEnd;
  end.packets = static_cast<uint32_t>(requested);
  end.start = interval_start_;
  end.end = now_;
  if (!queue_.Push(end)) return;
  interval_start_ = now_;
  served_.store(requested, std::memory_order_release);
}

}  // namespace sgate::dataplane

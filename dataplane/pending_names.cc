#include "dataplane/pending_names.h"

#include <algorithm>
#include <cstring>

namespace sgate::dataplane {

PendingNames::PendingNames(uint32_t flow_capacity)
    : stream_start_(new uint32_t[flow_capacity]()),
      buffer_of_(new uint16_t[flow_capacity]),
      buffers_(new Buffer[kBuffers]),
      free_(new uint16_t[kBuffers]) {
  std::fill_n(buffer_of_.get(), flow_capacity, kNoBuffer);
  for (uint32_t i = 0; i < kBuffers; ++i) {
    free_[i] = static_cast<uint16_t>(kBuffers - 1 - i);
  }
}

void PendingNames::Begin(uint32_t entry, uint32_t stream_start) {
  End(entry);
  stream_start_[entry] = stream_start;
}

void PendingNames::End(uint32_t entry) {
  uint16_t index = buffer_of_[entry];
  if (index != kNoBuffer && buffers_[index].entry == entry) {
    Release(&buffers_[index]);
  }
  buffer_of_[entry] = kNoBuffer;
}

void PendingNames::Release(Buffer* buffer) {
  buffer->entry = kFree;
  free_[free_count_++] = static_cast<uint16_t>(buffer - buffers_.get());
}

PendingNames::Buffer* PendingNames::Allocate(uint32_t entry, uint32_t now) {
  if (free_count_ == 0) {
    // Buffers past their deadline belong to flows that went quiet (or
    // ended without a decision): their next segment finds the buffer gone
    // and is undecided, as it would have been anyway.
    for (uint32_t i = 0; i < kBuffers; ++i) {
      Buffer& b = buffers_[i];
      if (b.entry != kFree && static_cast<int32_t>(now - b.deadline) >= 0) {
        Release(&b);
      }
    }
    if (free_count_ == 0) return nullptr;
  }
  uint16_t index = free_[--free_count_];
  Buffer& b = buffers_[index];
  b.entry = entry;
  // +1: the clock counts whole seconds, so kMaxSeconds are always given.
  b.deadline = now + kMaxSeconds + 1;
  b.segments = 0;
  b.ranges = 0;
  buffer_of_[entry] = index;
  return &b;
}

bool PendingNames::Place(Buffer& b, uint32_t stream_start,
                         const TcpSegment& segment) {
  // Offsets in the stream, clipped to the bound; sequence numbers wrap.
  const int64_t offset = static_cast<int32_t>(segment.seq - stream_start);
  const int64_t first = std::max<int64_t>(offset, 0);
  const int64_t end =
      std::min<int64_t>(offset + segment.payload_length, kMaxRequestBytes);
  if (first >= end) return true;  // nothing within the bound
  const uint8_t* bytes = segment.payload + (first - offset);
  uint32_t start = static_cast<uint32_t>(first);
  uint32_t stop = static_cast<uint32_t>(end);
  // Bytes held already must be the same bytes.
  for (uint8_t r = 0; r < b.ranges; ++r) {
    uint32_t from = std::max<uint32_t>(start, b.range_start[r]);
    uint32_t to = std::min<uint32_t>(stop, b.range_end[r]);
    if (from < to &&
        std::memcmp(b.bytes + from, bytes + (from - start), to - from) != 0) {
      return false;
    }
  }
  std::memcpy(b.bytes + start, bytes, stop - start);
  // Merge [start, stop) into the sorted, disjoint ranges.
  uint16_t starts[kMaxSegments], ends[kMaxSegments];
  uint8_t n = 0;
  bool placed = false;
  for (uint8_t r = 0; r < b.ranges; ++r) {
    if (b.range_end[r] < start) {
      starts[n] = b.range_start[r];
      ends[n++] = b.range_end[r];
    } else if (b.range_start[r] > stop) {
      if (!placed) {
        starts[n] = static_cast<uint16_t>(start);
        ends[n++] = static_cast<uint16_t>(stop);
        placed = true;
      }
      starts[n] = b.range_start[r];
      ends[n++] = b.range_end[r];
    } else {  // overlapping or adjacent: one range
      start = std::min<uint32_t>(start, b.range_start[r]);
      stop = std::max<uint32_t>(stop, b.range_end[r]);
    }
  }
  if (!placed) {
    starts[n] = static_cast<uint16_t>(start);
    ends[n++] = static_cast<uint16_t>(stop);
  }
  std::copy_n(starts, n, b.range_start);
  std::copy_n(ends, n, b.range_end);
  b.ranges = n;
  return true;
}

PendingNames::Stream PendingNames::Add(uint32_t entry,
                                       const TcpSegment& segment,
                                       uint32_t now) {
  const uint32_t stream_start = stream_start_[entry];
  const uint16_t index = buffer_of_[entry];
  if (index != kNoBuffer) {
    Buffer& b = buffers_[index];
    // Reclaimed past its deadline: the bound was passed.
    if (b.entry != entry || static_cast<int32_t>(now - b.deadline) >= 0 ||
        ++b.segments > kMaxSegments) {
      return {Status::kUndecided};
    }
    if (!Place(b, stream_start, segment)) return {Status::kConflict};
    if (b.ranges == 0 || b.range_start[0] != 0) return {Status::kWaiting};
    return {Status::kScan, b.bytes, b.range_end[0], true};
  }
  const int64_t offset = static_cast<int32_t>(segment.seq - stream_start);
  const int64_t end = offset + segment.payload_length;
  if (offset <= 0 && end > 0) {
    // The stream's first bytes: scanned where they lie.
    return {Status::kScan, segment.payload - offset,
            static_cast<uint32_t>(end)};
  }
  if (end <= 0 || offset >= kMaxRequestBytes) return {Status::kWaiting};
  // Ahead of the stream's start (out of order): kept until the start
  // arrives.
  Buffer* b = Allocate(entry, now);
  if (b == nullptr) return {Status::kUndecided};
  b->segments = 1;
  Place(*b, stream_start, segment);
  return {Status::kWaiting};
}

bool PendingNames::Keep(uint32_t entry, const TcpSegment& segment,
                        uint32_t now) {
  if (buffer_of_[entry] != kNoBuffer) return true;  // Add kept it
  Buffer* b = Allocate(entry, now);
  if (b == nullptr) return false;
  b->segments = 1;
  Place(*b, stream_start_[entry], segment);
  return true;
}

}  // namespace sgate::dataplane

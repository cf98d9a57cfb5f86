#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/packet_parser.h"
#include "dataplane/server_name.h"

namespace sgate::dataplane {

// One worker's client streams of pending flows (flows only rules with
// domains allow) until the name they ask for is known: where each stream
// starts, and for the few whose ClientHello or request header does not
// arrive whole in their first payload segment, the bytes so far.
//
// Bounds of a decision (README.md, "Domain rules"): the stream's first
// kMaxRequestBytes (4 KiB), its first kMaxSegments payload segments, and
// kMaxSeconds from the first segment that had to be kept. Past any of
// them the flow is undecided. A flow whose client has sent no payload yet
// holds nothing but its stream start, so idle connections are not bound.
//
// Segments may come out of order, twice, or overlapping: each is placed
// by its sequence number; bytes seen twice must be equal (a retransmission
// that changes them is the classic way to show a middlebox one name and
// the server another, and is refused).
//
// Memory, all sized at start-up: 6 bytes per flow of the table (stream
// start, buffer index), and kBuffers buffers of 4 KiB: ~1 MiB per worker.
// Single writer (the worker); no allocation after construction.
class PendingNames {
 public:
  // Payload segments a decision may take: a 4 KiB ClientHello in segments
  // of IPv4's minimum MSS (536) is 8.
  static constexpr uint32_t kMaxSegments = 8;
  // Seconds on the flow clock (whole seconds: the bound is 2 to 3 s) from
  // the first kept segment: a split ClientHello arrives within a round
  // trip.
  static constexpr uint32_t kMaxSeconds = 2;
  // Streams being reassembled at once per worker: one per round trip of
  // each split ClientHello in flight. 256 keeps it to 1 MiB; past it, a
  // split one is undecided.
  static constexpr uint32_t kBuffers = 256;

  // `flow_capacity`: the worker's flow table's; entries are its indices.
  explicit PendingNames(uint32_t flow_capacity);

  // Flow entry `entry` became pending; its client's stream begins at
  // `stream_start` (the SYN's sequence number + 1, or the first sequence
  // number seen when the flow was picked up without its SYN).
  void Begin(uint32_t entry, uint32_t stream_start);

  // What Add found.
  enum class Status : uint8_t {
    kScan,       // `data`/`length`: the stream from its first byte, to scan
    kWaiting,    // kept, but the stream's start is still missing
    kUndecided,  // past a bound, or no buffer free
    kConflict,   // a retransmission changed bytes already seen
  };
  struct Stream {
    Status status = Status::kWaiting;
    const uint8_t* data = nullptr;
    uint32_t length = 0;
    bool reassembled = false;  // `data` is a buffer of several segments
  };
  // A payload segment of `entry`'s client at `now` (flow clock). The
  // stream returned stays valid until the next call for the same entry.
  // A segment starting the stream is returned in place, without a copy.
  Stream Add(uint32_t entry, const TcpSegment& segment, uint32_t now);

  // The scan of what Add returned needs more bytes: keeps `segment` (the
  // one just added) if it is not kept already. False when no buffer is
  // free: the flow is then undecided.
  bool Keep(uint32_t entry, const TcpSegment& segment, uint32_t now);

  // `entry` is decided (or gone): its buffer is free again.
  void End(uint32_t entry);

  // Buffers in use, for tests.
  uint32_t buffers_in_use() const { return kBuffers - free_count_; }

 private:
  static constexpr uint16_t kNoBuffer = UINT16_MAX;
  static constexpr uint32_t kFree = UINT32_MAX;

  struct Buffer {
    uint32_t entry = kFree;  // the flow entry it serves
    uint32_t deadline = 0;   // flow clock: undecided from then on
    uint8_t segments = 0;    // payload segments seen
    uint8_t ranges = 0;      // byte ranges held, sorted and disjoint
    uint16_t range_start[kMaxSegments];
    uint16_t range_end[kMaxSegments];
    uint8_t bytes[kMaxRequestBytes];
  };

  // The buffer of `entry`, or null.
  Buffer* BufferOf(uint32_t entry);
  // A free buffer for `entry`, reclaiming those past their deadline (their
  // flows went quiet) when none is free; null when none can be had.
  Buffer* Allocate(uint32_t entry, uint32_t now);
  void Release(Buffer* buffer);
  // Places `segment`'s bytes; false if they contradict bytes held.
  bool Place(Buffer& buffer, uint32_t stream_start, const TcpSegment& segment);

  std::unique_ptr<uint32_t[]> stream_start_;  // per flow entry
  std::unique_ptr<uint16_t[]> buffer_of_;     // per flow entry
  std::unique_ptr<Buffer[]> buffers_;
  std::unique_ptr<uint16_t[]> free_;  // a stack of free buffer indices
  uint32_t free_count_ = kBuffers;
};

}  // namespace sgate::dataplane

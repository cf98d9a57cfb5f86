#pragma once

#include <immintrin.h>
#include <rte_prefetch.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/conntrack.h"
#include "rules/ip_address.h"

namespace sgate::dataplane {

class FlowAccounting;

// A connection's identity, oriented by the protected interface rather than
// by the packet: both directions of a flow build the same key, so one
// lookup serves requests and replies without sorting addresses.
struct FlowKey {
  std::array<uint8_t, 16> local{};   // the interface's address
  std::array<uint8_t, 16> remote{};
  uint16_t local_port = 0;   // tcp/udp; ICMP echo id on both; else 0
  uint16_t remote_port = 0;
  uint16_t vlan = kUntagged;
  uint8_t protocol = 0;
  rules::Family family = rules::Family::kIPv4;

  // Not a VLAN id (those are 12 bits): the untagged address space.
  static constexpr uint16_t kUntagged = 0xFFFF;

  bool operator==(const FlowKey& other) const {
    return std::memcmp(this, &other, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey must have no padding: it is "
                                     "compared and hashed as bytes");

// Where a flow that only rules with domains allow stands (README.md,
// "Domain rules"): waiting for its client's first payload to name the
// server, or denied by that name (its packets dropped until it expires).
// kNone for every other flow, which is all the established path looks at.
enum class NameCheck : uint8_t { kNone, kPending, kNotAllowed, kUndecided };
const char* NameCheckName(NameCheck check);  // "pending", "not_allowed", ...

// A flow whose name check is not kNone also carries this bit in its
// generation, a bit no table's generation has (kMaxGeneration): then the
// established path's one test, the flow's generation against the table's,
// also sends it to the names' path, and flows without a name pay nothing
// for the feature.
inline constexpr uint32_t kNameCheckGeneration = 1u << 31;
inline constexpr uint32_t kMaxGeneration = kNameCheckGeneration - 1;
// The generation after `generation`: 1 to kMaxGeneration and round again
// (0 is no table's).
constexpr uint32_t NextGeneration(uint32_t generation) {
  return generation >= kMaxGeneration ? 1 : generation + 1;
}

// Per-flow state (DESIGN.md §1), the part every packet of the flow reads
// or writes: one cache line, aligned, so that a packet of an established
// flow touches its bucket and this line and nothing else. With millions of
// flows neither is in a cache; a third line per packet (the entry was 80
// bytes, always across two lines) cost a third more memory traffic.
// What a packet never needs lives in the table's cold array
// (ColdFlowFields): the admitting rule, and the counters' carried-over
// high parts. The narrow counters here carry over into those before they
// would wrap (FlowTable::Count), so totals stay exact.
struct alignas(64) FlowEntry {
  FlowKey key;
  uint32_t expires_at = 0;    // FlowTable clock, seconds
  uint32_t generation = 0;    // rule table generation that admitted it
  // Since the last carry into ColdFlowFields: [0] ingress, [1] egress.
  uint32_t bytes[2] = {};
  uint16_t packets[2] = {};
  FlowState state = FlowState::kOther;
  TcpFinFlags fins;
  bool opened_ingress : 1 = false;  // its first packet came from outside
  bool in_use : 1 = false;
  // Admitted as an untracked flow (DESIGN.md §5): re-checked against the
  // rules after every reload.
  bool untracked : 1 = false;
  NameCheck name_check : 2 = NameCheck::kNone;  // set with SetNameCheck
  // Admitted by the name its client asked for (rule_id is a rule with
  // domains).
  bool named : 1 = false;

  // The generation of the table that admitted or last re-checked the flow.
  uint32_t admitted_generation() const {
    return generation & ~kNameCheckGeneration;
  }
  // name_check, and the generation bit that mirrors it.
  void SetNameCheck(NameCheck check) {
    name_check = check;
    generation = check == NameCheck::kNone
                     ? admitted_generation()
                     : generation | kNameCheckGeneration;
  }
};
static_assert(sizeof(FlowEntry) == 64, "one cache line per flow");

// The per-flow fields no packet of an established flow touches, in an
// array beside the entries (same index): written when the flow is
// admitted or re-checked, and when a narrow counter carries over (once per
// 65,535 packets or 4 GiB in a direction).
struct ColdFlowFields {
  uint64_t packets[2] = {};  // carried over from FlowEntry::packets
  uint64_t bytes[2] = {};
  uint32_t rule_id = 0;      // the rule that admitted the flow
};

// A whole flow as the control thread sees it (`sgatectl flows`, `trace`):
// both parts together, the counters summed.
struct FlowRecord {
  FlowKey key;
  uint64_t packets[2] = {};  // [0] ingress, [1] egress
  uint64_t bytes[2] = {};
  uint32_t expires_at = 0;
  uint32_t generation = 0;
  uint32_t rule_id = 0;
  FlowState state = FlowState::kOther;
  bool opened_ingress = false;
  bool untracked = false;
  NameCheck name_check = NameCheck::kNone;
  bool named = false;
};

// A fixed-capacity flow table owned by one worker lcore: single writer, no
// locks, no allocation after construction. The caller provides the memory
// (hugepages via rte_zmalloc in the dataplane, plain memory in tests), so
// the table never allocates and tests need no EAL.
//
// Layout: entries (one cache line each) in one array with a free-index
// stack and the cold array beside it; an index of 8-slot buckets (one
// cache line: 16-bit signatures + 32-bit entry indices). A key may live in
// either of two buckets (two-choice hashing), but Insert uses the second
// only when the first is full, so a lookup almost always touches two
// lines: the key's bucket and its entry. The index has twice as many slots
// as the table has entries, which keeps "both buckets full" vanishingly
// rare below capacity.
//
// Expiry: an entry past expires_at is dead. Lookup removes a dead entry it
// meets (so no packet ever rides an expired flow), and ExpireSome scans a
// bounded number of entries per call, so expiry never pauses forwarding;
// it sweeps only the entries ever used, not the whole capacity.
class FlowTable {
 public:
  // The table's counters, listed once: X(member, kind, "help"); the member
  // is also the stable name under "flows" in `sgatectl stats --json`
  // (dataplane/counter_list.h derives every report from this list).
#define SGATE_FLOW_COUNTERS(X)                                              \
  X(active, kGauge, "flows tracked now")                                    \
  X(created, kCounter, "flows admitted and tracked")                        \
  X(expired, kCounter, "flows removed after their idle timeout")            \
  X(removed, kCounter,                                                      \
    "flows removed before their timeout (revalidation after a reload)")     \
  X(insert_failed, kCounter,                                                \
    "allowed new flows that found no room (table or both buckets full)")
  struct Counters {
#define SGATE_COUNTER_MEMBER(member, kind, help) uint64_t member = 0;
    SGATE_FLOW_COUNTERS(SGATE_COUNTER_MEMBER)
#undef SGATE_COUNTER_MEMBER
  };

  // Bytes of memory a table of `capacity` flows needs, 64-byte aligned.
  static size_t MemoryFor(uint32_t capacity);

  // `memory`: MemoryFor(capacity) bytes, 64-byte aligned; its contents are
  // overwritten. Capacity is at least 1.
  FlowTable(void* memory, uint32_t capacity);

  static uint64_t Hash(const FlowKey& key);

  // The live entry for `key`, or nullptr. `now` in seconds.
  FlowEntry* Lookup(const FlowKey& key, uint64_t hash, uint32_t now);

  // A lookup in three steps, for a burst of packets, each step started for
  // every packet before the next (and Lookup last), so that memory loads
  // overlap instead of waiting one after the other:
  //   1. Prefetch: starts loading the primary bucket, where Insert puts
  //      every flow while the bucket has room.
  //   2. PrefetchEntries, once it has arrived: starts loading the entries
  //      whose signature matches in it (kMaybe). None does: if no live
  //      flow of this primary bucket sits displaced in its secondary one,
  //      `hash` is certainly absent (kAbsent); else it starts loading the
  //      secondary bucket (kUnsure).
  //   3. Only after kUnsure: PrefetchSecondaryEntries, the same on the
  //      secondary bucket; false then means `hash` is certainly not in the
  //      table.
  // rte_prefetch0, not __builtin_prefetch: GCC 12 deletes a loop of
  // __builtin_prefetch calls as dead code (the whole prefetch stage once
  // vanished from the binary); DPDK's is an asm volatile.
  enum class Presence { kMaybe, kAbsent, kUnsure };
  void Prefetch(uint64_t hash) const {
    rte_prefetch0(&buckets_[Primary(hash)]);
  }
  Presence PrefetchEntries(uint64_t hash) const {
    const Bucket& primary = buckets_[Primary(hash)];
    if (PrefetchMatching(primary, hash)) return Presence::kMaybe;
    if (primary.displaced == 0) return Presence::kAbsent;
    rte_prefetch0(&buckets_[Secondary(hash)]);
    return Presence::kUnsure;
  }
  bool PrefetchSecondaryEntries(uint64_t hash) const {
    return PrefetchMatching(buckets_[Secondary(hash)], hash);
  }

  // Starts loading the entry the n-th Insert from now will
  // hand out and its cold fields, so a burst of new flows does not wait
  // for each entry it writes.
  void PrefetchFree(uint32_t n) const {
    if (n < free_count_) {
      uint32_t index = free_stack_[free_count_ - 1 - n];
      rte_prefetch0(&entries_[index]);
      rte_prefetch0(&cold_[index]);
    }
  }

  // A new zeroed entry holding `key` (which must not be present), or nullptr
  // when the table is full: existing flows are never evicted for it.
  FlowEntry* Insert(const FlowKey& key, uint64_t hash);

  // Counts a packet of `length` bytes in `direction` (0 ingress, 1 egress):
  // the entry's narrow counters, carried over into the cold fields before
  // they would wrap.
  void Count(FlowEntry* entry, int direction, uint32_t length) {
    uint32_t bytes = entry->bytes[direction] + length;
    if (bytes < length || entry->packets[direction] == UINT16_MAX)
        [[unlikely]] {
      CarryOver(entry, direction);
      bytes = length;
    }
    entry->bytes[direction] = bytes;
    ++entry->packets[direction];
  }

  // The rule that admitted the flow (cold: set on admission and re-check).
  void SetRule(const FlowEntry* entry, uint32_t rule_id) {
    cold_[IndexOf(entry)].rule_id = rule_id;
  }

  // The entry's place in the table, stable while it lives: side arrays of
  // per-flow state index by it.
  uint32_t IndexOf(const FlowEntry* entry) const {
    return static_cast<uint32_t>(entry - entries_);
  }

  // The whole flow, hot and cold parts together.
  FlowRecord Record(const FlowEntry& entry) const;

  void Remove(FlowEntry* entry);

  // What else the worker keeps per flow, in side arrays indexed by the
  // entry's index (dataplane/flow_accounting.h): told of every entry the
  // table frees (expired or removed), so it can count the interface's
  // flows down and report the flow's last packets. None: not told.
  void Attach(FlowAccounting* accounting) { accounting_ = accounting; }
  FlowAccounting* accounting() const { return accounting_; }
  // For scans a slice at a time (flow logs): entries [0, high_water())
  // hold every live one.
  const FlowEntry& entry(uint32_t index) const { return entries_[index]; }
  uint32_t high_water() const { return high_water_; }

  // Examines up to `budget` entries, resuming where the last call stopped,
  // and removes those expired at `now`. Returns how many it removed.
  uint32_t ExpireSome(uint32_t now, uint32_t budget);

  // Calls f(const FlowRecord&) for every live flow.
  template <typename F>
  void ForEach(uint32_t now, F&& f) const {
    for (uint32_t i = 0; i < capacity_; ++i) {
      if (entries_[i].in_use && !Expired(entries_[i], now)) {
        f(Record(entries_[i]));
      }
    }
  }

  // Copies live flows from index `from` on, examining at most `budget`
  // entries, into out[*count..limit), and their indices into
  // indices[*count..limit) if given. Returns where to continue
  // (capacity() when done). For listings done a slice at a time.
  uint32_t Collect(uint32_t from, uint32_t budget, uint32_t now,
                   FlowRecord* out, uint32_t limit, uint32_t* count,
                   uint32_t* indices = nullptr) const {
    uint32_t end = from + budget < capacity_ ? from + budget : capacity_;
    uint32_t i = from;
    for (; i < end && *count < limit; ++i) {
      if (entries_[i].in_use && !Expired(entries_[i], now)) {
        if (indices != nullptr) indices[*count] = i;
        out[(*count)++] = Record(entries_[i]);
      }
    }
    return i;
  }

  const Counters& counters() const { return counters_; }
  uint32_t capacity() const { return capacity_; }

 private:
  static constexpr int kSlotsPerBucket = 8;
  static constexpr uint32_t kEmptySlot = UINT32_MAX;
  struct alignas(64) Bucket {
    uint16_t signature[kSlotsPerBucket];
    uint32_t index[kSlotsPerBucket];
    // Live flows whose primary bucket this is but which sit in their
    // secondary one (this one was full): while 0, a flow missing here is
    // missing from the table, and its secondary bucket need not be read.
    uint32_t displaced;
  };
  static_assert(sizeof(Bucket) == 64);

  static uint32_t BucketCount(uint32_t capacity);
  static bool Expired(const FlowEntry& e, uint32_t now) {
    return static_cast<int32_t>(now - e.expires_at) >= 0;
  }
  uint32_t Primary(uint64_t hash) const { return hash & bucket_mask_; }
  uint32_t Secondary(uint64_t hash) const {
    return (hash >> 32) & bucket_mask_;
  }
  static uint16_t Signature(uint64_t hash) { return hash >> 48; }
  // The entry of `key` in `bucket`, or kEmptySlot.
  uint32_t IndexIn(const Bucket& bucket, const FlowKey& key,
                   uint64_t hash) const;
  // A bit pair per slot of `bucket` whose signature is `hash`'s: the eight
  // signatures compared at once.
  static uint32_t SignatureMatches(const Bucket& bucket, uint64_t hash) {
    __m128i signatures =
        _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.signature));
    __m128i wanted = _mm_set1_epi16(static_cast<int16_t>(Signature(hash)));
    return static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi16(signatures, wanted)));
  }
  // Starts loading the entries of `bucket` with `hash`'s signature; false
  // if there are none.
  bool PrefetchMatching(const Bucket& bucket, uint64_t hash) const {
    bool any = false;
    uint32_t matches = SignatureMatches(bucket, hash);
    while (matches != 0) {
      int s = std::countr_zero(matches) / 2;
      matches &= ~(3u << (2 * s));
      uint32_t index = bucket.index[s];
      if (index != kEmptySlot) {
        rte_prefetch0(&entries_[index]);
        any = true;
      }
    }
    return any;
  }
  // Clears the index slot that points at entry `index` and frees it.
  void Release(uint32_t index);
  // Moves the entry's counters of `direction` into its cold fields.
  void CarryOver(FlowEntry* entry, int direction);

  FlowEntry* entries_;
  ColdFlowFields* cold_;
  uint32_t* free_stack_;
  Bucket* buckets_;
  uint32_t capacity_;
  uint32_t free_count_;
  uint32_t bucket_mask_;
  uint32_t scan_cursor_ = 0;
  // One past the highest entry index ever handed out. The free stack gives
  // low indices first and takes freed ones back first, so live entries
  // stay below this mark and the sweep need not walk the empty rest of a
  // table sized for millions.
  uint32_t high_water_ = 0;
  FlowAccounting* accounting_ = nullptr;
  Counters counters_;
};

}  // namespace sgate::dataplane

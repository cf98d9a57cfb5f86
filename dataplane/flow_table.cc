#include "dataplane/flow_table.h"

#include "dataplane/flow_accounting.h"

#include <immintrin.h>
#include <rte_common.h>

#include <algorithm>
#include <bit>

namespace sgate::dataplane {
namespace {

constexpr size_t kAlign = 64;

size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

const char* NameCheckName(NameCheck check) {
  switch (check) {
    case NameCheck::kNone: return "none";
    case NameCheck::kPending: return "pending";
    case NameCheck::kNotAllowed: return "not_allowed";
    case NameCheck::kUndecided: return "undecided";
  }
  return "?";
}

uint32_t FlowTable::BucketCount(uint32_t capacity) {
  // Twice as many slots as entries, rounded up to a power of two so that a
  // bucket is picked with a mask.
  uint64_t slots = 2ull * capacity;
  uint64_t buckets = (slots + kSlotsPerBucket - 1) / kSlotsPerBucket;
  return static_cast<uint32_t>(std::bit_ceil(std::max<uint64_t>(buckets, 1)));
}

size_t FlowTable::MemoryFor(uint32_t capacity) {
  return AlignUp(sizeof(FlowEntry) * capacity) +
         AlignUp(sizeof(ColdFlowFields) * capacity) +
         AlignUp(sizeof(uint32_t) * capacity) +
         sizeof(Bucket) * BucketCount(capacity);
}

FlowTable::FlowTable(void* memory, uint32_t capacity)
    : capacity_(capacity),
      free_count_(capacity),
      bucket_mask_(BucketCount(capacity) - 1) {
  auto* base = static_cast<uint8_t*>(memory);
  entries_ = reinterpret_cast<FlowEntry*>(base);
  base += AlignUp(sizeof(FlowEntry) * capacity);
  cold_ = reinterpret_cast<ColdFlowFields*>(base);
  base += AlignUp(sizeof(ColdFlowFields) * capacity);
  free_stack_ = reinterpret_cast<uint32_t*>(base);
  base += AlignUp(sizeof(uint32_t) * capacity);
  buckets_ = reinterpret_cast<Bucket*>(base);
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&entries_[i]) FlowEntry();
    new (&cold_[i]) ColdFlowFields();
    // Pop order hands out low indices first: a small table stays compact.
    free_stack_[i] = capacity - 1 - i;
  }
  for (uint32_t b = 0; b <= bucket_mask_; ++b) {
    buckets_[b].displaced = 0;
    for (int s = 0; s < kSlotsPerBucket; ++s) {
      buckets_[b].signature[s] = 0;
      buckets_[b].index[s] = kEmptySlot;
    }
  }
}

uint64_t FlowTable::Hash(const FlowKey& key) {
  // Two CRC32-C chains over the key's five 64-bit words: the SSE4.2
  // instruction takes 3 cycles and the chains run side by side, several
  // times cheaper than a multiply-mix per word. The low half picks the
  // first bucket, the high half the second and the signature. CRC is linear,
  // so two chains over the same words differ by a constant whatever their
  // seeds (the second bucket was then a fixed partner of the first, and in
  // a table of 32 buckets or fewer the first bucket itself): the second
  // chain reads each word with its halves swapped, which leaves the halves
  // independent but for one parity bit.
  uint64_t words[5];
  std::memcpy(words, &key, sizeof(words));
  uint64_t low = 0x9E3779B9, high = 0x7F4A7C15;
  for (uint64_t w : words) {
    low = _mm_crc32_u64(low, w);
    high = _mm_crc32_u64(high, std::rotl(w, 32));
  }
  return high << 32 | low;
}

// Inlined by force: GCC declines (Lookup calls it twice), and the call per
// packet cost est-1k ~2 % in the enforcer benchmark.
__rte_always_inline uint32_t FlowTable::IndexIn(const Bucket& bucket,
                                                const FlowKey& key,
                                                uint64_t hash) const {
  uint32_t matches = SignatureMatches(bucket, hash);
  while (matches != 0) {
    int s = std::countr_zero(matches) / 2;
    matches &= ~(3u << (2 * s));
    uint32_t index = bucket.index[s];
    if (index != kEmptySlot && entries_[index].key == key) return index;
  }
  return kEmptySlot;
}

FlowEntry* FlowTable::Lookup(const FlowKey& key, uint64_t hash,
                             uint32_t now) {
  const Bucket& primary = buckets_[Primary(hash)];
  uint32_t index = IndexIn(primary, key, hash);
  if (index == kEmptySlot && primary.displaced != 0) {
    index = IndexIn(buckets_[Secondary(hash)], key, hash);
  }
  if (index == kEmptySlot) return nullptr;
  FlowEntry& entry = entries_[index];
  if (Expired(entry, now)) {
    Release(index);
    ++counters_.expired;
    return nullptr;
  }
  return &entry;
}

FlowEntry* FlowTable::Insert(const FlowKey& key, uint64_t hash) {
  if (free_count_ == 0) {
    ++counters_.insert_failed;
    return nullptr;
  }
  // The primary bucket while it has room, so that almost every flow is
  // found in the one bucket Prefetch loads: with twice as many slots as
  // entries, a primary bucket overflows only in a nearly full table.
  auto free_slot = [this](const Bucket& bucket) {
    for (int s = 0; s < kSlotsPerBucket; ++s) {
      if (bucket.index[s] == kEmptySlot) return s;
    }
    return -1;
  };
  Bucket* bucket = &buckets_[Primary(hash)];
  int slot = free_slot(*bucket);
  if (slot < 0 && Secondary(hash) != Primary(hash)) {
    bucket = &buckets_[Secondary(hash)];
    slot = free_slot(*bucket);
    if (slot >= 0) ++buckets_[Primary(hash)].displaced;
  }
  if (slot < 0) {
    ++counters_.insert_failed;
    return nullptr;
  }
  uint32_t index = free_stack_[--free_count_];
  high_water_ = std::max(high_water_, index + 1);
  bucket->signature[slot] = Signature(hash);
  bucket->index[slot] = index;
  FlowEntry& entry = entries_[index];
  entry = FlowEntry();
  entry.key = key;
  entry.in_use = true;
  cold_[index] = ColdFlowFields();
  ++counters_.created;
  ++counters_.active;
  return &entry;
}

void FlowTable::Release(uint32_t index) {
  uint64_t hash = Hash(entries_[index].key);
  auto clear = [index](Bucket& bucket) {
    for (int s = 0; s < kSlotsPerBucket; ++s) {
      if (bucket.index[s] == index) {
        bucket.index[s] = kEmptySlot;
        bucket.signature[s] = 0;
        return true;
      }
    }
    return false;
  };
  if (!clear(buckets_[Primary(hash)]) && clear(buckets_[Secondary(hash)])) {
    --buckets_[Primary(hash)].displaced;
  }
  if (accounting_ != nullptr) accounting_->Released(index, Record(entries_[index]));
  entries_[index].in_use = false;
  free_stack_[free_count_++] = index;
  --counters_.active;
}

void FlowTable::CarryOver(FlowEntry* entry, int direction) {
  ColdFlowFields& cold = cold_[IndexOf(entry)];
  cold.packets[direction] += entry->packets[direction];
  cold.bytes[direction] += entry->bytes[direction];
  entry->packets[direction] = 0;
  entry->bytes[direction] = 0;
}

FlowRecord FlowTable::Record(const FlowEntry& entry) const {
  const ColdFlowFields& cold = cold_[IndexOf(&entry)];
  FlowRecord r;
  r.key = entry.key;
  for (int d = 0; d < 2; ++d) {
    r.packets[d] = cold.packets[d] + entry.packets[d];
    r.bytes[d] = cold.bytes[d] + entry.bytes[d];
  }
  r.expires_at = entry.expires_at;
  r.generation = entry.admitted_generation();
  r.rule_id = cold.rule_id;
  r.state = entry.state;
  r.opened_ingress = entry.opened_ingress;
  r.untracked = entry.untracked;
  r.name_check = entry.name_check;
  r.named = entry.named;
  return r;
}

void FlowTable::Remove(FlowEntry* entry) {
  Release(IndexOf(entry));
  ++counters_.removed;
}

uint32_t FlowTable::ExpireSome(uint32_t now, uint32_t budget) {
  uint32_t removed = 0;
  for (uint32_t n = 0; n < budget && n < high_water_; ++n) {
    uint32_t index = scan_cursor_ < high_water_ ? scan_cursor_ : 0;
    scan_cursor_ = index + 1;
    if (entries_[index].in_use && Expired(entries_[index], now)) {
      Release(index);
      ++counters_.expired;
      ++removed;
    }
  }
  return removed;
}

}  // namespace sgate::dataplane

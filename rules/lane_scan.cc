// rte_vect_get_max_simd_bitwidth (EAL's --force-max-simd-bitwidth) is
// still experimental in DPDK 22.11; rte_acl consults it the same way.
#define ALLOW_EXPERIMENTAL_API 1

#include "rules/lane_scan.h"

#include <immintrin.h>
// DPDK 22.11's rte_vect.h declares its functions without extern "C".
extern "C" {
#include <rte_vect.h>
}

#include <algorithm>
#include <cstring>

#include "rules/protocol.h"

namespace sgate::rules {
namespace {

constexpr uint32_t kAnyProtocol = 256;

// The address as host-order 32-bit words.
void Words(const IpAddress& a, uint32_t* out) {
  for (int w = 0; w < 4; ++w) {
    out[w] = static_cast<uint32_t>(a.bytes[4 * w]) << 24 |
             static_cast<uint32_t>(a.bytes[4 * w + 1]) << 16 |
             static_cast<uint32_t>(a.bytes[4 * w + 2]) << 8 |
             a.bytes[4 * w + 3];
  }
}

uint32_t PrefixMask(int prefix_length, int word) {
  const int bits = std::clamp(prefix_length - 32 * word, 0, 32);
  return bits == 0 ? 0 : ~0u << (32 - bits);
}

// The classes whose packets an entry can match.
bool InClass(const MatchEntry& e, int klass) {
  if (e.protocol == kProtocolAll) return true;
  return LaneScan::ClassOf(static_cast<uint8_t>(e.protocol)) == klass;
}

// Eight of a block field's entries, from `first`.
__attribute__((target("avx2"))) inline __m256i Load8(const uint32_t* field,
                                                     uint32_t first) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(field + first));
}

}  // namespace

int LaneScan::ClassOf(uint8_t protocol) {
  switch (protocol) {
    case kProtocolTcp:
      return 0;
    case kProtocolUdp:
      return 1;
    case kProtocolIcmp:
      return 2;
    case kProtocolIcmpv6:
      return 3;
    default:
      return 4;
  }
}

LaneScan::Simd LaneScan::WidestSimd(Simd limit) {
  const uint16_t bitwidth = rte_vect_get_max_simd_bitwidth();
  if (limit >= Simd::kAvx512 && bitwidth >= 512 &&
      __builtin_cpu_supports("avx512f")) {
    return Simd::kAvx512;
  }
  if (limit >= Simd::kAvx2 && bitwidth >= 256 &&
      __builtin_cpu_supports("avx2")) {
    return Simd::kAvx2;
  }
  return Simd::kScalar;
}

void LaneScan::SetQuery(const IpAddress& remote, uint8_t protocol,
                        uint16_t port, Query& q) {
  Words(remote, q.address);
  q.port = port;
  q.protocol = protocol;
  q.klass = ClassOf(protocol);
}

LaneScan::LaneScan(Family family, const std::vector<MatchEntry>& entries,
                   const std::vector<bool>& scanned, uint32_t lanes, Simd simd)
    : simd_(simd), ranges_(lanes) {
  // Each scanned lane's entries by rank (open ones first, rules with
  // domains last: the scan reports a lane's first match), stable: the
  // compiler's order otherwise.
  std::vector<std::vector<const MatchEntry*>> by_lane(lanes);
  for (const MatchEntry& e : entries) {
    if (scanned[e.lane]) by_lane[e.lane].push_back(&e);
  }
  for (std::vector<const MatchEntry*>& list : by_lane) {
    std::stable_sort(list.begin(), list.end(),
                     [](const MatchEntry* a, const MatchEntry* b) {
                       return a->rank() < b->rank();
                     });
  }
  if (family == Family::kIPv4) {
    Fill(blocks4_, by_lane);
  } else {
    Fill(blocks6_, by_lane);
  }
}

template <int kWords>
void LaneScan::Fill(std::vector<Block<kWords>>& blocks,
                    const std::vector<std::vector<const MatchEntry*>>& by_lane) {
  for (size_t lane = 0; lane < by_lane.size(); ++lane) {
    for (int c = 0; c < kClasses; ++c) {
      Range& range = ranges_[lane][c];
      range.first = static_cast<uint32_t>(blocks.size());
      uint32_t slot = kBlock;
      for (const MatchEntry* e : by_lane[lane]) {
        if (!InClass(*e, c)) continue;
        if (slot == kBlock) {
          Block<kWords> empty{};
          std::fill(std::begin(empty.port_low), std::end(empty.port_low), 1);
          blocks.push_back(empty);
          slot = 0;
        }
        Block<kWords>& b = blocks.back();
        uint32_t address[4];
        Words(e->remote.address, address);
        for (int w = 0; w < kWords; ++w) {
          b.mask[w][slot] = PrefixMask(e->remote.prefix_length, w);
          b.address[w][slot] = address[w] & b.mask[w][slot];
        }
        b.port_low[slot] = e->port_low;
        b.port_high[slot] = e->port_high;
        b.reference[slot] = e->by_reference() ? 1u << e->reference_bit : 0;
        b.protocol[slot] = e->protocol == kProtocolAll
                               ? kAnyProtocol
                               : static_cast<uint32_t>(e->protocol);
        b.result[slot] = e->result();
        ++slot;
      }
      range.count = static_cast<uint32_t>(blocks.size()) - range.first;
    }
  }
}

size_t LaneScan::memory_bytes() const {
  return blocks4_.size() * sizeof(Block4) + blocks6_.size() * sizeof(Block6) +
         ranges_.size() * sizeof(ranges_[0]);
}

void LaneScan::Prefetch(uint32_t lane, int klass) const {
  const Range& r = ranges_[lane][klass];
  if (r.count == 0) return;
  // The first block's fields the scan reads before it knows of a match.
  auto lines = [](const auto& b) {
    for (const uint32_t* field : {b.address[0], b.mask[0], b.port_low,
                                  b.port_high, b.reference}) {
      _mm_prefetch(reinterpret_cast<const char*>(field), _MM_HINT_T0);
    }
  };
  if (!blocks4_.empty()) {
    lines(blocks4_[r.first]);
  } else {
    lines(blocks6_[r.first]);
  }
}

template <int kWords, bool kOther>
uint32_t LaneScan::ScanScalar(const Block<kWords>* b, uint32_t count,
                              const Query& q, uint32_t references) {
  for (uint32_t n = 0; n < count; ++n, ++b) {
    for (uint32_t i = 0; i < kBlock; ++i) {
      bool match = b->port_low[i] <= q.port && q.port <= b->port_high[i] &&
                   (b->reference[i] & references) == b->reference[i];
      for (int w = 0; w < kWords; ++w) {
        match = match &&
                ((q.address[w] ^ b->address[w][i]) & b->mask[w][i]) == 0;
      }
      if constexpr (kOther) {
        match = match && (b->protocol[i] == q.protocol ||
                          b->protocol[i] == kAnyProtocol);
      }
      if (match) return b->result[i];
    }
  }
  return 0;
}

template <int kWords, bool kOther>
__attribute__((target("avx2"))) uint32_t LaneScan::ScanAvx2(
    const Block<kWords>* b, uint32_t count, const Query& q,
    uint32_t references) {
  const __m256i p = _mm256_set1_epi32(static_cast<int>(q.port));
  const __m256i refs = _mm256_set1_epi32(static_cast<int>(references));
  const __m256i proto = _mm256_set1_epi32(static_cast<int>(q.protocol));
  const __m256i any = _mm256_set1_epi32(static_cast<int>(kAnyProtocol));
  const __m256i zero = _mm256_setzero_si256();
  __m256i r[kWords];
  for (int w = 0; w < kWords; ++w) {
    r[w] = _mm256_set1_epi32(static_cast<int>(q.address[w]));
  }
  for (uint32_t n = 0; n < count; ++n, ++b) {
    for (uint32_t half = 0; half < kBlock; half += 8) {
      // Unsigned low <= port <= high: max(low, port) == port and
      // max(high, port) == high.
      const __m256i high = Load8(b->port_high, half);
      __m256i ok = _mm256_and_si256(
          _mm256_cmpeq_epi32(_mm256_max_epu32(Load8(b->port_low, half), p), p),
          _mm256_cmpeq_epi32(_mm256_max_epu32(high, p), high));
      const __m256i ref = Load8(b->reference, half);
      ok = _mm256_and_si256(
          ok, _mm256_cmpeq_epi32(_mm256_and_si256(ref, refs), ref));
      for (int w = 0; w < kWords; ++w) {
        const __m256i differ =
            _mm256_and_si256(_mm256_xor_si256(Load8(b->address[w], half), r[w]),
                             Load8(b->mask[w], half));
        ok = _mm256_and_si256(ok, _mm256_cmpeq_epi32(differ, zero));
      }
      if constexpr (kOther) {
        const __m256i bp = Load8(b->protocol, half);
        ok = _mm256_and_si256(
            ok, _mm256_or_si256(_mm256_cmpeq_epi32(bp, proto),
                                _mm256_cmpeq_epi32(bp, any)));
      }
      const int bits = _mm256_movemask_ps(_mm256_castsi256_ps(ok));
      if (bits != 0) return b->result[half + __builtin_ctz(bits)];
    }
  }
  return 0;
}

template <int kWords, bool kOther>
__attribute__((target("avx512f"))) uint32_t LaneScan::ScanAvx512(
    const Block<kWords>* b, uint32_t count, const Query& q,
    uint32_t references) {
  const __m512i p = _mm512_set1_epi32(static_cast<int>(q.port));
  const __m512i refs = _mm512_set1_epi32(static_cast<int>(references));
  __m512i r[kWords];
  for (int w = 0; w < kWords; ++w) {
    r[w] = _mm512_set1_epi32(static_cast<int>(q.address[w]));
  }
  for (uint32_t n = 0; n < count; ++n, ++b) {
    __mmask16 k = _mm512_cmple_epu32_mask(_mm512_load_si512(b->port_low), p);
    k = _mm512_mask_cmpge_epu32_mask(k, _mm512_load_si512(b->port_high), p);
    for (int w = 0; w < kWords; ++w) {
      k = _mm512_mask_testn_epi32_mask(
          k, _mm512_xor_si512(_mm512_load_si512(b->address[w]), r[w]),
          _mm512_load_si512(b->mask[w]));
    }
    const __m512i ref = _mm512_load_si512(b->reference);
    k = _mm512_mask_cmpeq_epi32_mask(k, _mm512_and_si512(ref, refs), ref);
    if constexpr (kOther) {
      const __m512i bp = _mm512_load_si512(b->protocol);
      k = _mm512_mask_cmpeq_epi32_mask(
              k, bp, _mm512_set1_epi32(static_cast<int>(q.protocol))) |
          _mm512_mask_cmpeq_epi32_mask(
              k, bp, _mm512_set1_epi32(static_cast<int>(kAnyProtocol)));
    }
    if (k != 0) return b->result[__builtin_ctz(k)];
  }
  return 0;
}

template <int kWords>
uint32_t LaneScan::ScanBlocks(const Block<kWords>* b, uint32_t count,
                              const Query& q, uint32_t references) const {
  const bool other = q.klass == kOtherClass;
  switch (simd_) {
    case Simd::kAvx512:
      return other ? ScanAvx512<kWords, true>(b, count, q, references)
                   : ScanAvx512<kWords, false>(b, count, q, references);
    case Simd::kAvx2:
      return other ? ScanAvx2<kWords, true>(b, count, q, references)
                   : ScanAvx2<kWords, false>(b, count, q, references);
    case Simd::kScalar:
      break;
  }
  return other ? ScanScalar<kWords, true>(b, count, q, references)
               : ScanScalar<kWords, false>(b, count, q, references);
}

uint32_t LaneScan::Scan(uint32_t lane, const Query& query,
                        uint32_t references) const {
  const Range& range = ranges_[lane][query.klass];
  if (range.count == 0) return 0;
  if (!blocks4_.empty()) {
    return ScanBlocks(&blocks4_[range.first], range.count, query, references);
  }
  return ScanBlocks(&blocks6_[range.first], range.count, query, references);
}

}  // namespace sgate::rules

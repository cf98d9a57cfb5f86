#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rules/ip_address.h"
#include "rules/rule_compiler.h"

namespace sgate::rules {

// The rules of small lanes, matched by a plain scan instead of rte_acl
// (rules/README.md, "two engines"). A lane's entries for one protocol class
// (tcp, udp, icmp, icmpv6, any other protocol) lie in consecutive blocks of
// 16, field by field, so one SIMD compare tests 16 entries; entries open to
// the whole address space come first, so the first match is the one to
// report. Scanning a lane of n entries costs about n/16 block tests and no
// trie is built: this wins over an rte_acl key (a walk through a trie of
// many megabytes) for lanes up to a few dozen entries, and loses beyond.
//
// Immutable once built; Scan is const, allocates nothing and may run on any
// number of lcores at once.
class LaneScan {
 public:
  static constexpr uint32_t kBlock = 16;  // entries per block
  static constexpr int kClasses = 5;      // tcp, udp, icmp, icmpv6, other
  static constexpr int kOtherClass = 4;
  // The class whose block list a packet of `protocol` scans.
  static int ClassOf(uint8_t protocol);

  // How wide a compare: 16 entries at once (AVX-512), 8 (AVX2) or one.
  enum class Simd : uint8_t { kScalar, kAvx2, kAvx512 };
  // The widest the CPU and EAL's max SIMD bitwidth allow, up to `limit`.
  static Simd WidestSimd(Simd limit);

  // One packet as the scan compares it, made once for all its lanes.
  struct Query {
    uint32_t address[4];  // the remote address, host-order words
    uint32_t port;        // its PortField
    uint32_t protocol;
    int klass;
  };
  // Written in place: the scan reads it back word by word right away.
  static void SetQuery(const IpAddress& remote, uint8_t protocol,
                       uint16_t port, Query& query);

  // `entries`: the entries of one family and direction; those of the
  // lanes with `scanned[lane]` are kept. `lanes`: the lane count.
  LaneScan(Family family, const std::vector<MatchEntry>& entries,
           const std::vector<bool>& scanned, uint32_t lanes, Simd simd);
  LaneScan() = default;

  // The best result (MatchEntry::result(): the first match of the lane's
  // entries, sorted by rank) of `lane`'s entries matching the query, or 0.
  // `references`: the lane's reference mask for the remote address.
  uint32_t Scan(uint32_t lane, const Query& query, uint32_t references) const;

  // Starts loading the first block Scan reads for this lane and class.
  void Prefetch(uint32_t lane, int klass) const;

  size_t memory_bytes() const;
  Simd simd() const { return simd_; }

 private:
  // 16 entries, field by field; IPv4 blocks have one address word, IPv6
  // ones four. Unused entries never match (port_low 1 > port_high 0).
  template <int kWords>
  struct alignas(64) Block {
    uint32_t address[kWords][kBlock];
    uint32_t mask[kWords][kBlock];
    uint32_t port_low[kBlock];
    uint32_t port_high[kBlock];
    uint32_t reference[kBlock];  // the entry's reference bit, or 0
    uint32_t protocol[kBlock];   // class "other": the protocol, or 256: any
    uint32_t result[kBlock];
  };
  using Block4 = Block<1>;
  using Block6 = Block<4>;
  struct Range {
    uint32_t first = 0;  // into the blocks
    uint32_t count = 0;
  };

  template <int kWords>
  void Fill(std::vector<Block<kWords>>& blocks,
            const std::vector<std::vector<const MatchEntry*>>& by_lane);

  // The scan of `count` blocks from `b` with each SIMD width; kOther:
  // compare the protocol too (class "other" mixes protocols).
  template <int kWords, bool kOther>
  static uint32_t ScanScalar(const Block<kWords>* b, uint32_t count,
                             const Query& q, uint32_t references);
  template <int kWords, bool kOther>
  static uint32_t ScanAvx2(const Block<kWords>* b, uint32_t count,
                           const Query& q, uint32_t references);
  template <int kWords, bool kOther>
  static uint32_t ScanAvx512(const Block<kWords>* b, uint32_t count,
                             const Query& q, uint32_t references);
  template <int kWords>
  uint32_t ScanBlocks(const Block<kWords>* b, uint32_t count, const Query& q,
                      uint32_t references) const;

  Simd simd_ = Simd::kScalar;
  std::vector<Block4> blocks4_;  // IPv4
  std::vector<Block6> blocks6_;  // IPv6
  std::vector<std::array<Range, kClasses>> ranges_;  // by lane
};

}  // namespace sgate::rules

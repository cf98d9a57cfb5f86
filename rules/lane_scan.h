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
// report. Scanning a lane of n entries costs about n/16 block tests, with
// no trie to build: this wins over an rte_acl key (a walk through a trie of
// many megabytes) for lanes up to a few dozen entries, and loses beyond.
//
// Immutable once built; Scan is const, allocates nothing and may run on any
// number of lcores at once.
class LaneScan {
 public:
  static constexpr uint32_t kBlock = 16;  // entries per block
  static constexpr int kClasses = 5;      // tcp, udp, icmp, icmpv6, other

  // The class whose block list a packet of `protocol` scans.
  static int ClassOf(uint8_t protocol);

  // How wide a compare: 16 entries at once (AVX-512), 8 (AVX2) or one.
  enum class Simd : uint8_t { kScalar, kAvx2, kAvx512 };
  // The widest the CPU and EAL's max SIMD bitwidth allow, up to `limit`.
  static Simd WidestSimd(Simd limit);

  // `entries`: the entries of one family and direction; those of the
  // lanes with `scanned[lane]` are kept. `lanes`: the lane count.
  LaneScan(Family family, const std::vector<MatchEntry>& entries,
           const std::vector<bool>& scanned, uint32_t lanes, Simd simd);
  LaneScan() = default;

  // The best result (rule_table.cc's Result(): rule id + 1, top bit for an
  // open rule) of `lane`'s entries matching the packet, or 0. `remote`:
  // the remote address; `port`: its PortField; `references`: the lane's
  // reference mask for the remote address.
  uint32_t Scan(uint32_t lane, uint8_t protocol, const IpAddress& remote,
                uint16_t port, uint32_t references) const;

  // Starts loading the first block `Scan` of this lane and protocol reads.
  void Prefetch(uint32_t lane, uint8_t protocol) const;

  size_t memory_bytes() const;
  Simd simd() const { return simd_; }

 private:
  // 16 entries, field by field (IPv6 addresses as four 32-bit words).
  // Unused entries never match (port_low 1 > port_high 0).
  struct alignas(64) Block {
    uint32_t address[4][kBlock];
    uint32_t mask[4][kBlock];
    uint32_t port_low[kBlock];
    uint32_t port_high[kBlock];
    uint32_t reference[kBlock];  // the entry's reference bit, or 0
    uint32_t protocol[kBlock];   // class "other": the protocol, or 256: any
    uint32_t result[kBlock];
  };
  struct Range {
    uint32_t first = 0;  // into blocks_
    uint32_t count = 0;
  };
  // The scan of `blocks` blocks from `b` with each SIMD width; kOther:
  // compare the protocol too (class "other" mixes protocols).
  template <int kWords, bool kOther>
  static uint32_t ScanScalar(const Block* b, uint32_t blocks,
                             const uint32_t* remote, uint32_t port,
                             uint32_t references, uint32_t protocol);
  template <int kWords, bool kOther>
  static uint32_t ScanAvx2(const Block* b, uint32_t blocks,
                           const uint32_t* remote, uint32_t port,
                           uint32_t references, uint32_t protocol);
  template <int kWords, bool kOther>
  static uint32_t ScanAvx512(const Block* b, uint32_t blocks,
                             const uint32_t* remote, uint32_t port,
                             uint32_t references, uint32_t protocol);
  template <int kWords, bool kOther>
  uint32_t ScanBlocks(const Block* b, uint32_t blocks, const uint32_t* remote,
                      uint32_t port, uint32_t references,
                      uint32_t protocol) const;

  int words_ = 1;  // address words: 1 (IPv4) or 4 (IPv6)
  Simd simd_ = Simd::kScalar;
  std::vector<Block> blocks_;
  std::vector<std::array<Range, kClasses>> ranges_;  // by lane
};

}  // namespace sgate::rules

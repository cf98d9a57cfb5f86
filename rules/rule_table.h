#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/lane_scan.h"
#include "rules/policy.h"
#include "rules/packet_key.h"
#include "rules/rule_compiler.h"

// The DPDK objects stay opaque here so that users of the table (dataplane,
// sgatectl) need no DPDK headers for the API.
struct rte_acl_ctx;

namespace sgate::rules {

// rte_acl classify implementations; kAuto picks the widest the CPU and
// EAL's max SIMD bitwidth allow (512-bit ones need
// --force-max-simd-bitwidth=512 on the EAL command line).
enum class AclMethod : uint8_t {
  kAuto,
  kScalar,
  kSse,
  kAvx2,
  kAvx512x16,
  kAvx512x32,
};
absl::string_view AclMethodName(AclMethod method);
// "auto", "scalar", "sse", "avx2", "avx512x16", "avx512x32".
std::optional<AclMethod> ParseAclMethod(absl::string_view name);

struct RuleTableOptions {
  CompileOptions compile;
  AclMethod acl_method = AclMethod::kAuto;
  int socket_id = -1;  // SOCKET_ID_ANY
  // For tests: use the wide ACL key (rule_table.cc) even when the lanes
  // fit the narrow one, so that small random policies cover both layouts.
  bool force_wide_key = false;
  // For tests: give rules open to the whole address space a context of
  // their own even in small tables (rule_table.cc, kSplitOpenRules).
  bool force_split_open_rules = false;
  // For tests: the reference mask of a narrow key holds at most this many
  // bits (0: as many as the lane ids leave), so that small policies have
  // groups with several lanes.
  uint32_t max_reference_bits = 0;
  // Lanes of at most this many entries (in their family and direction)
  // are matched by a scan (rules/lane_scan.h) instead of rte_acl: 0 puts
  // every lane in rte_acl, UINT32_MAX none (rules/README.md, "two
  // engines", measures the choice).
  uint32_t scan_lane_limit = kDefaultScanLaneLimit;
  static constexpr uint32_t kDefaultScanLaneLimit = 256;
};

// One family and direction's context (its lanes, scanned or in rte_acl),
// for `sgatectl check` and the benchmarks.
struct AclContextStats {
  uint32_t rules = 0;       // entries, open ones included
  uint32_t open_apart = 0;  // open rules in a context of their own
  uint32_t lanes = 0;
  // Of those, the lanes and entries matched by a scan, not rte_acl.
  uint32_t scanned_lanes = 0;
  uint32_t scanned_rules = 0;
  bool reused = false;         // shared with the table it replaced
  double build_seconds = 0;    // scan arrays, rte_acl add + build
  size_t memory_bytes = 0;     // scan arrays, DPDK heap of rte_acl
};

// For `sgatectl check --compile`, the reload log and the benchmarks.
struct RuleTableStats {
  std::array<std::array<AclContextStats, 2>, 2> acl{};  // [family][direction]
  uint32_t interfaces = 0;
  uint32_t groups = 0;
  uint32_t referenced_groups = 0;
  uint32_t member_classes = 0;  // the empty class included
  uint32_t mask_slots = 0;      // lane slices that reference groups, + 1
  uint32_t reference_bits = 0;  // of a lane's mask in the ACL key
  bool wide_acl_key = false;    // rule_table.cc: the key layouts
  std::array<uint32_t, 2> host_addresses{};  // [family], host tables
  // Keys per packet: lanes per enforced interface, [family][direction].
  std::array<std::array<double, 2>, 2> lanes_per_interface{};
  bool rule_side_reused = false;  // the whole rule side came from the
                                  // previous table: no rule compiled
  // DPDK heap bytes and arrays: the rte_acl contexts (wherever built),
  // the address side (host tables, interfaces, member masks).
  size_t acl_memory_bytes = 0;
  size_t address_memory_bytes = 0;
  double rules_seconds = 0;      // CompileRules (0 when reused)
  double addresses_seconds = 0;  // CompileAddresses
  double hosts_seconds = 0;      // host tables, lane and mask arrays
  double acl_seconds = 0;        // contexts built by this table
  double build_seconds = 0;      // all of it
  AclMethod acl_method = AclMethod::kAuto;  // the one in use
  LaneScan::Simd scan_simd = LaneScan::Simd::kScalar;  // the scan's

  uint32_t AclRules(Family family, Direction direction) const {
    return acl[static_cast<int>(family)][static_cast<int>(direction)].rules;
  }
  uint32_t ContextsBuilt() const;
  uint32_t ContextsReused() const;
  size_t memory_bytes() const { return acl_memory_bytes + address_memory_bytes; }
};

// The answer for one packet.
struct Classification {
  static constexpr uint32_t kNoInterface = UINT32_MAX;
  Decision decision = Decision::kNoRuleMatched;
  // Valid when decision is kAllowedByRule, or kPendingName (then one of the
  // rules with domains that allow the packet).
  uint32_t rule_id = 0;
  uint32_t interface = kNoInterface;  // RuleTable::interface(i)

  // Whether the packet may open a flow: allowed, or pending a name (the
  // flow is admitted and its first payload decides).
  bool allowed() const {
    return decision == Decision::kAllowedByRule ||
           decision == Decision::kUnknownInterfacePassed ||
           decision == Decision::kPendingName;
  }
};

// A compiled policy (rules/README.md). The address side maps a local
// address (and VLAN) to its interface and a remote address to its member
// class, through exact-match host tables; the rule side holds one context
// per (family, direction) whose lanes are scanned (LaneScan) or in
// rte_acl, and a packet is matched once per lane (group) of its interface.
// Immutable once built and safe to read from any number of lcores at once.
// Building a new table never touches an existing one (every DPDK object it
// creates has a name unique to it), so the dataplane can swap tables under
// RCU; a new table may share the previous table's contexts
// (reference-counted: the last table holding them frees them). Build and
// destroy on the control thread, with EAL initialised.
class RuleTable {
 public:
  // Classify works on at most this many packets per internal pass (larger
  // calls are split): it matches the dataplane's 32-64 packet rx bursts
  // and bounds the on-stack scratch to a few KiB.
  static constexpr uint32_t kMaxBurst = 64;

  // `previous`: the table this one replaces, if any. Its contexts are
  // shared instead of built again when the rules they hold did not change
  // (the whole rule side when no group's rules or prefix list did).
  static absl::StatusOr<std::unique_ptr<RuleTable>> Build(
      const Policy& policy, const RuleTableOptions& options = {},
      const RuleTable* previous = nullptr);

  RuleTable(const RuleTable&) = delete;
  RuleTable& operator=(const RuleTable&) = delete;
  ~RuleTable();

  // IPv4 and IPv6 may be mixed. No allocation, locks, logging or virtual
  // calls; `out[i]` answers `keys[i]`.
  void Classify(const PacketKey* keys, uint32_t count,
                Classification* out) const;
  Classification Classify(const PacketKey& key) const {
    Classification c;
    Classify(&key, 1, &c);
    return c;
  }

  const RuleTableStats& stats() const { return stats_; }
  const std::string& interface_name(uint32_t i) const {
    return interface_names_[i];
  }
  // Every interface the table knows, by the id Classification reports.
  const std::vector<std::string>& interface_names() const {
    return interface_names_;
  }

 private:
  // The rule side: what CompileRules made of the groups' rules and the
  // prefix lists, and a context per (family, direction): its entries,
  // scanned lanes and rte_acl contexts. Shared with later tables as long
  // as the rules stay (rule_table.cc).
  struct AclContext;
  struct RuleSide;

  // What a host table's next hop points to: one address, possibly local
  // to several interfaces (one per VLAN), possibly a member of referenced
  // groups.
  struct AddressInfo {
    uint32_t first_local = 0;  // into locals_
    uint32_t local_count = 0;
    uint32_t member_class = 0;
  };
  // An interface owning an address in one VLAN, with the lanes its packets
  // are classified in, per direction (into lane_keys_ of the family).
  struct Local {
    uint32_t vlan_key;  // the VLAN id, or kUntagged
    uint32_t interface;
    uint32_t first_lane[2];
    uint32_t lane_count[2];
  };
  // One lane of an interface as its packets need it: the lane's part of
  // the rte_acl key word, its slot in a member class's row of reference
  // masks, and whether it is scanned.
  struct LaneKey {
    uint32_t lane_bits;
    uint32_t mask_slot;
    uint32_t lane;
    bool scanned;  // by the LaneScan, not rte_acl
  };
  static constexpr uint32_t kUntagged = 0x10000;  // outside 16-bit VLAN ids

  RuleTable() = default;
  absl::Status BuildRuleSide(const Policy& policy,
                             const RuleTableOptions& options,
                             const RuleSide* previous, std::string fingerprint,
                             std::string options_key);
  // One family and direction's context of `entries` (a lane's entries
  // scanned or in rte_acl); its DPDK objects are named after this table.
  absl::StatusOr<std::shared_ptr<const AclContext>> BuildContext(
      Family family, Direction direction, std::vector<MatchEntry> entries,
      uint32_t lanes, bool wide, uint32_t reference_bits,
      const RuleTableOptions& options) const;
  absl::Status BuildAddressSide(const CompiledAddresses& addresses);
  absl::Status BuildHostTables(const CompiledAddresses& addresses);

  template <Family kFamily, bool kWide>
  void ClassifyFamily(const PacketKey* keys, const uint8_t* index, uint32_t n,
                      Classification* out) const;
  void ClassifyBurst(const PacketKey* keys, uint32_t count,
                     Classification* out) const;

  std::string name_;  // unique prefix of this table's DPDK object names
  std::shared_ptr<const RuleSide> rule_side_;
  // The rule side's rte_acl contexts and scans, copied here for the packet
  // path ([family][direction]); the open rules' own contexts, or null.
  std::array<std::array<rte_acl_ctx*, 2>, 2> acl_{};
  std::array<std::array<rte_acl_ctx*, 2>, 2> acl_open_{};
  std::array<std::array<const LaneScan*, 2>, 2> scan_{};
  bool wide_ = false;             // the ACL key layout (rule_table.cc)
  uint32_t reference_shift_ = 0;  // narrow: lane << this | mask

  // Host address → next hop (the address_info_ index; 0: none), per
  // family. Every route is a host route (/32, /128), so an exact-match
  // table answers in one probe, prefetched for the whole burst: rte_fib's
  // DIR24_8 reserves a 2^24-entry first level (16 or 32 MiB, whose zeroing
  // was most of a reload's address-side build) and rte_fib6's trie walks
  // up to 14 levels. Open addressing, linear probing, a power-of-two size
  // at most half full; the slot is the hash's top bits. A slot type holds
  // one family's address: Of, Hash and SameAddress (rule_table.cc).
  struct Host4Slot {
    uint32_t address = 0;   // host order
    uint32_t next_hop = 0;  // 0: empty slot
    static Host4Slot Of(const IpAddress& a);
    uint64_t Hash() const;
    bool SameAddress(const Host4Slot& o) const { return address == o.address; }
  };
  struct Host6Slot {
    uint64_t high = 0;  // address bytes 0-7, as they lie in memory
    uint64_t low = 0;   // bytes 8-15
    uint32_t next_hop = 0;  // 0: empty slot
    static Host6Slot Of(const IpAddress& a);
    uint64_t Hash() const;
    bool SameAddress(const Host6Slot& o) const {
      return high == o.high && low == o.low;
    }
  };
  template <typename Slot>
  class HostTable {
   public:
    // Room for `count` addresses, all slots empty.
    void Reset(size_t count);
    void Insert(const IpAddress& address, uint32_t next_hop);
    // Next hops of the local addresses of keys[index[0..n)] into
    // hops[0..n), and of their remote addresses into hops[n..2n) if
    // remote_too (0: none).
    void Lookup(const PacketKey* keys, const uint8_t* index, uint32_t n,
                bool remote_too, uint64_t* hops) const;
    size_t bytes() const { return slots_.size() * sizeof(Slot); }

   private:
    std::vector<Slot> slots_;
    int shift_ = 64;
  };
  HostTable<Host4Slot> hosts4_;
  HostTable<Host6Slot> hosts6_;
  // [family]: next hop n is address_info_[family][n]; entry 0, for
  // addresses with no route, has no local and the empty member class.
  std::array<std::vector<AddressInfo>, 2> address_info_;
  std::array<std::vector<Local>, 2> locals_;
  std::array<std::vector<LaneKey>, 2> lane_keys_;  // [family]
  // Member class c's reference mask for mask slot s is
  // masks[c * mask_slots_ + s]; slot 0 and class 0 are all zero. One byte
  // each for narrow keys (rule_table.cc, kNarrowReferenceBits), four for
  // wide ones.
  std::vector<uint8_t> masks8_;
  std::vector<uint32_t> masks32_;
  uint32_t mask_slots_ = 1;
  // Whether remote addresses need a lookup (some rule references a group).
  bool lookup_remote_ = false;
  Decision unknown_decision_ = Decision::kUnknownInterfaceDropped;
  std::vector<std::string> interface_names_;
  RuleTableStats stats_;
};

}  // namespace sgate::rules

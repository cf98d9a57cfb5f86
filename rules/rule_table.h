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
#include "rules/policy.h"
#include "rules/packet_key.h"
#include "rules/rule_compiler.h"

// The DPDK objects stay opaque here so that users of the table (dataplane,
// sgatectl) need no DPDK headers for the API.
struct rte_acl_ctx;
struct rte_fib;

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
  // For tests: use the wide ACL key (rule_table.cc) even when the group
  // sets and address classes fit the narrow one, so that small random
  // policies cover both layouts.
  bool force_wide_key = false;
  // For tests: give rules open to the whole address space a context of
  // their own even in small tables (rule_table.cc, kSplitOpenRules).
  bool force_split_open_rules = false;
};

// For `sgatectl check` and the benchmarks.
struct RuleTableStats {
  // ACL rules per context, [family][direction].
  std::array<std::array<uint32_t, 2>, 2> acl_rules{};
  uint32_t interfaces = 0;
  uint32_t group_sets = 0;
  uint32_t address_classes = 0;
  std::array<uint32_t, 2> fib_routes{};  // [family]
  // DPDK heap bytes the table holds (rte_acl, rte_fib) plus its own arrays.
  size_t memory_bytes = 0;
  double compile_seconds = 0;  // CompilePolicy
  double build_seconds = 0;    // compile + FIB + ACL build, in all
  AclMethod acl_method = AclMethod::kAuto;  // the one in use
  bool narrow_acl_key = false;  // rule_table.cc: 1-byte group set and class
};

// The answer for one packet.
struct Classification {
  static constexpr uint32_t kNoInterface = UINT32_MAX;
  Decision decision = Decision::kNoRuleMatched;
  uint32_t rule_id = 0;  // valid when decision == kAllowedByRule
  uint32_t interface = kNoInterface;  // RuleTable::interface(i)

  bool allowed() const {
    return decision == Decision::kAllowedByRule ||
           decision == Decision::kUnknownInterfacePassed;
  }
};

// A compiled policy: local address (and VLAN) → interface → group set via
// rte_fib (IPv4) or an exact-match table (IPv6), then rte_acl per (family,
// direction). Immutable once
// built and safe to read from any number of lcores at once; building a new
// table never touches an existing one (every DPDK object has a name unique
// to its table), so the dataplane can swap tables under RCU. Build and
// destroy on the control thread, with EAL initialised.
class RuleTable {
 public:
  // Classify works on at most this many packets per internal pass (larger
  // calls are split): it matches the dataplane's 32-64 packet rx bursts
  // and bounds the on-stack scratch to a few KiB.
  static constexpr uint32_t kMaxBurst = 64;

  static absl::StatusOr<std::unique_ptr<RuleTable>> Build(
      const Policy& policy, const RuleTableOptions& options = {});
  static absl::StatusOr<std::unique_ptr<RuleTable>> Build(
      const CompiledPolicy& compiled, const RuleTableOptions& options = {});

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
  // What a FIB next hop points to: one address, possibly local to several
  // interfaces (one per VLAN), possibly a member of referenced groups.
  struct AddressInfo {
    uint32_t first_local = 0;  // into locals_
    uint16_t local_count = 0;
    uint16_t address_class = kNoAddressClass;
  };
  struct Local {
    uint32_t vlan_key;   // the VLAN id, or kUntagged
    uint32_t interface;
    uint16_t group_set;
  };
  static constexpr uint32_t kUntagged = 0x10000;  // outside 16-bit VLAN ids

  RuleTable() = default;
  absl::Status BuildFromCompiled(const CompiledPolicy& compiled,
                                 const RuleTableOptions& options);
  absl::Status BuildFibs(const CompiledPolicy& compiled, int socket_id);
  absl::Status BuildAcl(const CompiledPolicy& compiled, Family family,
                        Direction direction, const RuleTableOptions& options);
  absl::Status BuildAclContext(const std::string& name, Family family,
                               const std::vector<const MatchEntry*>& entries,
                               const RuleTableOptions& options,
                               rte_acl_ctx*& ctx);

  template <Family kFamily, bool kNarrow>
  void ClassifyFamily(const PacketKey* keys, const uint8_t* index, uint32_t n,
                      Classification* out) const;
  void ClassifyBurst(const PacketKey* keys, uint32_t count,
                     Classification* out) const;
  // Next hops of the local addresses of keys[index[0..n)] into hops[0..n),
  // and of their remote addresses into hops[n..2n) if remote_too.
  void LookupHosts6(const PacketKey* keys, const uint8_t* index, uint32_t n,
                    bool remote_too, uint64_t* hops) const;

  std::string name_;  // unique prefix of this table's DPDK object names
  rte_fib* fib4_ = nullptr;
  // IPv6 host address → next hop (the address_info_[1] index; 0: none).
  // Every IPv6 route is a /128, so an exact-match table answers in one
  // probe, where rte_fib6's trie walks up to 14 levels and reserves a
  // 2^24-entry first level (32 MiB) for a single address. Open addressing,
  // linear probing, a power-of-two size at most half full; the slot is
  // Host6Hash(high, low) >> hosts6_shift_.
  struct Host6Slot {
    uint64_t high = 0;  // address bytes 0-7, as they lie in memory
    uint64_t low = 0;   // bytes 8-15
    uint32_t next_hop = 0;  // 0: empty slot
  };
  std::vector<Host6Slot> hosts6_;
  int hosts6_shift_ = 64;
  std::array<std::array<rte_acl_ctx*, 2>, 2> acl_{};  // [family][direction]
  // The rules open to the whole address space, when a big context has them
  // apart (rule_table.cc, kSplitOpenRules); else null.
  std::array<std::array<rte_acl_ctx*, 2>, 2> acl_open_{};
  // [family]: next hop n is address_info_[family][n]; entry 0, for
  // addresses with no route, has no local and no class.
  std::array<std::vector<AddressInfo>, 2> address_info_;
  std::array<std::vector<Local>, 2> locals_;
  // Whether remote addresses need a FIB lookup (some rule uses classes).
  std::array<bool, 2> lookup_remote_{};
  // ACL key layout (rule_table.cc): the group set and the address class
  // fit one byte each.
  bool narrow_ = false;
  Decision unknown_decision_ = Decision::kUnknownInterfaceDropped;
  std::vector<std::string> interface_names_;
  RuleTableStats stats_;
};

}  // namespace sgate::rules

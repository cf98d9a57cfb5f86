#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rules/ip_address.h"
#include "rules/policy.h"

namespace sgate::rules {

// The platform-neutral half of the rule compiler (rules/README.md), in two
// halves of its own:
//  - the rule side (CompileRules): what the groups' rules and the prefix
//    lists say, flattened into match entries per (family, direction). It
//    never looks at interfaces or members, so the rte_acl contexts built
//    from it survive every reload that only moves interfaces;
//  - the address side (CompileAddresses): which interfaces this node
//    enforces and with which groups, and which groups each member address
//    belongs to. Cheap, rebuilt on every reload.
// The DPDK backend (RuleTable) only loads these into its host tables,
// lane scans and rte_acl contexts;
// anything about semantics (AWS defaults, ports, ICMP, references) is
// decided here.

// Lane ids are 16-bit ACL fields.
inline constexpr uint32_t kMaxLanes = 65535;
// A classification result (MatchEntry::result()) is the rule id + 1 (0: no
// match) with the top two bits ranking it, so rule ids stay below 2^30 - 1.
inline constexpr uint32_t kMaxRules = (1u << 30) - 2;
// A packet's best result is the largest over its lanes, so these bits rank
// rules: an open rule (to the whole address space) whenever one matches
// (untracked flows depend on it, DESIGN.md §5), then any rule that allows
// outright, and a rule with domains (pending a name) only when nothing
// else allows the packet.
inline constexpr uint32_t kOpenResult = 1u << 31;
inline constexpr uint32_t kOutrightResult = 1u << 30;
inline constexpr uint32_t kRankBits = kOpenResult | kOutrightResult;

// The 16-bit "port" field of a packet: the destination port for tcp/udp,
// type << 8 | code for icmp/icmpv6 (either family's number, as the
// reference compares protocol numbers only), 0 for everything else.
inline uint16_t PortField(uint8_t protocol, uint16_t dst_port,
                          uint8_t icmp_type, uint8_t icmp_code) {
  if (HasPorts(protocol)) return dst_port;
  if (HasIcmpFields(protocol)) {
    return static_cast<uint16_t>(icmp_type << 8 | icmp_code);
  }
  return 0;
}

// One lane of one (family, direction): a group, or a slice of a group that
// references more groups than one lane's reference mask holds. A packet is
// classified once per lane of its interface's groups; the ACL key carries
// the lane id and the lane's reference mask for the packet's remote
// address (bit k: the remote is a member of references[k]).
struct Lane {
  uint32_t group = 0;  // CompiledRules::groups index
  // The referenced groups behind this lane's mask bits (group ids).
  std::vector<uint32_t> references;
  // The lane's slot in the per-address-class table of reference masks,
  // shared by the two families' lanes of the same group slice; 0 when the
  // lane references nothing (slot 0 is always an empty mask).
  uint32_t mask_slot = 0;
};

// One expanded rule of one (family, direction) context: every field is a
// plain match, so a linear scan over the entries of a packet's lanes is
// already a correct classifier (the benchmark baseline).
struct MatchEntry {
  uint32_t rule_id = 0;  // Policy::rules() index of the rule it came from
  uint16_t lane = 0;     // exact
  // A security-group reference: the bit of the lane's reference mask that
  // the referenced group's members set (the remote address is then any);
  // -1: the remote is `remote`.
  int8_t reference_bit = -1;
  int16_t protocol = kProtocolAll;  // kProtocolAll or an exact 0..255
  uint16_t port_low = 0;            // PortField range, inclusive
  uint16_t port_high = 65535;
  Cidr remote;
  // From a rule with domains: it admits the flow only once a name is known
  // (Decision::kPendingName), so every rule without domains outranks it.
  bool by_name = false;

  bool by_reference() const { return reference_bit >= 0; }
  // Open to the whole address space (untracked flows depend on it).
  // A rule with domains is never open: it must not outrank the others.
  bool open() const {
    return !by_reference() && remote.prefix_length == 0 && !by_name;
  }
  // Ranks entries within a lane (lower first) as result() ranks them across
  // lanes: open, then outright, then by name.
  int rank() const { return open() ? 0 : by_name ? 2 : 1; }
  uint32_t result() const {
    return (rule_id + 1) | (open() ? kOpenResult : 0) |
           (by_name ? 0 : kOutrightResult);
  }
  std::string Describe() const;
  bool operator==(const MatchEntry&) const = default;
};

// Lanes [first, first + count) of one group in one (family, direction);
// count 0: the group has no rule there, so its packets need no key.
struct LaneRange {
  uint32_t first = 0;
  uint32_t count = 0;
};

// How a policy is compiled for one node.
struct CompileOptions {
  // As `sgate --node`: empty enforces only interfaces without a node.
  std::string node;
  // True: a security-group reference expands to one entry per member
  // address (the naive way, members × rules entries: the rule side then
  // depends on members). Kept for the benchmark baseline and as a
  // cross-check in tests.
  bool expand_group_members = false;
};

struct RuleCompileOptions {
  // Bits of a lane's reference mask: a group referencing more groups in a
  // direction than this gets several lanes.
  uint32_t reference_bits = 32;
  bool expand_group_members = false;  // CompileOptions'
};

struct CompiledRules {
  std::vector<std::string> groups;  // Policy::security_groups order = id
  // Whether some rule references each group (by id); only these count in
  // an address's member class.
  std::vector<bool> referenced;
  uint32_t reference_bits = 0;
  uint32_t mask_slots = 1;  // Lane::mask_slot values are below this
  // [family][direction]
  std::array<std::array<std::vector<Lane>, 2>, 2> lanes;
  std::array<std::array<std::vector<LaneRange>, 2>, 2> lanes_of_group;
  std::array<std::array<std::vector<MatchEntry>, 2>, 2> entries;

  const std::vector<MatchEntry>& Entries(Family family,
                                         Direction direction) const {
    return entries[static_cast<int>(family)][static_cast<int>(direction)];
  }
  const std::vector<Lane>& Lanes(Family family, Direction direction) const {
    return lanes[static_cast<int>(family)][static_cast<int>(direction)];
  }
  uint32_t GroupId(absl::string_view name) const;  // UINT32_MAX: none
  size_t EntryCount() const;
};

// Fails (InvalidArgument) when a name is undefined or a limit above is
// exceeded; a policy from FinalizePolicy only fails on the limits.
absl::StatusOr<CompiledRules> CompileRules(const Policy& policy,
                                           const RuleCompileOptions& options);

// Everything the rule side is compiled from (the groups in order with their
// rules, the prefix lists), as one string: two policies with equal
// fingerprints compile to equal rule sides, whatever their interfaces.
std::string RuleSideFingerprint(const Policy& policy);

// An interface enforced on this node, with its groups.
struct CompiledInterface {
  std::string name;
  std::optional<uint16_t> vlan;
  std::vector<IpAddress> addresses;
  std::vector<uint32_t> groups;  // CompiledRules group ids
};

// A member address of some referenced group, and its class: the id of the
// exact set of referenced groups the address belongs to (any node, any
// VLAN).
struct MemberAddress {
  IpAddress address;
  uint32_t member_class = 0;
};

struct CompiledAddresses {
  UnknownInterfaceAction unknown_interface = UnknownInterfaceAction::kDrop;
  std::vector<CompiledInterface> interfaces;  // in Policy::interfaces order
  std::vector<MemberAddress> members;
  // Class id → the referenced groups (ids) of its addresses; class 0 is
  // "a member of no referenced group" (most remote addresses).
  std::vector<std::vector<uint32_t>> member_classes = {{}};
};

// `rules` must come from the same policy's rule side (equal fingerprints).
absl::StatusOr<CompiledAddresses> CompileAddresses(const Policy& policy,
                                                   const CompiledRules& rules,
                                                   const std::string& node);

}  // namespace sgate::rules

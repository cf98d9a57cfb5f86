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

// The platform-neutral half of the rule compiler (rules/README.md): a
// finalised Policy and a node name in, flat match entries out. The DPDK
// backend (RuleTable) only loads these into rte_fib and rte_acl; anything
// about semantics (AWS defaults, ports, ICMP, references) is decided here.

// Group-set ids and address classes are 16-bit ACL fields.
inline constexpr uint32_t kMaxGroupSets = 65535;
inline constexpr uint32_t kMaxAddressClasses = 65535;
// Class 0: "a member of no referenced group" (most remote addresses).
inline constexpr uint16_t kNoAddressClass = 0;

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

// One expanded rule of one (family, direction): every field is a plain
// match, so a linear scan over these entries is already a correct
// classifier (the benchmark baseline).
struct MatchEntry {
  uint32_t rule_id = 0;     // Policy::rules() index of the rule it came from
  uint16_t group_set = 0;   // exact
  int16_t protocol = kProtocolAll;  // kProtocolAll or an exact 0..255
  uint16_t port_low = 0;    // PortField range, inclusive
  uint16_t port_high = 65535;
  // The remote side is either a prefix or, for a security-group reference
  // compiled with address classes, one class (then `remote` is unused).
  bool by_class = false;
  uint16_t address_class = kNoAddressClass;
  Cidr remote;

  std::string Describe() const;
};

// An interface enforced on this node, with its compiled group set.
struct CompiledInterface {
  std::string name;
  std::optional<uint16_t> vlan;
  std::vector<IpAddress> addresses;
  uint16_t group_set = 0;
};

// A member address of some referenced group, and its class: the id of the
// exact set of referenced groups the address belongs to (any node, any VLAN).
struct AddressClassEntry {
  IpAddress address;
  uint16_t address_class = kNoAddressClass;
};

struct CompileOptions {
  // As `sgate --node`: empty enforces only interfaces without a node.
  std::string node;
  // True: a security-group reference expands to one entry per member
  // address (the naive way, members × rules entries). Kept for the
  // benchmark baseline and as a cross-check in tests.
  bool expand_group_members = false;
};

struct CompiledPolicy {
  UnknownInterfaceAction unknown_interface = UnknownInterfaceAction::kDrop;
  // Index = group-set id; each a sorted list of group names.
  std::vector<std::vector<std::string>> group_sets;
  std::vector<CompiledInterface> interfaces;  // in Policy::interfaces order
  std::vector<AddressClassEntry> address_classes;
  uint32_t address_class_count = 0;  // classes are 1..count
  // [family][direction] (Family and Direction as integers).
  std::array<std::array<std::vector<MatchEntry>, 2>, 2> entries;

  const std::vector<MatchEntry>& Entries(Family family,
                                         Direction direction) const {
    return entries[static_cast<int>(family)][static_cast<int>(direction)];
  }
  size_t EntryCount() const;
};

// Fails (InvalidArgument) when a name is undefined or a limit above is
// exceeded; a policy from FinalizePolicy only fails on the limits.
absl::StatusOr<CompiledPolicy> CompilePolicy(const Policy& policy,
                                             const CompileOptions& options = {});

}  // namespace sgate::rules

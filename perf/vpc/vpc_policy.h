#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

namespace sgate::perf {

// VPC-shaped policies (issue 13): one file describing a whole network, as
// every sgate node of a VPC is handed. Hundreds of groups that reference
// each other, thousands of interfaces each in its own mix of groups, most
// of them enforced on this node and some on others, both address families.
//
// The rules and the interfaces come from two seeds, so that a reload that
// only moves interfaces between groups (every VM start and stop) is the
// same shape with another `members_seed`.
struct VpcShape {
  std::string name = "vpc";
  int groups = 300;
  int interfaces = 1500;
  // Interfaces without a `node` key (enforced by an sgate without --node);
  // the others live on "node-b" and are only members of their groups.
  int local_interfaces = 1000;
  int max_groups_per_interface = 5;  // each interface: 1 to this many
  // Rules per group, both directions: each group draws its own count
  // between half and one and a half times this.
  int rules_per_group = 50;
  uint64_t rules_seed = 1;
  uint64_t members_seed = 1;
};

// "vpc-15k": 300 groups, 1,500 interfaces (1,000 local), 1-5 groups each,
// ~50 rules per group (~15,000 rules). "vpc-50k": the same with ~170 rules
// per group. "vpc-small": 40 groups, 120 interfaces, ~12 rules per group,
// for the property test. Anything else: nullopt.
std::optional<VpcShape> VpcShapeNamed(absl::string_view name);

// The policy as a file would hold it (not finalised: no implicit groups or
// rule ids). About a sixth of the rules reference a group (each group
// draws from a few peers it talks to, itself often among them, popular
// groups more often), a twelfth a prefix list, the rest one or two CIDRs
// of either family, a few of them open to the world (0.0.0.0/0, ::/0).
rules::Policy GenerateVpcPolicy(const VpcShape& shape);

// GenerateVpcPolicy, finalised (rules::FinalizePolicy) as a loader would.
absl::StatusOr<rules::Policy> FinalizedVpcPolicy(const VpcShape& shape);

// `count` packets of `family` for a finalised VPC policy, as the
// classifier meets them: each from or to an interface enforced here (no
// --node), half aimed inside a random rule of one of its groups (its
// protocol, a port or ICMP type it allows, a remote in its CIDRs, prefix
// list or referenced group), half with a random remote, protocol and port.
std::vector<rules::PacketKey> VpcPackets(const rules::Policy& policy,
                                         rules::Family family, int count,
                                         uint64_t seed);

// The YAML text of a policy as GenerateVpcPolicy makes it (what
// `sgatectl check` and `sgate --policy` read).
std::string VpcPolicyYaml(const rules::Policy& policy);

}  // namespace sgate::perf

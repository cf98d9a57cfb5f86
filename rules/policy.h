#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "rules/diagnostics.h"
#include "rules/ip_address.h"
#include "rules/mac_address.h"
#include "rules/protocol.h"

namespace sgate::rules {

// The policy model of DESIGN.md §4, as loaded and validated. A Policy that
// came out of LoadPolicy/FinalizePolicy is complete: implicit groups and
// default egress rules are materialised and every rule has an id, so later
// stages (reference evaluator, compiler) never re-derive AWS defaults.

enum class Direction : uint8_t { kIngress, kEgress };
absl::string_view DirectionName(Direction direction);  // "ingress"/"egress"

// An ICMP type or code in a rule: -1 matches any value.
inline constexpr int kIcmpAny = -1;

enum class RemoteKind : uint8_t { kCidr, kPrefixList, kSecurityGroup };

struct Rule {
  int protocol = kProtocolAll;  // kProtocolAll or 0..255
  // Destination port range, inclusive; meaningful only if HasPorts(protocol).
  // Omitted or "all" is 0-65535.
  uint16_t port_low = 0;
  uint16_t port_high = 65535;
  // Meaningful only if HasIcmpFields(protocol); kIcmpAny or 0..255.
  int icmp_type = kIcmpAny;
  int icmp_code = kIcmpAny;

  RemoteKind remote_kind = RemoteKind::kCidr;
  std::vector<Cidr> cidrs;  // kCidr: one or more prefixes, any family mix
  std::string remote_name;  // kPrefixList / kSecurityGroup: the name

  std::string description;
  SourceLocation location;         // the rule itself
  SourceLocation remote_location;  // its cidr / prefix_list / security_group

  // Egress tcp rules only: the names a flow's first client payload (TLS
  // server_name, HTTP Host) must ask for, normalised (rules/domain_name.h).
  // A flow that only such rules allow waits for that name (README.md,
  // "Domain rules"). Empty: an ordinary rule.
  std::vector<std::string> domains;
  SourceLocation domains_location;               // the `domains` value
  std::vector<SourceLocation> domain_locations;  // each name

  // Filled by FinalizePolicy: the rule's index in Policy::rules(), and the
  // id of its first domain (domains[i] is domain first_domain_id + i, an
  // index into Policy::domain_rules()).
  uint32_t id = 0;
  uint32_t first_domain_id = 0;

  bool has_domains() const { return !domains.empty(); }

  // "tcp 443 from 0.0.0.0/0", "icmp type 8 code any from pl-corp",
  // "tcp port 443 to 0.0.0.0/0 domains api.github.com,*.amazonaws.com" ...
  std::string Describe(Direction direction) const;
};

struct SecurityGroup {
  std::string name;
  std::string description;
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
  // True when `egress` was omitted: FinalizePolicy then adds the AWS default
  // allow-all egress rule (egress: [] means no egress rule at all).
  bool egress_omitted = true;
  // True for the `default` group sgate defines when the file does not.
  bool implicit = false;
  SourceLocation location;

  const std::vector<Rule>& rules(Direction d) const {
    return d == Direction::kIngress ? ingress : egress;
  }
  std::vector<Rule>& rules(Direction d) {
    return d == Direction::kIngress ? ingress : egress;
  }
};

struct Interface {
  std::string name;
  std::vector<IpAddress> addresses;
  // Omitted in the file = {"default"} (materialised by FinalizePolicy).
  std::vector<std::string> security_groups;
  std::optional<std::string> node;  // none: enforced on every node
  std::optional<uint16_t> vlan;     // none: the untagged address space
  SourceLocation location;
  // Where each address and group name was written, for diagnostics.
  std::vector<SourceLocation> address_locations;
  std::vector<SourceLocation> group_locations;
  // Operations (DESIGN.md §8): the source MACs it may send from (checked
  // with settings.anti_spoofing; none listed: not checked) and its own cap
  // on tracked flows, over settings.max_flows_per_interface.
  std::vector<MacAddress> macs;
  std::vector<SourceLocation> mac_locations;
  std::optional<uint32_t> max_flows;

  // Enforced by an sgate started with `--node node_name` (or without
  // --node when node_name is empty): interfaces of that node and those with
  // no node key.
  bool EnforcedOn(absl::string_view node_name) const {
    return !node.has_value() || *node == node_name;
  }
};

enum class UnknownInterfaceAction : uint8_t { kDrop, kPass };

// What sgate does to a flow whose name domain rules deny
// (settings.domain_reject): reset the client with a TCP RST so that it
// fails at once, or only drop its packets.
enum class DomainReject : uint8_t { kRst, kDrop };

// Idle timeouts in seconds (AWS defaults).
struct Timeouts {
  uint32_t tcp_established = 432000;
  uint32_t tcp_transitory = 60;
  uint32_t udp = 30;
  uint32_t udp_stream = 180;
  uint32_t icmp = 60;
  uint32_t other = 600;
};

// Flow logs (settings.flow_logs; `sgate --flow-log FILE` sets the path):
// VPC Flow Logs version 2 records of the flows sgate accepts and the
// packets it rejects, aggregated over `interval` seconds.
struct FlowLogSettings {
  std::string path;          // absolute
  uint32_t interval = 600;   // AWS offers 60 and 600; shorter for tests
  uint64_t max_size_mb = 1024;  // past it, records are skipped (SKIPDATA)
  SourceLocation location;   // of `path`, for errors found opening it
};

// The most MACs an interface may list: a NIC's own and a few virtual ones
// (VRRP, bonding) at most; each one is a compare per checked packet.
inline constexpr size_t kMaxMacsPerInterface = 8;

struct Settings {
  uint32_t max_flows = 1048576;
  UnknownInterfaceAction unknown_interface = UnknownInterfaceAction::kDrop;
  bool revalidate_on_change = false;
  uint32_t max_groups_per_interface = 5;  // AWS default; at most 16
  uint32_t max_rules_per_group = 60;      // per direction and family
  Timeouts timeouts;
  // Operations (DESIGN.md §8).
  std::optional<FlowLogSettings> flow_logs;
  std::string account_id = "-";  // flow logs' account-id field
  // Tracked flows per interface (AWS's connection allowance); an
  // interface's `max_flows` overrides it. None: no cap.
  std::optional<uint32_t> max_flows_per_interface;
  // Frames from the inside port whose source address belongs to an
  // interface must come from one of its `macs`.
  bool anti_spoofing = false;

  // The cap on `interface`'s tracked flows, if any.
  std::optional<uint32_t> FlowCap(const Interface& interface) const {
    return interface.max_flows ? interface.max_flows : max_flows_per_interface;
  }
  DomainReject domain_reject = DomainReject::kRst;
};

// Identifies a rule by position, for diagnostics and `trace`.
struct RuleRef {
  std::string group;
  Direction direction = Direction::kIngress;
  uint32_t index = 0;  // position within the group's direction list
};

struct PrefixList {
  std::string name;
  std::vector<Cidr> cidrs;
  SourceLocation location;
};

class Policy {
 public:
  int version = 1;
  Settings settings;
  // Ordered maps: iteration order (and so rule ids) is deterministic.
  std::map<std::string, PrefixList> prefix_lists;
  std::map<std::string, SecurityGroup> security_groups;
  std::map<std::string, Interface> interfaces;

  // Every rule, indexed by Rule::id. Built by FinalizePolicy.
  const std::vector<RuleRef>& rules() const { return rules_; }
  const Rule& rule(uint32_t id) const;
  // The rule of every domain, indexed by domain id (Rule::first_domain_id).
  const std::vector<uint32_t>& domain_rules() const { return domain_rules_; }
  // Domain `domain_id` as written in its rule (normalised).
  const std::string& domain(uint32_t domain_id) const;

  // The interfaces (any node) that are members of `group`.
  std::vector<const Interface*> Members(absl::string_view group) const;

 private:
  friend void AssignRuleIds(Policy& policy);
  std::vector<RuleRef> rules_;
  std::vector<uint32_t> domain_rules_;
};

// Numbers every rule in (group name, ingress then egress, index) order,
// and every domain in rule order.
void AssignRuleIds(Policy& policy);

}  // namespace sgate::rules

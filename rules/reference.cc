#include "rules/reference.h"

#include <algorithm>

#include "rules/domain_name.h"

namespace sgate::rules {

Reference::Reference(const Policy& policy, std::string node)
    : policy_(policy), node_(std::move(node)) {}

const Interface* Reference::FindInterface(const IpAddress& address,
                                          std::optional<uint16_t> vlan) const {
  for (const auto& [name, interface] : policy_.interfaces) {
    if (!interface.EnforcedOn(node_) || interface.vlan != vlan) continue;
    for (const IpAddress& a : interface.addresses) {
      if (a == address) return &interface;
    }
  }
  return nullptr;
}

bool Reference::RemoteMatches(const Rule& rule,
                              const IpAddress& remote) const {
  switch (rule.remote_kind) {
    case RemoteKind::kCidr:
      for (const Cidr& cidr : rule.cidrs) {
        if (cidr.Contains(remote)) return true;
      }
      return false;
    case RemoteKind::kPrefixList:
      for (const Cidr& cidr : policy_.prefix_lists.at(rule.remote_name).cidrs) {
        if (cidr.Contains(remote)) return true;
      }
      return false;
    case RemoteKind::kSecurityGroup:
      // Members on every node count, in any VLAN (DESIGN.md §3).
      for (const Interface* member : policy_.Members(rule.remote_name)) {
        for (const IpAddress& a : member->addresses) {
          if (a == remote) return true;
        }
      }
      return false;
  }
  return false;
}

bool Reference::RuleAllows(const Rule& rule, const PacketKey& packet) const {
  if (rule.protocol != kProtocolAll && rule.protocol != packet.protocol) {
    return false;
  }
  // A rule for a protocol with ports matches the destination port only; a
  // rule for `all` has no ports and matches every port.
  if (HasPorts(rule.protocol) &&
      (packet.dst_port < rule.port_low || packet.dst_port > rule.port_high)) {
    return false;
  }
  if (HasIcmpFields(rule.protocol)) {
    if (rule.icmp_type != kIcmpAny && rule.icmp_type != packet.icmp_type) {
      return false;
    }
    if (rule.icmp_code != kIcmpAny && rule.icmp_code != packet.icmp_code) {
      return false;
    }
  }
  return RemoteMatches(rule, packet.remote);
}

Verdict Reference::Evaluate(const PacketKey& packet) const {
  Verdict verdict;
  verdict.interface = FindInterface(packet.local, packet.vlan);
  if (verdict.interface == nullptr) {
    bool pass =
        policy_.settings.unknown_interface == UnknownInterfaceAction::kPass;
    verdict.allowed = pass;
    verdict.decision = pass ? Decision::kUnknownInterfacePassed
                            : Decision::kUnknownInterfaceDropped;
    return verdict;
  }
  // Union over every rule of every group of the interface: order-free. A
  // rule with domains allows only once a name is known, so it counts only
  // when no rule without them allows the packet.
  std::vector<uint32_t> named;
  for (const std::string& group_name : verdict.interface->security_groups) {
    const SecurityGroup& group = policy_.security_groups.at(group_name);
    for (const Rule& rule : group.rules(packet.direction)) {
      if (!RuleAllows(rule, packet)) continue;
      (rule.has_domains() ? named : verdict.matching_rules).push_back(rule.id);
    }
  }
  const bool pending = verdict.matching_rules.empty() && !named.empty();
  if (pending) verdict.matching_rules = std::move(named);
  std::sort(verdict.matching_rules.begin(), verdict.matching_rules.end());
  verdict.matching_rules.erase(
      std::unique(verdict.matching_rules.begin(), verdict.matching_rules.end()),
      verdict.matching_rules.end());
  verdict.allowed = !pending && !verdict.matching_rules.empty();
  verdict.decision = pending            ? Decision::kPendingName
                     : verdict.allowed ? Decision::kAllowedByRule
                                       : Decision::kNoRuleMatched;
  return verdict;
}

Verdict Reference::EvaluateNamed(const PacketKey& packet,
                                 absl::string_view name) const {
  Verdict verdict = Evaluate(packet);
  if (verdict.decision != Decision::kPendingName) return verdict;
  std::vector<uint32_t> admitting;
  if (IsHostName(name)) {
    for (uint32_t id : verdict.matching_rules) {
      const Rule& rule = policy_.rule(id);
      bool admits = false;
      for (size_t i = 0; i < rule.domains.size(); ++i) {
        if (DomainMatches(rule.domains[i], name)) {
          verdict.matching_domains.push_back(rule.first_domain_id + i);
          admits = true;
        }
      }
      if (admits) admitting.push_back(id);
    }
  }
  if (admitting.empty()) {
    verdict.decision = Decision::kNameNotAllowed;
    return verdict;
  }
  verdict.matching_rules = admitting;
  verdict.allowed = true;
  verdict.decision = Decision::kAllowedByRule;
  return verdict;
}

}  // namespace sgate::rules

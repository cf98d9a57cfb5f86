#include "rules/untracked.h"

namespace sgate::rules {
namespace {

// The families for which `rule`'s remote is the whole address space. A rule
// with domains admits by name, not by address: it never counts.
uint8_t ToAllFamilies(const Policy& policy, const Rule& rule) {
  if (rule.has_domains()) return 0;
  const std::vector<Cidr>* cidrs = &rule.cidrs;
  if (rule.remote_kind == RemoteKind::kPrefixList) {
    cidrs = &policy.prefix_lists.at(rule.remote_name).cidrs;
  } else if (rule.remote_kind == RemoteKind::kSecurityGroup) {
    return 0;
  }
  uint8_t families = 0;
  for (const Cidr& c : *cidrs) {
    if (c.prefix_length == 0) families |= 1u << static_cast<int>(c.address.family);
  }
  return families;
}

bool AllPorts(const Rule& rule) {
  return rule.protocol == kProtocolAll ||
         (rule.port_low == 0 && rule.port_high == 65535);
}

}  // namespace

uint8_t UntrackedFlows::Bit(Family family, Direction direction,
                            int protocol) {
  int index = static_cast<int>(family) * 4 + static_cast<int>(direction) * 2 +
              (protocol == kProtocolUdp ? 1 : 0);
  return static_cast<uint8_t>(1u << index);
}

UntrackedFlows::UntrackedFlows(const Policy& policy,
                               const std::vector<std::string>& interfaces)
    : rule_to_all_(policy.rules().size()), open_(interfaces.size()) {
  for (uint32_t id = 0; id < policy.rules().size(); ++id) {
    rule_to_all_[id] = ToAllFamilies(policy, policy.rule(id));
  }
  for (size_t i = 0; i < interfaces.size(); ++i) {
    const Interface& interface = policy.interfaces.at(interfaces[i]);
    uint8_t open = 0;
    for (const std::string& group_name : interface.security_groups) {
      const SecurityGroup& group = policy.security_groups.at(group_name);
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        for (const Rule& rule : group.rules(d)) {
          if (!AllPorts(rule)) continue;
          uint8_t families = rule_to_all_[rule.id];
          for (Family f : {Family::kIPv4, Family::kIPv6}) {
            if (!(families & (1u << static_cast<int>(f)))) continue;
            for (int protocol : {int{kProtocolTcp}, int{kProtocolUdp}}) {
              if (rule.protocol == kProtocolAll || rule.protocol == protocol) {
                open |= Bit(f, d, protocol);
              }
            }
          }
        }
      }
    }
    open_[i] = open;
  }
}

bool UntrackedFlows::IsUntracked(uint32_t interface, Direction direction,
                                 Family family, int protocol,
                                 uint32_t rule_id) const {
  if (protocol != kProtocolTcp && protocol != kProtocolUdp) return false;
  if (rule_id >= rule_to_all_.size() ||
      !(rule_to_all_[rule_id] & (1u << static_cast<int>(family)))) {
    return false;
  }
  if (interface >= open_.size()) return false;
  Direction other = direction == Direction::kIngress ? Direction::kEgress
                                                     : Direction::kIngress;
  return (open_[interface] & Bit(family, other, protocol)) != 0;
}

}  // namespace sgate::rules

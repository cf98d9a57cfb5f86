#pragma once

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "rules/policy.h"

namespace sgate::testing {

// The first difference between two policies in what they mean, or "" when
// they are equal: every field but the source locations (where a value was
// written is not part of the policy). For round-trip tests of
// rules::WritePolicy* and of the fleet's assembly.
inline std::string PolicyDifference(const rules::Policy& a,
                                    const rules::Policy& b) {
  using rules::Direction;
  auto differ = [](const std::string& what) {
    return absl::StrCat(what, " differs");
  };
  if (a.version != b.version) return differ("version");
  const rules::Settings& sa = a.settings;
  const rules::Settings& sb = b.settings;
  if (sa.max_flows != sb.max_flows) return differ("settings.max_flows");
  if (sa.unknown_interface != sb.unknown_interface) {
    return differ("settings.unknown_interface");
  }
  if (sa.revalidate_on_change != sb.revalidate_on_change) {
    return differ("settings.revalidate_on_change");
  }
  if (sa.max_groups_per_interface != sb.max_groups_per_interface ||
      sa.max_rules_per_group != sb.max_rules_per_group) {
    return differ("settings quotas");
  }
  const rules::Timeouts& ta = sa.timeouts;
  const rules::Timeouts& tb = sb.timeouts;
  if (ta.tcp_established != tb.tcp_established ||
      ta.tcp_transitory != tb.tcp_transitory || ta.udp != tb.udp ||
      ta.udp_stream != tb.udp_stream || ta.icmp != tb.icmp ||
      ta.other != tb.other) {
    return differ("settings.timeouts");
  }
  if (sa.flow_logs.has_value() != sb.flow_logs.has_value() ||
      (sa.flow_logs && (sa.flow_logs->path != sb.flow_logs->path ||
                        sa.flow_logs->interval != sb.flow_logs->interval ||
                        sa.flow_logs->max_size_mb !=
                            sb.flow_logs->max_size_mb))) {
    return differ("settings.flow_logs");
  }
  if (sa.account_id != sb.account_id ||
      sa.max_flows_per_interface != sb.max_flows_per_interface ||
      sa.anti_spoofing != sb.anti_spoofing ||
      sa.domain_reject != sb.domain_reject) {
    return differ("settings (operations)");
  }
  if (a.prefix_lists.size() != b.prefix_lists.size()) {
    return differ("the number of prefix lists");
  }
  for (const auto& [name, list] : a.prefix_lists) {
    auto it = b.prefix_lists.find(name);
    if (it == b.prefix_lists.end()) return differ("prefix list " + name);
    if (it->second.name != list.name || it->second.cidrs != list.cidrs) {
      return differ("prefix_lists." + name);
    }
  }
  if (a.security_groups.size() != b.security_groups.size()) {
    return differ("the number of security groups");
  }
  for (const auto& [name, group] : a.security_groups) {
    auto it = b.security_groups.find(name);
    if (it == b.security_groups.end()) return differ("group " + name);
    const rules::SecurityGroup& other = it->second;
    std::string what = "security_groups." + name;
    if (group.name != other.name || group.description != other.description ||
        group.egress_omitted != other.egress_omitted ||
        group.implicit != other.implicit) {
      return differ(what);
    }
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const auto& ra = group.rules(d);
      const auto& rb = other.rules(d);
      std::string list = absl::StrCat(what, ".", rules::DirectionName(d));
      if (ra.size() != rb.size()) return differ(list + " length");
      for (size_t i = 0; i < ra.size(); ++i) {
        const rules::Rule& x = ra[i];
        const rules::Rule& y = rb[i];
        if (x.protocol != y.protocol || x.port_low != y.port_low ||
            x.port_high != y.port_high || x.icmp_type != y.icmp_type ||
            x.icmp_code != y.icmp_code || x.remote_kind != y.remote_kind ||
            x.cidrs != y.cidrs || x.remote_name != y.remote_name ||
            x.description != y.description || x.id != y.id ||
            x.domains != y.domains) {
          return differ(absl::StrCat(list, "[", i, "]"));
        }
      }
    }
  }
  if (a.interfaces.size() != b.interfaces.size()) {
    return differ("the number of interfaces");
  }
  for (const auto& [name, interface] : a.interfaces) {
    auto it = b.interfaces.find(name);
    if (it == b.interfaces.end()) return differ("interface " + name);
    const rules::Interface& other = it->second;
    if (interface.name != other.name ||
        interface.addresses != other.addresses ||
        interface.security_groups != other.security_groups ||
        interface.node != other.node || interface.vlan != other.vlan ||
        interface.max_flows != other.max_flows ||
        !std::equal(interface.macs.begin(), interface.macs.end(),
                    other.macs.begin(), other.macs.end(),
                    [](const rules::MacAddress& x, const rules::MacAddress& y) {
                      return x.bytes == y.bytes;
                    })) {
      return differ("interfaces." + name);
    }
  }
  if (a.rules().size() != b.rules().size()) return differ("rule ids");
  for (size_t i = 0; i < a.rules().size(); ++i) {
    const rules::RuleRef& x = a.rules()[i];
    const rules::RuleRef& y = b.rules()[i];
    if (x.group != y.group || x.direction != y.direction ||
        x.index != y.index) {
      return differ(absl::StrCat("rule id ", i));
    }
  }
  return "";
}

}  // namespace sgate::testing

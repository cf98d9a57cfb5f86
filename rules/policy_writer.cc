#include "rules/policy_writer.h"

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace sgate::rules {
namespace {

// Plain when that reads back as the same text, quoted otherwise: yaml-cpp's
// emitter quotes "null", "~", ": ", a leading space... (the loader reads
// every scalar as text, so "yes" or "80" may stay plain).
void EmitString(YAML::Emitter& out, const std::string& text) { out << text; }

void EmitCidrs(YAML::Emitter& out, const std::vector<Cidr>& cidrs) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const Cidr& c : cidrs) out << c.ToString();
  out << YAML::EndSeq;
}

// The operations keys (flow logs, caps, anti-spoofing) and domain_reject,
// inside the settings map, again only where they differ from the defaults.
void EmitOperationsSettings(YAML::Emitter& out, const Settings& s) {
  const Settings d;
  if (s.flow_logs) {
    const FlowLogSettings& logs = *s.flow_logs;
    const FlowLogSettings dl;
    out << YAML::Key << "flow_logs" << YAML::Value << YAML::Flow
        << YAML::BeginMap << YAML::Key << "path" << YAML::Value;
    EmitString(out, logs.path);
    if (logs.interval != dl.interval) {
      out << YAML::Key << "interval" << YAML::Value << logs.interval;
    }
    if (logs.max_size_mb != dl.max_size_mb) {
      out << YAML::Key << "max_size_mb" << YAML::Value << logs.max_size_mb;
    }
    out << YAML::EndMap;
  }
  if (s.account_id != d.account_id) {
    out << YAML::Key << "account_id" << YAML::Value
        << YAML::DoubleQuoted << s.account_id;
  }
  if (s.max_flows_per_interface) {
    out << YAML::Key << "max_flows_per_interface" << YAML::Value
        << *s.max_flows_per_interface;
  }
  if (s.domain_reject != d.domain_reject) {
    out << YAML::Key << "domain_reject" << YAML::Value
        << (s.domain_reject == DomainReject::kDrop ? "drop" : "rst");
  }
  if (s.anti_spoofing != d.anti_spoofing) {
    out << YAML::Key << "anti_spoofing" << YAML::Value
        << (s.anti_spoofing ? "true" : "false");
  }
}

// Only the values that differ from the defaults: `{}` for a policy that
// sets none.
void EmitSettings(YAML::Emitter& out, const Settings& s) {
  const Settings d;
  out << YAML::BeginMap;
  if (s.max_flows != d.max_flows) {
    out << YAML::Key << "max_flows" << YAML::Value << s.max_flows;
  }
  if (s.unknown_interface != d.unknown_interface) {
    out << YAML::Key << "unknown_interface" << YAML::Value
        << (s.unknown_interface == UnknownInterfaceAction::kPass ? "pass"
                                                                 : "drop");
  }
  if (s.revalidate_on_change != d.revalidate_on_change) {
    out << YAML::Key << "revalidate_on_change" << YAML::Value
        << (s.revalidate_on_change ? "true" : "false");
  }
  if (s.max_groups_per_interface != d.max_groups_per_interface) {
    out << YAML::Key << "max_groups_per_interface" << YAML::Value
        << s.max_groups_per_interface;
  }
  if (s.max_rules_per_group != d.max_rules_per_group) {
    out << YAML::Key << "max_rules_per_group" << YAML::Value
        << s.max_rules_per_group;
  }
  const Timeouts& t = s.timeouts;
  const Timeouts& dt = d.timeouts;
  const std::pair<const char*, uint32_t> timeouts[] = {
      {"tcp_established",
       t.tcp_established != dt.tcp_established ? t.tcp_established : 0},
      {"tcp_transitory",
       t.tcp_transitory != dt.tcp_transitory ? t.tcp_transitory : 0},
      {"udp", t.udp != dt.udp ? t.udp : 0},
      {"udp_stream", t.udp_stream != dt.udp_stream ? t.udp_stream : 0},
      {"icmp", t.icmp != dt.icmp ? t.icmp : 0},
      {"other", t.other != dt.other ? t.other : 0},
  };
  bool any_timeout = false;
  for (const auto& [name, value] : timeouts) any_timeout |= value != 0;
  if (any_timeout) {
    out << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : timeouts) {
      // 0 is below every timeout's minimum: it stands for "the default".
      if (value != 0) out << YAML::Key << name << YAML::Value << value;
    }
    out << YAML::EndMap;
  }
  EmitOperationsSettings(out, s);
  out << YAML::EndMap;
}

// One rule on one line: {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}.
void EmitRule(YAML::Emitter& out, const Rule& rule) {
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "protocol" << YAML::Value << ProtocolName(rule.protocol);
  if (HasPorts(rule.protocol) &&
      !(rule.port_low == 0 && rule.port_high == 65535)) {
    out << YAML::Key << "ports" << YAML::Value
        << (rule.port_low == rule.port_high
                ? absl::StrCat(rule.port_low)
                : absl::StrCat(rule.port_low, "-", rule.port_high));
  }
  if (HasIcmpFields(rule.protocol) && rule.icmp_type != kIcmpAny) {
    out << YAML::Key << "icmp_type" << YAML::Value << rule.icmp_type;
    if (rule.icmp_code != kIcmpAny) {
      out << YAML::Key << "icmp_code" << YAML::Value << rule.icmp_code;
    }
  }
  switch (rule.remote_kind) {
    case RemoteKind::kCidr:
      out << YAML::Key << "cidr" << YAML::Value;
      if (rule.cidrs.size() == 1) {
        out << rule.cidrs[0].ToString();
      } else {
        EmitCidrs(out, rule.cidrs);
      }
      break;
    case RemoteKind::kPrefixList:
      out << YAML::Key << "prefix_list" << YAML::Value;
      EmitString(out, rule.remote_name);
      break;
    case RemoteKind::kSecurityGroup:
      out << YAML::Key << "security_group" << YAML::Value;
      EmitString(out, rule.remote_name);
      break;
  }
  if (rule.has_domains()) {
    out << YAML::Key << "domains" << YAML::Value << YAML::Flow
        << YAML::BeginSeq;
    for (const std::string& domain : rule.domains) EmitString(out, domain);
    out << YAML::EndSeq;
  }
  if (!rule.description.empty()) {
    out << YAML::Key << "description" << YAML::Value;
    EmitString(out, rule.description);
  }
  out << YAML::EndMap;
}

void EmitGroup(YAML::Emitter& out, const SecurityGroup& group) {
  out << YAML::BeginMap;
  if (!group.description.empty()) {
    out << YAML::Key << "description" << YAML::Value;
    EmitString(out, group.description);
  }
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    // An omitted egress is the AWS default, added again on loading; an
    // empty ingress is the same as none.
    if (d == Direction::kEgress ? group.egress_omitted
                                : group.ingress.empty()) {
      continue;
    }
    out << YAML::Key << std::string(DirectionName(d)) << YAML::Value;
    if (group.rules(d).empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;  // egress: []
      continue;
    }
    out << YAML::BeginSeq;
    for (const Rule& rule : group.rules(d)) EmitRule(out, rule);
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

// {addresses: [198.51.100.10], security_groups: [sg-web], node: host-b}
void EmitInterface(YAML::Emitter& out, const Interface& interface) {
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "addresses" << YAML::Value << YAML::Flow
      << YAML::BeginSeq;
  for (const IpAddress& a : interface.addresses) out << a.ToString();
  out << YAML::EndSeq;
  if (!interface.security_groups.empty()) {
    out << YAML::Key << "security_groups" << YAML::Value << YAML::Flow
        << YAML::BeginSeq;
    for (const std::string& g : interface.security_groups) EmitString(out, g);
    out << YAML::EndSeq;
  }
  if (interface.node) {
    out << YAML::Key << "node" << YAML::Value;
    EmitString(out, *interface.node);
  }
  if (interface.vlan) {
    out << YAML::Key << "vlan" << YAML::Value << *interface.vlan;
  }
  if (!interface.macs.empty()) {
    out << YAML::Key << "macs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const MacAddress& mac : interface.macs) out << mac.ToString();
    out << YAML::EndSeq;
  }
  if (interface.max_flows) {
    out << YAML::Key << "max_flows" << YAML::Value << *interface.max_flows;
  }
  out << YAML::EndMap;
}

template <typename EmitBody>
std::string ObjectText(EmitBody emit) {
  YAML::Emitter out;
  emit(out);
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace

std::vector<PolicyObjectYaml> WritePolicyObjects(const Policy& policy) {
  std::vector<PolicyObjectYaml> objects;
  objects.push_back(
      {PolicySection::kSettings, "", ObjectText([&](YAML::Emitter& out) {
         EmitSettings(out, policy.settings);
       })});
  for (const auto& [name, list] : policy.prefix_lists) {
    objects.push_back(
        {PolicySection::kPrefixLists, name,
         ObjectText([&](YAML::Emitter& out) { EmitCidrs(out, list.cidrs); })});
  }
  for (const auto& [name, group] : policy.security_groups) {
    if (group.implicit) continue;
    objects.push_back(
        {PolicySection::kSecurityGroups, name,
         ObjectText([&](YAML::Emitter& out) { EmitGroup(out, group); })});
  }
  for (const auto& [name, interface] : policy.interfaces) {
    objects.push_back(
        {PolicySection::kInterfaces, name, ObjectText([&](YAML::Emitter& out) {
           EmitInterface(out, interface);
         })});
  }
  return objects;
}

std::string WritePolicyYaml(const Policy& policy) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << 1;
  out << YAML::Key << "settings" << YAML::Value;
  EmitSettings(out, policy.settings);
  auto section = [&](const char* key, const auto& map, auto emit, auto skip) {
    bool any = false;
    for (const auto& [name, object] : map) any |= !skip(object);
    if (!any) return;
    out << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (const auto& [name, object] : map) {
      if (skip(object)) continue;
      out << YAML::Key;
      EmitString(out, name);
      out << YAML::Value;
      emit(out, object);
    }
    out << YAML::EndMap;
  };
  auto never = [](const auto&) { return false; };
  section(
      "prefix_lists", policy.prefix_lists,
      [](YAML::Emitter& o, const PrefixList& l) { EmitCidrs(o, l.cidrs); },
      never);
  section("security_groups", policy.security_groups, EmitGroup,
          [](const SecurityGroup& g) { return g.implicit; });
  section("interfaces", policy.interfaces, EmitInterface, never);
  out << YAML::EndMap;
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace sgate::rules
